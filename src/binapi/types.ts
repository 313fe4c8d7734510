/**
 * The public API's types, derived from the generated messages by VPP's naming rules:
 *
 *   request  X        -> reply X_reply                 (request())
 *   dump     X_dump   -> details X_details, a stream   (dump(); ended by a control_ping)
 *   event    a message without a context field         (subscribe())
 *
 * The generated `services` table says the same at run time; a test checks that both agree for
 * every generated service, so a future .api with a different shape fails there and not here.
 */
import type { MessageName, MessageOf } from './generated/index.js';

/** Requests answered by one `<name>_reply`. */
export type RequestName = {
  [K in MessageName]: K extends `${string}_dump` ? never : `${K}_reply` extends MessageName ? K : never;
}[MessageName];

/** Old-style dumps: `<x>_dump` answered by a stream of `<x>_details`. */
export type DumpName = {
  [K in MessageName]: K extends `${infer B}_dump` ? (`${B}_details` extends MessageName ? K : never) : never;
}[MessageName];

/** Messages VPP sends without a context: events, delivered to subscribe(). */
export type EventName = {
  [K in MessageName]: MessageOf<K> extends { context: number } ? never : MessageOf<K> extends { client_index: number } ? K : never;
}[MessageName];

/** want_* requests: their subscription is re-made after every reconnect. */
export type WantName = Extract<RequestName, `want_${string}`>;

/**
 * What the caller gives: the message without the fields the connection fills in. A message with
 * nothing else (show_version) takes `{}`, and nothing more: `{}` as a type would accept anything.
 */
export type RequestFields<N extends MessageName> = [keyof Omit<MessageOf<N>, 'client_index' | 'context'>] extends [never]
  ? Record<string, never>
  : Omit<MessageOf<N>, 'client_index' | 'context'>;

export type ReplyName<N extends RequestName> = `${N}_reply` & MessageName;
export type ReplyOf<N extends RequestName> = MessageOf<ReplyName<N>>;

export type DetailsName<N extends DumpName> = N extends `${infer B}_dump` ? `${B}_details` & MessageName : never;
export type DetailsOf<N extends DumpName> = MessageOf<DetailsName<N>>;

export type EventOf<E extends EventName> = MessageOf<E>;
