/**
 * The lakescout HTTP client: one method per endpoint, bearer auth, the request timeout and the mapping of
 * transport failures to LakescoutError. No `vscode` import here: it is plain Node 20 (global fetch +
 * AbortController) so it can be tested against a real local HTTP server. Responses are typed by the
 * server's OpenAPI document (see types.ts); the event stream is decoded in stream.ts.
 */
import { brokenStreamMessage, errorFromResponse, LakescoutError, TIMEOUT_SETTING, unreachableMessage } from './errors';
import { chatEvents } from './stream';
import type {
  ChatAnswer,
  FeedbackRequest,
  FeedbackResponse,
  QueryResult,
  StreamEvent,
  TableList,
  TableRecord,
  TableSummary,
  ValidationResult,
  VerifiedFilters,
  VerifiedList,
  VerifiedQuery,
} from './types';

export interface ClientSettings {
  serverUrl: string;
  requestTimeoutMs: number;
}

export interface ClientOptions {
  /** Read on every request, so setting changes apply at once. */
  settings: () => ClientSettings;
  /** The API key (from SecretStorage); undefined means no Authorization header. */
  apiKey: () => PromiseLike<string | undefined> | string | undefined;
  fetchImpl?: typeof fetch;
  userAgent?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8321';
export const DEFAULT_TIMEOUT_MS = 120_000;

export class LakescoutClient {
  constructor(private readonly opts: ClientOptions) {}

  get baseUrl(): string {
    const url = (this.opts.settings().serverUrl || DEFAULT_SERVER_URL).trim();
    return url.replace(/\/+$/, '');
  }

  private get timeoutMs(): number {
    const t = Number(this.opts.settings().requestTimeoutMs);
    return Number.isFinite(t) && t > 0 ? t : DEFAULT_TIMEOUT_MS;
  }

  // ---- endpoints

  async chat(message: string, threadId?: string, ro: RequestOptions = {}): Promise<ChatAnswer> {
    return (await this.requestJson('POST', '/v1/chat', chatBody(message, threadId), ro)) as ChatAnswer;
  }

  async listTables(ro: RequestOptions = {}): Promise<TableSummary[]> {
    return ((await this.requestJson('GET', '/v1/tables', undefined, ro)) as TableList).tables;
  }

  async getTable(name: string, ro: RequestOptions = {}): Promise<TableRecord> {
    const path = `/v1/tables/${encodeURIComponent(name.trim())}`;
    return (await this.requestJson('GET', path, undefined, ro)) as TableRecord;
  }

  async validateSql(sql: string, ro: RequestOptions = {}): Promise<ValidationResult> {
    return (await this.requestJson('POST', '/v1/sql/validate', { sql }, ro)) as ValidationResult;
  }

  async runSql(sql: string, limit?: number, ro: RequestOptions = {}): Promise<QueryResult> {
    const body: Record<string, unknown> = { sql };
    if (limit !== undefined) body.limit = limit;
    return (await this.requestJson('POST', '/v1/sql/run', body, ro)) as QueryResult;
  }

  /** Rate an answer (`POST /v1/feedback`); with SQL it proposes a verified query. */
  async feedback(body: FeedbackRequest, ro: RequestOptions = {}): Promise<FeedbackResponse> {
    return (await this.requestJson('POST', '/v1/feedback', body, ro)) as FeedbackResponse;
  }

