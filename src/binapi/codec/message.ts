/**
 * What the generated code says about each message (src/binapi/generated/*.ts), and what the
 * connection layer needs to use it: the name and CRC that identify it in VPP's message table,
 * which header fields it carries, and its body codec.
 *
 * The message id is not here: VPP assigns ids per run (plugins get ranges in load order), so the
 * connection resolves `<name>_<crc without 0x>` in sockclnt_create_reply's table on every
 * connect and passes the id to encode(). decode() skips the id (the caller already read it with
 * readMsgId() to pick the descriptor).
 */
import type { Encoder } from './encoder.js';

export interface MessageDescriptor<T> {
  /** The message name from the .api file, e.g. `sw_interface_details`. */
  readonly name: string;
  /** The CRC from the .api.json, `0x` and 8 lowercase hex digits. */
  readonly crc: string;
  /** `<name>_<crc without 0x>`: the key in VPP's message table, e.g. `show_version_51077d14`. */
  readonly nameCrc: string;
  /** The API module that defines it, e.g. `interface`. */
  readonly module: string;
  /** The fields after `_vl_msg_id`, in wire order. */
  readonly fields: readonly string[];
  /** Has a `client_index` field (requests and events). */
  readonly hasClientIndex: boolean;
  /** Has a `context` field (requests, replies, details); events have none. */
  readonly hasContext: boolean;
  /** Has an `i32 retval` field (replies). */
  readonly hasRetval: boolean;
  /** The body size in bytes when every field is fixed-size, else null. */
  readonly fixedSize: number | null;
  /**
   * Where the u32 `context` starts in the body (2 in a reply, 6 after a request's client_index),
   * null when the message has none: a reply can be matched to its request before it is decoded.
   */
  readonly contextOffset: number | null;
  /** Where the i32 `retval` starts in the body, null when the message has none. */
  readonly retvalOffset: number | null;
  /** The body: the u16 message id, then the fields. */
  encode(message: T, msgId: number): Buffer;
  /**
   * The same bytes written at `e`'s current offset (it grows as needed): for a caller that
   * puts many messages into one buffer (the transport's output). `clientIndex` and `context`,
   * when given, are written instead of the message's own (messages without those fields ignore
   * them), so a request's fields need not be copied into a new value to add its header. Throws
   * CodecError, and may have written part of the body by then: the caller rolls back with
   * e.seek().
   */
  encodeInto(e: Encoder, message: T, msgId: number, clientIndex?: number, context?: number): void;
  /** A body (starting with its u16 message id) to the message; throws CodecError. */
  decode(body: Uint8Array): T;
}

/** A `service` entry of a module: the request, its reply, and for dumps/streams the details. */
export interface ServiceDescriptor {
  readonly request: string;
  /** The reply message, or null for requests VPP never answers (rx_thread_exit and the like). */
  readonly reply: string | null;
  /** A dump: the reply is a stream of messages (details), ended by a control_ping reply. */
  readonly stream: boolean;
  /** For `*_get` style services: the details message streamed before the final reply. */
  readonly streamMsg: string | null;
  /** Events enabled by this request (want_* services). */
  readonly events: readonly string[];
}
