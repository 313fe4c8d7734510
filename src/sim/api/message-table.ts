/**
 * The simulator's message table: every message of the VPP 26.10 .api.json set with its id
 * (message-table-data.ts, made by scripts/gen-sim-msgtable.mjs), and the sockclnt_create_reply
 * that carries it, encoded once with the generated codec.
 */
import { messages } from '../../binapi/generated/index.js';
import { EMIT_ORDER, MESSAGE_TABLE } from './message-table-data.js';

/** sockclnt_create and its reply have fixed ids: clients send 15 before they know any table. */
export const SOCKCLNT_CREATE_ID = 15;
export const SOCKCLNT_CREATE_REPLY_ID = 16;

/** Body offsets of sockclnt_create_reply's fields (u16 id, u32 client_index, u32 context, ...). */
const REPLY_CONTEXT_AT = 6;
const REPLY_INDEX_AT = 14;

export class MessageTable {
  private readonly byName: ReadonlyMap<string, number>;
  private readonly template: Buffer;

  /**
   * @param names `<name>_<crc>` of id i + 1
   * @param order the ids in the order the reply lists them (VPP's is a hash walk); by id if absent
   */
  constructor(
    readonly names: readonly string[] = MESSAGE_TABLE,
    order: readonly number[] = names === MESSAGE_TABLE ? EMIT_ORDER : names.map((_, i) => i + 1),
  ) {
    this.byName = new Map(names.map((n, i) => [n, i + 1]));
    if (this.idOf(messages.sockclnt_create.nameCrc) !== SOCKCLNT_CREATE_ID || this.idOf(messages.sockclnt_create_reply.nameCrc) !== SOCKCLNT_CREATE_REPLY_ID) {
      throw new Error('message table: sockclnt_create must be id 15 and its reply 16');
    }
    this.template = messages.sockclnt_create_reply.encode(
      {
        client_index: 0,
        context: 0,
        response: 0,
        index: 0,
        message_table: order.map((id) => ({ index: id, name: names[id - 1] })),
      },
      SOCKCLNT_CREATE_REPLY_ID,
    );
  }

  /** The highest id (ids are 1..size). */
  get size(): number {
    return this.names.length;
  }

  /** The id of `<name>_<crc>`, undefined when the table has no such message. */
  idOf(nameCrc: string): number | undefined {
    return this.byName.get(nameCrc);
  }

  /** `<name>_<crc>` of an id. */
  nameOf(id: number): string | undefined {
    return id >= 1 ? this.names[id - 1] : undefined;
  }

  /** A sockclnt_create_reply body for one client (a copy of the pre-encoded table). */
  createReply(context: number, index: number): Buffer {
    const b = Buffer.from(this.template);
    b.writeUInt32BE(context >>> 0, REPLY_CONTEXT_AT);
    b.writeUInt32BE(index >>> 0, REPLY_INDEX_AT);
    return b;
  }
}
