/**
 * The one error class of the binary API codec. Every failure to encode or decode a message body
 * (truncated frame, garbage, a value that does not fit its wire type) is a CodecError with a code
 * from this closed table; nothing from Buffer's internals escapes the encoder or decoder.
 *
 * None of these is retriable: the same bytes or the same value fail the same way again.
 */
export const CODEC_ERROR_CODES = {
  TRUNCATED: 'the message ends before a field it declares',
  TRAILING_BYTES: 'bytes are left over after the last field of the message',
  INVALID_VALUE: 'a value does not fit its wire type',
  TOO_LONG: 'a string or byte array is longer than its field allows',
  LENGTH_MISMATCH: 'an array does not have the length its field declares',
} as const;

export type CodecErrorCode = keyof typeof CODEC_ERROR_CODES;

export class CodecError extends Error {
  readonly code: CodecErrorCode;
  /** Byte offset in the message body where the problem was found (-1 when not applicable). */
  readonly offset: number;
  /** The message or type being encoded or decoded, e.g. `sw_interface_details`. */
  readonly what: string;

  constructor(code: CodecErrorCode, what: string, offset: number, detail: string) {
    super(`${what}: ${CODEC_ERROR_CODES[code]} (${detail}${offset >= 0 ? `, at byte ${offset}` : ''})`);
    this.name = 'CodecError';
    this.code = code;
    this.offset = offset;
    this.what = what;
  }
}

export function isCodecError(e: unknown, code?: CodecErrorCode): e is CodecError {
  return e instanceof CodecError && (code === undefined || e.code === code);
}
