/**
 * What can go wrong talking to lakescout, as one error class with a `kind` and an actionable message.
 * The server answers every failure with the OpenAPI document's `ErrorBody` (`{"error": {code, message}}`);
 * anything else in front of it (a proxy's HTML page, uvicorn's plain-text 400) is shown as its first line.
 */
import type { ErrorBody } from './types';

export type ErrorKind =
  | 'unreachable'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'invalid'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'stream_broken'
  | 'server'
  | 'protocol'
  | 'cancelled';

export class LakescoutError extends Error {
  readonly kind: ErrorKind;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterSeconds?: number;
  /** The server's own message, when it sent one. */
  readonly serverMessage?: string;

  constructor(
    kind: ErrorKind,
    message: string,
    opts: { status?: number; code?: string; retryAfterSeconds?: number; serverMessage?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'LakescoutError';
    this.kind = kind;
    this.status = opts.status;
    this.code = opts.code;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.serverMessage = opts.serverMessage;
  }
}

export const SET_API_KEY_HINT = "Set the API key with 'lakescout: Set API key'.";
export const TIMEOUT_SETTING = 'lakescout.requestTimeoutMs';

export function unreachableMessage(baseUrl: string): string {
  return `lakescout server is not reachable at ${baseUrl}. Start it with \`lakescout serve\`.`;
}

export function brokenStreamMessage(gotAnswer: boolean): string {
  return gotAnswer
    ? 'The lakescout stream ended unexpectedly after the answer. Retry if anything looks missing.'
    : 'The answer was cut off: the connection to lakescout closed before it finished. Please retry.';
}

/** `{code, message}` of an error body: the server's `ErrorBody`, or the first line of any other text. */
export function parseErrorBody(body: string): { code?: string; message?: string } {
  const text = body.trim();
  if (!text) return {};
  try {
    const { error } = JSON.parse(text) as ErrorBody;
    if (typeof error?.message === 'string') return { code: error.code, message: error.message };
  } catch {
    // not JSON: plain text or an HTML error page
  }
  const firstLine = text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  return { message: firstLine.slice(0, 300) || undefined };
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v));
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, Math.ceil((t - now) / 1000));
}

/** Map an HTTP error status + body to a LakescoutError with an actionable message. */
export function errorFromResponse(status: number, body: string, retryAfterHeader?: string | null): LakescoutError {
  return errorFromStatus(status, parseErrorBody(body), retryAfterHeader);
}

function errorFromStatus(
  status: number,
  { code, message }: { code?: string; message?: string },
  retryAfterHeader?: string | null,
): LakescoutError {
  const serverMsg = message;
  const suffix = serverMsg ? `: ${serverMsg}` : '.';
  const opts = { status, code, serverMessage: serverMsg };
  switch (status) {
    case 401:
      return new LakescoutError('unauthorized', `lakescout rejected the request (401 unauthorized)${serverMsg ? `: ${serverMsg}` : ''}. ${SET_API_KEY_HINT}`, opts);
    case 403:
      return new LakescoutError('forbidden', `lakescout denied access (403 forbidden)${suffix}${serverMsg ? '' : ' Your API key is not allowed to do this.'}`, opts);
    case 404:
      return new LakescoutError('not_found', `Not found (404)${suffix}`, opts);
    case 400:
    case 422:
      return new LakescoutError('invalid', `lakescout rejected the request (${status})${suffix}`, opts);
    case 429: {
      const retryAfter = parseRetryAfter(retryAfterHeader);
      const wait = retryAfter !== undefined ? ` Retry in ${retryAfter} s.` : ' Retry in a moment.';
      return new LakescoutError('rate_limited', `lakescout is rate limiting requests (429)${suffix}${wait}`, {
        ...opts,
        retryAfterSeconds: retryAfter,
      });
    }
    case 503:
      return new LakescoutError('unavailable', `lakescout is unavailable (503)${suffix}`, opts);
    case 504:
      return new LakescoutError(
        'timeout',
        `lakescout timed out upstream (504)${suffix} Try a narrower question or raise the server's limits.`,
        opts,
      );
    default:
      return new LakescoutError('server', `lakescout server error (${status})${suffix}`, opts);
  }
}

/** The HTTP status a stream `error` event's code stands for (the codes of api/errors.py). */
const STATUS_BY_CODE: Record<string, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  rate_limited: 429,
  unavailable: 503,
  timeout: 504,
};

/** The `error` event of a chat stream (`{code, message}`) as the error the same failure over HTTP gives. */
export function errorFromStreamEvent(code: string | undefined, message: string | undefined): LakescoutError {
  const msg = message || 'lakescout reported an error while answering.';
  const status = STATUS_BY_CODE[code ?? ''];
  if (status) return errorFromStatus(status, { code, message: msg });
  return new LakescoutError('server', `lakescout: ${msg}`, { code, serverMessage: msg });
}
