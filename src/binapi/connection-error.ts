/**
 * Why a request, a connection attempt or a connection failed: one class with a code from a
 * closed table (kafkajs src/protocol/error.js style). VPP's own answers (a non-zero retval) are
 * VppApiError from errors.ts; codec failures of our own request values are CodecError.
 */
export const CONNECTION_ERROR_CODES = {
  NOT_CONNECTED: { retriable: true, message: 'not connected to VPP' },
  DISCONNECTED: { retriable: true, message: 'the connection to VPP was lost before the reply' },
  TIMEOUT: { retriable: true, message: 'no reply from VPP in time' },
  CLOSED: { retriable: false, message: 'the client is closed' },
  HANDSHAKE: { retriable: true, message: 'sockclnt_create failed' },
  PROTOCOL: { retriable: true, message: 'VPP sent a frame that cannot be trusted; the connection is dropped' },
  UNRESPONSIVE: { retriable: true, message: 'VPP stopped answering; the connection is dropped' },
  MESSAGE_UNAVAILABLE: { retriable: false, message: 'the message is not usable with this VPP' },
  UNEXPECTED_REPLY: { retriable: false, message: 'VPP answered with a message of another type' },
  BAD_REQUEST: { retriable: false, message: 'the request cannot be sent this way' },
} as const;

export type ConnectionErrorCode = keyof typeof CONNECTION_ERROR_CODES;

export class ConnectionError extends Error {
  readonly code: ConnectionErrorCode;
  readonly retriable: boolean;
  /** The request (message name) it concerns, when it concerns one. */
  readonly request: string | null;
  /** The message without the code's general text. */
  readonly detail: string;

  constructor(code: ConnectionErrorCode, detail: string, options?: { cause?: unknown; request?: string }) {
    super(`${CONNECTION_ERROR_CODES[code].message}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectionError';
    this.code = code;
    this.retriable = CONNECTION_ERROR_CODES[code].retriable;
    this.request = options?.request ?? null;
    this.detail = detail;
  }
}

export function isConnectionError(e: unknown, code?: ConnectionErrorCode): e is ConnectionError {
  return e instanceof ConnectionError && (code === undefined || e.code === code);
}
