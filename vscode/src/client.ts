/**
 * The lakescout HTTP API client. No `vscode` import here: it is plain Node 20 (global fetch + AbortController)
 * so it can be tested against a real local HTTP server.
 *
 * Defensive by design: every response is normalised, so a server that sends a string where an object was
 * expected (or FastAPI's default `{"detail": ...}` errors) still yields a useful result or message.
 */
import { SseParser, type SseEvent } from './sse';

// ---------------------------------------------------------------------------------------------------------
// Types of the API contract (after normalisation)

export interface ToolCall {
  name: string;
  args: unknown;
  summary: string;
}

export interface ChatAnswer {
  answer: string;
  sql?: string;
  tables_cited: string[];
  tool_calls: ToolCall[];
  thread_id?: string;
  usage?: Record<string, unknown>;
}

export interface TableSummary {
  name: string;
  namespace: string;
  catalog?: string;
  comment?: string;
  kind?: string;
  [key: string]: unknown;
}

export interface ColumnInfo {
  path: string;
  type: string;
  comment?: string;
  pii?: boolean | string;
  [key: string]: unknown;
}

export interface TableRecord {
  name: string;
  namespace?: string;
  catalog?: string;
  comment?: string;
  kind?: string;
  columns: ColumnInfo[];
  partition_spec?: unknown;
  totals?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface SqlIssue {
  message: string;
  code?: string;
  identifier?: string;
  suggestions: string[];
  /** As sent by the server (assumed 1-based). */
  line?: number;
  /** As sent by the server (assumed 1-based). */
  column?: number;
  [key: string]: unknown;
}

export interface ScanEstimate {
  files?: number;
  bytes?: number;
  [key: string]: unknown;
}

export interface ValidationResult {
  ok: boolean;
  errors: SqlIssue[];
  warnings: SqlIssue[];
  scan_estimate?: ScanEstimate;
}

export interface QueryResult {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
}

export type StreamEvent =
  | { type: 'token'; text: string }
  | { type: 'tool_start'; name: string; args: unknown }
  | { type: 'tool_end'; name: string; summary: string }
  | { type: 'thread'; thread_id: string }
  | { type: 'answer'; answer: ChatAnswer };

// ---------------------------------------------------------------------------------------------------------
// Errors

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

/** Pull `{code, message}` out of whatever error body the server sent. */
export function parseErrorBody(body: string): { code?: string; message?: string } {
  const text = body.trim();
  if (!text) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Plain text (or an HTML error page from a proxy): keep a short first line.
    const firstLine = text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    return { message: firstLine.slice(0, 300) || undefined };
  }
  return errorFromJson(json);
}

function errorFromJson(json: unknown): { code?: string; message?: string } {
  if (typeof json === 'string') return { message: json };
  if (!isObject(json)) return {};
  const err = json.error;
  if (typeof err === 'string') {
    return { message: err, code: str(json.code) };
  }
  if (isObject(err)) {
    return { code: str(err.code) ?? str(err.type), message: str(err.message) ?? str(err.detail) };
  }
  // FastAPI defaults: {"detail": "..."} or {"detail": [{"loc": [...], "msg": "..."}]}
  const detail = json.detail;
  if (typeof detail === 'string') return { message: detail };
  if (Array.isArray(detail)) {
    const msgs = detail
      .map((d) => (isObject(d) ? [Array.isArray(d.loc) ? d.loc.join('.') : undefined, str(d.msg)].filter(Boolean).join(': ') : String(d)))
      .filter(Boolean);
    if (msgs.length) return { message: msgs.join('; ') };
  }
  if (isObject(detail)) return errorFromJson(detail);
  if (typeof json.message === 'string') return { message: json.message, code: str(json.code) };
  return {};
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
  const { code, message } = parseErrorBody(body);
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

// ---------------------------------------------------------------------------------------------------------
// Normalisers

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function tableName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v)) {
    const name = str(v.name) ?? str(v.table) ?? str(v.identifier);
    if (name && !name.includes('.') && typeof v.namespace === 'string' && v.namespace) return `${v.namespace}.${name}`;
    return name;
  }
  return undefined;
}