  /** The verified question->SQL pairs (`GET /v1/verified`), newest first; unset filters are not sent. */
  async listVerified(filters: VerifiedFilters = {}, ro: RequestOptions = {}): Promise<VerifiedQuery[]> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) {
      if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
    }
    const path = query.size ? `/v1/verified?${query}` : '/v1/verified';
    return ((await this.requestJson('GET', path, undefined, ro)) as VerifiedList).queries;
  }

  /**
   * Stream a chat turn from `/v1/chat/stream`. Yields tokens and tool steps as they come, then one `answer`.
   * The request timeout applies to the response headers and then to every silence between two chunks.
   * Throws LakescoutError: `stream_broken` when the connection ends before the answer, or the server's
   * `error` event mapped by its code.
   */
  async *chatStream(message: string, threadId?: string, ro: RequestOptions = {}): AsyncGenerator<StreamEvent, ChatAnswer> {
    const timeoutMs = this.timeoutMs;
    const ctl = new Deadline(ro.signal, timeoutMs);
    let finished = false;
    try {
      const res = await this.send('POST', '/v1/chat/stream', chatBody(message, threadId), ctl, { Accept: 'text/event-stream' });
      if (!res.ok) throw errorFromResponse(res.status, await safeText(res), res.headers.get('retry-after'));
      if (!res.body) throw new LakescoutError('protocol', 'lakescout sent an empty stream.');
      if ((res.headers.get('content-type') ?? '').includes('application/json')) {
        // The document also allows the plain /v1/chat object here: accept it.
        const answer = JSON.parse(await res.text()) as ChatAnswer;
        yield { type: 'answer', answer };
        finished = true;
        return answer;
      }
      const answer = yield* chatEvents(res.body, {
        beforeRead: () => ctl.arm(),
        readError: (cause, gotAnswer) =>
          ctl.timedOut || ctl.userAborted
            ? this.abortError(ctl, timeoutMs, cause)
            : new LakescoutError('stream_broken', brokenStreamMessage(gotAnswer), { cause }),
      });
      finished = true;
      return answer;
    } catch (e) {
      throw this.mapError(e, ctl, timeoutMs);
    } finally {
      ctl.dispose();
      if (!finished) ctl.abortQuietly();
    }
  }

  // ---- plumbing

  async requestJson(method: string, path: string, body: unknown, ro: RequestOptions = {}): Promise<unknown> {
    const timeoutMs = this.timeoutMs;
    const ctl = new Deadline(ro.signal, timeoutMs);
    ctl.arm();
    try {
      const res = await this.send(method, path, body, ctl, { Accept: 'application/json' });
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        if (ctl.timedOut || ctl.userAborted) throw this.abortError(ctl, timeoutMs, e);
        throw new LakescoutError('server', `The connection to lakescout closed while reading the response (${method} ${path}). Please retry.`, { cause: e });
      }
      if (!res.ok) throw errorFromResponse(res.status, text, res.headers.get('retry-after'));
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new LakescoutError('protocol', `lakescout sent a response that is not JSON (${method} ${path}).`, { cause: e });
      }
    } catch (e) {
      throw this.mapError(e, ctl, timeoutMs);
    } finally {
      ctl.dispose();
    }
  }

  private async send(method: string, path: string, body: unknown, ctl: Deadline, extraHeaders: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (this.opts.userAgent) headers['User-Agent'] = this.opts.userAgent;
    const key = (await this.opts.apiKey())?.trim();
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const fetchImpl = this.opts.fetchImpl ?? fetch;
    let url: string;
    try {
      url = new URL(this.baseUrl + path).toString();
    } catch (e) {
      throw new LakescoutError('unreachable', `lakescout.serverUrl is not a valid URL: ${this.baseUrl}`, { cause: e });
    }
    ctl.arm();
    return fetchImpl(url, {
      method,
      headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: ctl.signal,
    });
  }

  private abortError(ctl: Deadline, timeoutMs: number, cause: unknown): LakescoutError {
    if (ctl.userAborted) return new LakescoutError('cancelled', 'Request cancelled.', { cause });
    return new LakescoutError(
      'timeout',
      `lakescout did not answer within ${timeoutMs} ms. Raise the \`${TIMEOUT_SETTING}\` setting if the server needs longer.`,
      { cause },
    );
  }

  private mapError(e: unknown, ctl: Deadline, timeoutMs: number): LakescoutError {
    if (e instanceof LakescoutError) return e;
    if (ctl.timedOut || ctl.userAborted) return this.abortError(ctl, timeoutMs, e);
    const code = errorCode(e);
    if (e instanceof TypeError || code) {
      // undici: TypeError('fetch failed') with cause.code ECONNREFUSED / ENOTFOUND / ECONNRESET ...
      const detail = code ? ` (${code})` : '';
      return new LakescoutError('unreachable', unreachableMessage(this.baseUrl) + detail, { cause: e });
    }
    if (e instanceof SyntaxError) {
      return new LakescoutError('protocol', `lakescout sent a malformed response: ${e.message}`, { cause: e });
    }
    return new LakescoutError('server', `lakescout request failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** The ChatRequest body; a first turn sends no thread id. */
function chatBody(message: string, threadId: string | undefined): Record<string, unknown> {
  return threadId ? { message, thread_id: threadId } : { message };
}

/** The system error code (ECONNREFUSED, ...) somewhere in an error's cause chain. */
function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && typeof cur === 'object' && cur !== null; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string' && /^E[A-Z_]+$/.test(c)) return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

async function safeText(res: Response): Promise<string> {
  try {
    return await res.text();
  } catch {
    return '';
  }
}

/** An AbortController joined to a caller's signal, with a re-armable inactivity timer. */
class Deadline {
  private readonly ctl = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  timedOut = false;
  userAborted = false;
  private readonly onOuterAbort = () => {
    this.userAborted = true;
    this.ctl.abort();
  };

  constructor(
    private readonly outer: AbortSignal | undefined,
    private readonly timeoutMs: number,
  ) {
    if (outer?.aborted) this.onOuterAbort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** (Re)start the timeout: called before the request and before each read of a stream. */
  arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.ctl.abort();
    }, this.timeoutMs);
  }

  abortQuietly(): void {
    if (!this.ctl.signal.aborted) this.ctl.abort();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }
}
