/**
 * The control API's errors and how each becomes an HTTP answer `{error, message, ...}`. VPP's
 * own errors keep VPP's retval name as `error` (e.g. NO_SUCH_FIB) and the number as `retval`.
 *
 *   HttpError            400 bad_request, 401 unauthorized, 404 not_found, ... (ours)
 *   VppApiError          409 (the state conflicts: address in use, already exists),
 *                        404 (INVALID_SW_IF_INDEX: the interface went away meanwhile),
 *                        503 (retriable: QUEUE_FULL, BUSY, EAGAIN, ...), else 422
 *   ConnectionError      503 vpp_unavailable (not connected, timed out, message unavailable)
 *   anything else        500 internal (logged; the answer never carries a stack trace)
 */
import { ConnectionError, VppApiError, isCodecError } from '../binapi/index.js';
import { PrefixError } from './prefix.js';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** More fields for the answer's body. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, extra?: Record<string, unknown>): HttpError => new HttpError(400, 'bad_request', message, extra);
export const notFound = (message: string): HttpError => new HttpError(404, 'not_found', message);

/** VPP retvals that mean "the state conflicts with the request". */
const CONFLICT = new Set([
  'ADDRESS_IN_USE',
  'DUPLICATE_IF_ADDRESS',
  'VALUE_EXIST',
  'ENTRY_ALREADY_EXISTS',
  'ADDRESS_FOUND_FOR_INTERFACE',
  'IF_ALREADY_EXISTS',
  'ADDRESS_NOT_DELETABLE',
  'RSRC_IN_USE',
  'INSTANCE_IN_USE',
  'UNEXPECTED_INTF_STATE',
  'SUBIF_ALREADY_EXISTS',
]);

const GONE = new Set(['INVALID_SW_IF_INDEX']);

/** Connection errors that mean "not now" rather than "the request is wrong". */
export interface ErrorAnswer {
  status: number;
  body: { error: string; message: string; [k: string]: unknown };
}

export function vppStatus(e: VppApiError): number {
  if (e.retriable) return 503;
  if (CONFLICT.has(e.vppName)) return 409;
  if (GONE.has(e.vppName)) return 404;
  return 422;
}

/** The answer for an error thrown by a handler; `internal` for anything unexpected. */
export function errorAnswer(e: unknown): ErrorAnswer {
  if (e instanceof HttpError) return { status: e.status, body: { error: e.code, message: e.message, ...e.extra } };
  if (e instanceof PrefixError) return { status: 400, body: { error: 'bad_request', message: e.message } };
  if (e instanceof VppApiError) {
    return { status: vppStatus(e), body: { error: e.vppName, message: e.message, retval: e.retval } };
  }
  if (e instanceof ConnectionError) {
    const unknownOutcome = e.code === 'TIMEOUT' || e.code === 'DISCONNECTED';
    return {
      status: 503,
      body: {
        error: e.code === 'MESSAGE_UNAVAILABLE' ? 'vpp_message_unavailable' : 'vpp_unavailable',
        message: `VPP API: ${e.message}${unknownOutcome ? ' (whether VPP applied the request is unknown)' : ''}`,
        retriable: e.retriable,
      },
    };
  }
  if (isCodecError(e)) return { status: 400, body: { error: 'bad_request', message: `a value does not fit VPP's field: ${e.message}` } };
  return { status: 500, body: { error: 'internal', message: 'internal error (see the exporter log)' } };
}

/** VPP's retval for the audit record: the number from VPP, or null when VPP did not answer one. */
export function auditRetval(e: unknown): number | null {
  return e instanceof VppApiError ? e.retval : null;
}

/** A short message for the audit record and logs. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