export function normalizeAnswer(raw: unknown): ChatAnswer {
  if (typeof raw === 'string') return { answer: raw, tables_cited: [], tool_calls: [] };
  const o = isObject(raw) ? raw : {};
  const sql = str(o.sql);
  const cited = Array.isArray(o.tables_cited) ? o.tables_cited.map(tableName).filter((n): n is string => !!n) : [];
  const tools = Array.isArray(o.tool_calls)
    ? o.tool_calls.filter(isObject).map((t) => ({ name: str(t.name) ?? 'tool', args: t.args ?? {}, summary: str(t.summary) ?? '' }))
    : [];
  const answer: ChatAnswer = {
    answer: str(o.answer) ?? str(o.text) ?? '',
    tables_cited: [...new Set(cited)],
    tool_calls: tools,
  };
  if (sql && sql.trim()) answer.sql = sql.trim();
  const thread = str(o.thread_id);
  if (thread) answer.thread_id = thread;
  if (isObject(o.usage)) answer.usage = o.usage;
  return answer;
}

export function normalizeTables(raw: unknown): TableSummary[] {
  const list = Array.isArray(raw) ? raw : isObject(raw) && Array.isArray(raw.tables) ? raw.tables : [];
  const out: TableSummary[] = [];
  for (const item of list) {
    if (typeof item === 'string') {
      const dot = item.lastIndexOf('.');
      out.push({ name: item, namespace: dot > 0 ? item.slice(0, dot) : '' });
      continue;
    }
    if (!isObject(item)) continue;
    const name = tableName(item);
    if (!name) continue;
    const dot = name.lastIndexOf('.');
    const ns = str(item.namespace) ?? (dot > 0 ? name.slice(0, dot) : '');
    out.push({
      ...item,
      name,
      namespace: ns,
      catalog: str(item.catalog),
      comment: str(item.comment) ?? str(item.description),
      kind: str(item.kind) ?? str(item.type),
    });
  }
  return out;
}

export function normalizeTableRecord(raw: unknown, requestedName: string): TableRecord {
  const o = isObject(raw) ? (isObject(raw.table) && !raw.columns ? raw.table : raw) : {};
  const columns: ColumnInfo[] = Array.isArray(o.columns)
    ? o.columns
        .map((c): ColumnInfo | undefined => {
          if (typeof c === 'string') return { path: c, type: '' };
          if (!isObject(c)) return undefined;
          const path = str(c.path) ?? str(c.name);
          if (!path) return undefined;
          return { ...c, path, type: str(c.type) ?? (c.type !== undefined ? JSON.stringify(c.type) : ''), comment: str(c.comment) ?? str(c.doc) };
        })
        .filter((c): c is ColumnInfo => !!c)
    : [];
  return {
    ...o,
    name: tableName(o) ?? requestedName,
    namespace: str(o.namespace),
    catalog: str(o.catalog),
    comment: str(o.comment) ?? str(o.description),
    kind: str(o.kind),
    columns,
    partition_spec: o.partition_spec,
    totals: isObject(o.totals) ? o.totals : undefined,
  };
}

function normalizeIssue(raw: unknown): SqlIssue | undefined {
  if (typeof raw === 'string') return { message: raw, suggestions: [] };
  if (!isObject(raw)) return undefined;
  const suggestions = Array.isArray(raw.suggestions)
    ? raw.suggestions.map((s) => (typeof s === 'string' ? s : tableName(s))).filter((s): s is string => !!s)
    : typeof raw.suggestions === 'string'
      ? [raw.suggestions]
      : [];
  return {
    ...raw,
    message: str(raw.message) ?? str(raw.msg) ?? 'Problem in SQL',
    code: str(raw.code) ?? str(raw.kind),
    identifier: str(raw.identifier),
    suggestions,
    line: num(raw.line),
    column: num(raw.column) ?? num(raw.col),
  };
}

export function normalizeValidation(raw: unknown): ValidationResult {
  const o = isObject(raw) ? raw : {};
  const errors = Array.isArray(o.errors) ? o.errors.map(normalizeIssue).filter((i): i is SqlIssue => !!i) : [];
  const warnings = Array.isArray(o.warnings) ? o.warnings.map(normalizeIssue).filter((i): i is SqlIssue => !!i) : [];
  const result: ValidationResult = { ok: typeof o.ok === 'boolean' ? o.ok : errors.length === 0, errors, warnings };
  if (isObject(o.scan_estimate)) {
    result.scan_estimate = { ...o.scan_estimate, files: num(o.scan_estimate.files), bytes: num(o.scan_estimate.bytes) };
  }
  return result;
}

