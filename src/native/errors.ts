/**
 * The one error class that crosses the native boundary. The addon throws it with a code from a
 * closed set (native/statseg.h); `retriable` says whether the same call may succeed later.
 */
export const NATIVE_ERROR_CODES = {
  CONNECT: { retriable: true, message: 'the stats socket could not be reached' },
  RECV_FD: { retriable: true, message: 'the stats socket did not hand over a descriptor' },
  OPEN: { retriable: false, message: 'the segment image could not be opened' },
  MAP: { retriable: true, message: 'the segment could not be mapped' },
  VERSION: { retriable: false, message: 'unsupported stats segment version' },
  BAD_POINTER: { retriable: true, message: 'a pointer or length in the segment is out of bounds' },
  BUSY: { retriable: true, message: 'the segment stayed locked by VPP' },
  STALE: { retriable: true, message: 'the stats directory changed' },
  CLOSED: { retriable: false, message: 'the segment is closed' },
  INVALID_ARG: { retriable: false, message: 'bad argument' },
} as const;

export type NativeErrorCode = keyof typeof NATIVE_ERROR_CODES;

export class StatsError extends Error {
  readonly code: NativeErrorCode;
  readonly retriable: boolean;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'StatsError';
    const known = code in NATIVE_ERROR_CODES ? (code as NativeErrorCode) : 'INVALID_ARG';
    this.code = known;
    this.retriable = NATIVE_ERROR_CODES[known].retriable;
  }
}

export function isStatsError(e: unknown, code?: NativeErrorCode): e is StatsError {
  return e instanceof StatsError && (code === undefined || e.code === code);
}