export function normalizeQueryResult(raw: unknown): QueryResult {
  const o = isObject(raw) ? raw : {};
  let columns = Array.isArray(o.columns) ? o.columns.map((c) => (isObject(c) ? str(c.name) ?? '' : String(c))) : [];
  let rows: unknown[][] = [];
  if (Array.isArray(o.rows)) {
    rows = o.rows.map((r) => {
      if (Array.isArray(r)) return r;
      if (isObject(r)) {
        if (columns.length === 0) columns = Object.keys(r);
        return columns.map((c) => r[c]);
      }
      return [r];
    });
  }
  return { columns, rows, truncated: o.truncated === true };
}

// ---------------------------------------------------------------------------------------------------------
// The client

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
    const body: Record<string, unknown> = { message };
    if (threadId) body.thread_id = threadId;
    return normalizeAnswer(await this.requestJson('POST', '/v1/chat', body, ro));
  }

  async listTables(ro: RequestOptions = {}): Promise<TableSummary[]> {
    return normalizeTables(await this.requestJson('GET', '/v1/tables', undefined, ro));
  }

  async getTable(name: string, ro: RequestOptions = {}): Promise<TableRecord> {
    const path = `/v1/tables/${encodeURIComponent(name.trim())}`;
    return normalizeTableRecord(await this.requestJson('GET', path, undefined, ro), name.trim());
  }

  async validateSql(sql: string, ro: RequestOptions = {}): Promise<ValidationResult> {
    return normalizeValidation(await this.requestJson('POST', '/v1/sql/validate', { sql }, ro));
  }

  async runSql(sql: string, limit?: number, ro: RequestOptions = {}): Promise<QueryResult> {
    const body: Record<string, unknown> = { sql };
    if (limit !== undefined) body.limit = limit;
    return normalizeQueryResult(await this.requestJson('POST', '/v1/sql/run', body, ro));
  }

  /**
   * Stream a chat turn from `/v1/chat/stream`. Yields tokens and tool steps as they come, then one `answer`.
   * The request timeout applies to the response headers and then to every silence between two chunks.
   * Throws LakescoutError: `stream_broken` when the connection ends before the answer, or the server's
   * `error` event mapped by its code.
   */
  async *chatStream(message: string, threadId?: string, ro: RequestOptions = {}): AsyncGenerator<StreamEvent, ChatAnswer> {
    const body: Record<string, unknown> = { message };
    if (threadId) body.thread_id = threadId;
    const timeoutMs = this.timeoutMs;
    const ctl = this.controller(ro.signal, timeoutMs);
    let finished = false;
    try {
      const res = await this.send('POST', '/v1/chat/stream', body, ctl, { Accept: 'text/event-stream' });
      if (!res.ok) throw errorFromResponse(res.status, await safeText(res), res.headers.get('retry-after'));
      const contentType = res.headers.get('content-type') ?? '';
      if (!res.body) throw new LakescoutError('protocol', 'lakescout sent an empty stream.');
      if (contentType.includes('application/json')) {
        // A server without streaming support may answer with the plain /v1/chat object: accept it.
        const answer = normalizeAnswer(JSON.parse(await res.text()));
        yield { type: 'answer', answer };
        finished = true;
        return answer;
      }

      const parser = new SseParser();
      const decoder = new TextDecoder('utf-8');
      const reader = res.body.getReader();
      let answer: ChatAnswer | undefined;
      let done = false;
      let streamed = '';

      const handle = function* (events: SseEvent[]): Generator<StreamEvent> {
        for (const ev of events) {
          if (done) return;
          const out = decodeStreamEvent(ev);
          if (!out) continue;
          if (out === 'done') {
            done = true;
            return;
          }
          if (out.type === 'answer') answer = out.answer;
          if (out.type === 'token') streamed += out.text;
          yield out;
        }
      };

      while (!done) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        ctl.arm();
        try {
          chunk = await reader.read();
        } catch (e) {
          if (ctl.timedOut || ctl.userAborted) throw this.abortError(ctl, timeoutMs, e);
          throw new LakescoutError('stream_broken', brokenMessage(answer !== undefined), { cause: e });
        }
        if (chunk.done) {
          yield* handle(parser.feed(decoder.decode()));
          yield* handle(parser.end());
          break;
        }
        yield* handle(parser.feed(decoder.decode(chunk.value, { stream: true })));
      }
      if (done) reader.cancel().catch(() => undefined);
      if (!answer && done) {
        // `done` without an `answer` event: the streamed tokens are the answer.
        answer = { answer: streamed, tables_cited: [], tool_calls: [] };
        yield { type: 'answer', answer };
      }
      if (!answer) throw new LakescoutError('stream_broken', brokenMessage(false));
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
    const ctl = this.controller(ro.signal, timeoutMs);
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
      if (!text.trim()) return {};
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

  private async send(
    method: string,
    path: string,
    body: unknown,
    ctl: Controller,
    extraHeaders: Record<string, string>,
  ): Promise<Response> {
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

  private controller(outer: AbortSignal | undefined, timeoutMs: number): Controller {
    return new Controller(outer, timeoutMs);
  }

  private abortError(ctl: Controller, timeoutMs: number, cause: unknown): LakescoutError {
    if (ctl.userAborted) return new LakescoutError('cancelled', 'Request cancelled.', { cause });
    return new LakescoutError(
      'timeout',
      `lakescout did not answer within ${timeoutMs} ms. Raise the \`${TIMEOUT_SETTING}\` setting if the server needs longer.`,
      { cause },
    );
  }

  private mapError(e: unknown, ctl: Controller, timeoutMs: number): LakescoutError {
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

function brokenMessage(gotAnswer: boolean): string {
  return gotAnswer
    ? 'The lakescout stream ended unexpectedly after the answer. Retry if anything looks missing.'
    : 'The answer was cut off: the connection to lakescout closed before it finished. Please retry.';
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    if (isObject(cur) || cur instanceof Error) {
      const c = (cur as { code?: unknown }).code;
      if (typeof c === 'string' && /^E[A-Z_]+$/.test(c)) return c;
      cur = (cur as { cause?: unknown }).cause;
    } else break;
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

/** Turn one SSE event into a typed stream event; throws for `error` events. */
export function decodeStreamEvent(ev: SseEvent): StreamEvent | 'done' | undefined {
  const data = parseJsonLenient(ev.data);
  switch (ev.event) {
    case 'token': {
      const text = typeof data === 'string' ? data : isObject(data) ? str(data.text) ?? str(data.token) ?? '' : '';
      return text ? { type: 'token', text } : undefined;
    }
    case 'tool_start': {
      const o = isObject(data) ? data : {};
      return { type: 'tool_start', name: str(o.name) ?? (typeof data === 'string' ? data : 'tool'), args: o.args ?? {} };
    }
    case 'tool_end': {
      const o = isObject(data) ? data : {};
      return { type: 'tool_end', name: str(o.name) ?? 'tool', summary: str(o.summary) ?? (typeof data === 'string' ? data : '') };
    }
    case 'thread':
    case 'start':
    case 'meta': {
      const id = isObject(data) ? str(data.thread_id) : undefined;
      return id ? { type: 'thread', thread_id: id } : undefined;
    }
    case 'answer': {
      if (data === undefined || (typeof data === 'string' && ev.data.trim().startsWith('{'))) {
        // Invalid JSON where an object was expected: the payload was cut.
        throw new LakescoutError('stream_broken', brokenMessage(false));
      }
      return { type: 'answer', answer: normalizeAnswer(data) };
    }
    case 'error': {
      const { code, message } = typeof data === 'string' ? { code: undefined, message: data } : errorFromJson(isObject(data) && !data.error ? { error: data } : data);
      throw streamErrorToLakescout(code, message);
    }
    case 'done':
      return 'done';
    default:
      return undefined; // unknown events (and plain "message") are ignored
  }
}

function streamErrorToLakescout(code: string | undefined, message: string | undefined): LakescoutError {
  const msg = message || 'lakescout reported an error while answering.';
  const c = (code ?? '').toLowerCase();
  const statusByCode: Record<string, number> = {
    unauthorized: 401,
    forbidden: 403,
    not_found: 404,
    rate_limited: 429,
    too_many_requests: 429,
    unavailable: 503,
    timeout: 504,
  };
  const status = statusByCode[c] ?? (/^\d{3}$/.test(c) ? Number(c) : undefined);
  if (status) return errorFromResponse(status, JSON.stringify({ error: { code, message: msg } }));
  return new LakescoutError('server', `lakescout: ${msg}`, { code, serverMessage: msg });
}

function parseJsonLenient(s: string): unknown {
  const t = s.trim();
  if (!t) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return s;
  }
}

/** An AbortController joined to a caller's signal, with a re-armable inactivity timer. */
class Controller {
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
