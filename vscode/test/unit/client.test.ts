import { afterEach, describe, expect, it } from 'vitest';
import { LakescoutClient } from '../../src/client';
import { errorFromResponse, LakescoutError, parseErrorBody, parseRetryAfter } from '../../src/errors';
import { decodeStreamEvent } from '../../src/stream';
import type { StreamEvent } from '../../src/types';
import { freePort, json, sleep, sse, useTestServer } from './helpers/server';

const server = useTestServer();
let apiKey: string | undefined;
let timeoutMs: number;

afterEach(() => {
  apiKey = 'sk-test';
  timeoutMs = 2000;
});
apiKey = 'sk-test';
timeoutMs = 2000;

function client(url?: string): LakescoutClient {
  return new LakescoutClient({
    settings: () => ({ serverUrl: url ?? server.url + '/', requestTimeoutMs: timeoutMs }),
    apiKey: async () => apiKey,
    userAgent: 'lakescout-vscode/test',
  });
}

async function caught(p: Promise<unknown>): Promise<LakescoutError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LakescoutError);
    return e as LakescoutError;
  }
  throw new Error('expected a LakescoutError');
}

async function collect(gen: AsyncGenerator<StreamEvent, unknown>): Promise<{ events: StreamEvent[]; error?: LakescoutError }> {
  const events: StreamEvent[] = [];
  try {
    for await (const ev of gen) events.push(ev);
    return { events };
  } catch (e) {
    if (!(e instanceof LakescoutError)) throw e;
    return { events, error: e };
  }
}

const ANSWER = {
  answer: 'Refunds by region live in `sales.refunds`.',
  sql: 'SELECT region, sum(amount) FROM sales.refunds GROUP BY region',
  tables_cited: ['sales.refunds'],
  tool_calls: [{ name: 'search_tables', args: { query: 'refunds' }, summary: '3 tables' }],
  thread_id: 't-1',
  usage: { input_tokens: 10 },
};

describe('LakescoutClient requests', () => {
  it('posts /v1/chat with the bearer key and JSON body, and returns the answer', async () => {
    server.setHandler((_req, res) => json(res, 200, ANSWER));
    const ans = await client().chat('refunds by region?', 't-0');
    expect(ans).toEqual(ANSWER);
    const req = server.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/chat');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe('lakescout-vscode/test');
    expect(JSON.parse(req.body)).toEqual({ message: 'refunds by region?', thread_id: 't-0' });
  });

  it('sends no Authorization header without a key, and no thread_id on a first turn', async () => {
    apiKey = undefined;
    server.setHandler((_req, res) => json(res, 200, { answer: 'hi', tables_cited: [], tool_calls: [] }));
    const ans = await client().chat('hello');
    expect(ans).toEqual({ answer: 'hi', tables_cited: [], tool_calls: [] });
    expect(server.requests[0].headers.authorization).toBeUndefined();
    expect(JSON.parse(server.requests[0].body)).toEqual({ message: 'hello' });
  });

  it('lists tables (GET /v1/tables)', async () => {
    server.setHandler((_req, res) =>
      json(res, 200, {
        tables: [
          { name: 'sales.orders', namespace: 'sales', catalog: 'glue', comment: 'Orders', kind: 'iceberg' },
          { name: 'raw.events', namespace: 'raw', catalog: 'local', comment: null, kind: 'iceberg' },
        ],
      }),
    );
    const tables = await client().listTables();
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/v1/tables' });
    expect(tables.map((t) => [t.name, t.namespace, t.catalog])).toEqual([
      ['sales.orders', 'sales', 'glue'],
      ['raw.events', 'raw', 'local'],
    ]);
  });

  it('gets one table record by its dotted name', async () => {
    server.setHandler((_req, res) =>
      json(res, 200, {
        name: 'sales.orders',
        columns: [{ path: 'id', type: 'long' }, { path: 'amount', type: 'decimal(10,2)', comment: 'USD', pii: false }],
        partition_spec: [{ source: 'order_date', transform: 'day' }],
        totals: { rows: 10, files: 2 },
      }),
    );
    const rec = await client().getTable('sales.orders');
    expect(server.requests[0].url).toBe('/v1/tables/sales.orders');
    expect(rec.columns?.map((c) => c.path)).toEqual(['id', 'amount']);
    expect(rec.totals).toEqual({ rows: 10, files: 2 });
  });

  it('validates and runs SQL with the documented bodies', async () => {
    server.setHandler((req, res) => {
      if (req.url === '/v1/sql/validate')
        json(res, 200, { ok: false, errors: [{ message: 'syntax error near FORM', suggestions: [] }], warnings: [{ message: 'no partition filter', suggestions: [] }], scan_estimate: { tables: { 't': { files: 12, bytes: 2048 } } } });
      else json(res, 200, { columns: ['a', 'b'], rows: [[1, 'x']], truncated: true });
    });
    const v = await client().validateSql('SELECT * FORM t');
    expect(v).toEqual({
      ok: false,
      errors: [{ message: 'syntax error near FORM', suggestions: [] }],
      warnings: [expect.objectContaining({ message: 'no partition filter', suggestions: [] })],
      scan_estimate: { tables: { 't': { files: 12, bytes: 2048 } } },
    });
    const r = await client().runSql('SELECT 1', 50);
    expect(r).toEqual({ columns: ['a', 'b'], rows: [[1, 'x']], truncated: true });
    expect(JSON.parse(server.requests[0].body)).toEqual({ sql: 'SELECT * FORM t' });
    expect(JSON.parse(server.requests[1].body)).toEqual({ sql: 'SELECT 1', limit: 50 });
  });
});

describe('LakescoutClient teaching', () => {
  const PAIR = { id: 'vq_1', question: 'refunds by region', sql: 'SELECT 1', author: 'e2e', created_at: '2026-12-02T01:00:00Z', status: 'pending' };

  it('posts feedback with the documented body and returns the feedback and the proposed pair', async () => {
    const feedback = { id: 'fb_1', thread_id: 't-1', message_id: 'm-1', rating: 'up', created_at: '2026-12-02T01:00:00Z', verified_id: 'vq_1' };
    server.setHandler((_req, res) => json(res, 201, { feedback, verified: PAIR }));
    const res = await client().feedback({ thread_id: 't-1', message_id: 'm-1', rating: 'down', corrected_sql: 'SELECT 2', note: 'two' });
    expect(res).toEqual({ feedback, verified: PAIR });
    expect(server.requests[0]).toMatchObject({ method: 'POST', url: '/v1/feedback' });
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-test');
    expect(JSON.parse(server.requests[0].body)).toEqual({ thread_id: 't-1', message_id: 'm-1', rating: 'down', corrected_sql: 'SELECT 2', note: 'two' });
  });

  it("keeps the SQL gate's refusal code and message on a 422", async () => {
    server.setHandler((_req, res) => json(res, 422, { error: { code: 'sql_refused', message: 'the SQL was refused, nothing was stored: unknown column regionn' } }));
    const err = await caught(client().feedback({ thread_id: 't', message_id: 'm', rating: 'down', corrected_sql: 'SELECT regionn FROM x' }));
    expect(err).toMatchObject({ kind: 'invalid', status: 422, code: 'sql_refused', serverMessage: 'the SQL was refused, nothing was stored: unknown column regionn' });
  });

  it('lists verified queries, sending only the filters that are set', async () => {
    server.setHandler((_req, res) => json(res, 200, { queries: [PAIR] }));
    expect(await client().listVerified()).toEqual([PAIR]);
    await client().listVerified({ table: 'finance.refunds', stale: true, author: undefined, text: 'a&b' });
    expect(server.requests.map((r) => r.url)).toEqual(['/v1/verified', '/v1/verified?table=finance.refunds&stale=true&text=a%26b']);
  });
});

describe('LakescoutClient errors', () => {
  it.each([
    [401, 'unauthorized', /Set the API key with 'lakescout: Set API key'/],
    [403, 'forbidden', /403.*not allowed to read this/],
    [404, 'not_found', /404/],
    [422, 'invalid', /422/],
    [503, 'unavailable', /503/],
    [504, 'timeout', /504/],
    [500, 'server', /500/],
  ])('maps HTTP %i to %s', async (status, kind, re) => {
    const message = status === 403 ? 'not allowed to read this' : 'boom';
    server.setHandler((_req, res) => json(res, status, { error: { code: String(kind), message } }));
    const err = await caught(client().listTables());
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
    expect(err.message).toMatch(re);
  });

  it('reports 429 with the Retry-After delay', async () => {
    server.setHandler((_req, res) => json(res, 429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '17' }));
    const err = await caught(client().chat('x'));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterSeconds).toBe(17);
    expect(err.message).toContain('Retry in 17 s');
    expect(err.message).toContain('slow down');
  });

  it('shows an error body that is plain text or HTML (a proxy in front of the server) by its text', async () => {
    server.setHandler((_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/html' });
      res.end('<html><body><h1>Service Unavailable</h1></body></html>');
    });
    const err = await caught(client().listTables());
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain('Service Unavailable');
  });

  it('says the server is not reachable and how to start it when nothing listens', async () => {
    const port = await freePort();
    const err = await caught(client(`http://127.0.0.1:${port}`).listTables());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain(`lakescout server is not reachable at http://127.0.0.1:${port}. Start it with \`lakescout serve\`.`);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('times out with a message naming the setting', async () => {
    timeoutMs = 150;
    server.setHandler(async (_req, res) => {
      await sleep(1000);
      json(res, 200, { tables: [] });
    });
    const t0 = Date.now();
    const err = await caught(client().listTables());
    expect(Date.now() - t0).toBeLessThan(900);
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('150 ms');
    expect(err.message).toContain('lakescout.requestTimeoutMs');
  });

  it('reports cancellation by the caller as cancelled, not as a timeout', async () => {
    server.setHandler(async (_req, res) => {
      await sleep(500);
      json(res, 200, { tables: [] });
    });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const err = await caught(client().listTables({ signal: ctl.signal }));
    expect(err.kind).toBe('cancelled');
  });

  it('reports a 200 that is not JSON as a protocol error', async () => {
    server.setHandler((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"tables": [');
    });
    expect((await caught(client().listTables())).kind).toBe('protocol');
  });

  it('reports a connection closed halfway through a JSON body', async () => {
    server.setHandler((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"tables": [');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const err = await caught(client().listTables());
    expect(err.kind).toBe('server');
    expect(err.message).toContain('closed while reading');
  });

  it('rejects an invalid server URL with a clear message', async () => {
    const err = await caught(client('not a url').listTables());
    expect(err.message).toContain('lakescout.serverUrl');
  });
});

describe('LakescoutClient.chatStream', () => {
  function streamHandler(chunks: (string | number)[], opts: { end?: 'end' | 'destroy' | 'hang' } = {}) {
    return async (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      for (const c of chunks) {
        if (typeof c === 'number') await sleep(c);
        else res.write(c);
      }
      if (opts.end === 'destroy') res.socket?.destroy();
      else if (opts.end === 'hang') await sleep(3000);
      else res.end();
    };
  }

  it('streams tokens and tool steps across awkward chunk boundaries, then the answer', async () => {
    const body =
      sse('tool_start', { name: 'search_tables', args: { query: 'refunds' } }) +
      ': ping\n\n' +
      sse('tool_end', { name: 'search_tables', summary: '3 tables' }, true) +
      sse('token', { text: 'Refunds ' }) +
      sse('token', { text: 'by région' }) +
      sse('answer', ANSWER, true) +
      sse('done', {});
    // Split into 7-byte pieces (cutting lines, CRLFs and a multi-byte character) with small delays.
    const bytes = Buffer.from(body, 'utf8');
    const pieces: (string | number)[] = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.subarray(i, i + 7) as unknown as string, 1);
    server.setHandler(streamHandler(pieces));
    const gen = client().chatStream('refunds?', 't-1');
    const { events, error } = await collect(gen);
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: 'tool_start', name: 'search_tables', args: { query: 'refunds' } },
      { type: 'tool_end', name: 'search_tables', summary: '3 tables' },
      { type: 'token', text: 'Refunds ' },
      { type: 'token', text: 'by région' },
      { type: 'answer', answer: ANSWER },
    ]);
    const req = server.requests[0];
    expect(req.url).toBe('/v1/chat/stream');
    expect(req.headers.accept).toBe('text/event-stream');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(JSON.parse(req.body)).toEqual({ message: 'refunds?', thread_id: 't-1' });
  });

  it('returns the final answer as the generator result', async () => {
    server.setHandler(streamHandler([sse('answer', ANSWER), sse('done', {})]));
    const gen = client().chatStream('q');
    let r = await gen.next();
    while (!r.done) r = await gen.next();
    expect(r.value).toEqual(ANSWER);
  });

  it('says the answer was cut when the connection drops mid-stream', async () => {
    server.setHandler(streamHandler([sse('token', { text: 'Partial ' }), 20, 'event: token\ndata: {"te'], { end: 'destroy' }));
    const { events, error } = await collect(client().chatStream('q'));
    expect(events).toEqual([{ type: 'token', text: 'Partial ' }]);
    expect(error?.kind).toBe('stream_broken');
    expect(error?.message).toMatch(/cut off.*retry/i);
  });

  it('says the answer was cut when the server ends the stream without an answer', async () => {
    server.setHandler(streamHandler([sse('token', { text: 'Partial ' })]));
    const { error } = await collect(client().chatStream('q'));
    expect(error?.kind).toBe('stream_broken');
  });

  it('treats a truncated answer payload as a broken stream', async () => {
    server.setHandler(streamHandler(['event: answer\ndata: {"answer": "x", "sql']));
    const { error } = await collect(client().chatStream('q'));
    expect(error?.kind).toBe('stream_broken');
  });

  it('raises the error event as a LakescoutError with its message', async () => {
    server.setHandler(streamHandler([sse('token', { text: 'a' }), sse('error', { code: 'rate_limited', message: 'too many questions' })]));
    const { events, error } = await collect(client().chatStream('q'));
    expect(events).toHaveLength(1);
    expect(error?.kind).toBe('rate_limited');
    expect(error?.message).toContain('too many questions');
    server.setHandler(streamHandler([sse('error', { code: 'agent_error', message: 'model exploded' })]));
    const second = await collect(client().chatStream('q'));
    expect(second.error?.kind).toBe('server');
    expect(second.error?.message).toContain('model exploded');
  });

  it('maps an HTTP error before the stream starts', async () => {
    server.setHandler((_req, res) => json(res, 401, { error: { code: 'unauthorized', message: 'bad key' } }));
    const { error } = await collect(client().chatStream('q'));
    expect(error?.kind).toBe('unauthorized');
    expect(error?.message).toContain("Set the API key with 'lakescout: Set API key'");
  });

  it('times out on silence but keepalive comments keep a slow stream alive', async () => {
    timeoutMs = 500;
    server.setHandler(streamHandler([': ping\n\n', 150, ': ping\n\n', 150, ': ping\n\n', 150, sse('answer', ANSWER), sse('done', {})]));
    const ok = await collect(client().chatStream('q'));
    expect(ok.error).toBeUndefined();
    expect(ok.events.at(-1)).toEqual({ type: 'answer', answer: ANSWER });

    server.setHandler(streamHandler([sse('token', { text: 'x' })], { end: 'hang' }));
    const t0 = Date.now();
    const slow = await collect(client().chatStream('q'));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(slow.error?.kind).toBe('timeout');
    expect(slow.error?.message).toContain('lakescout.requestTimeoutMs');
  });

  it('stops reading after done and builds an answer from tokens when no answer event came', async () => {
    server.setHandler(streamHandler([sse('token', { text: 'just ' }), sse('token', { text: 'text' }), sse('done', {}), sse('token', { text: 'ignored' })], { end: 'hang' }));
    const { events, error } = await collect(client().chatStream('q'));
    expect(error).toBeUndefined();
    expect(events.at(-1)).toEqual({ type: 'answer', answer: { answer: 'just text', tables_cited: [], tool_calls: [] } });
  });

  it('accepts a plain JSON answer from a server without streaming', async () => {
    server.setHandler((_req, res) => json(res, 200, ANSWER));
    const { events } = await collect(client().chatStream('q'));
    expect(events).toEqual([{ type: 'answer', answer: ANSWER }]);
  });

  it('reports a server that is down', async () => {
    const port = await freePort();
    const { error } = await collect(client(`http://127.0.0.1:${port}`).chatStream('q'));
    expect(error?.kind).toBe('unreachable');
    expect(error?.message).toContain('Start it with `lakescout serve`');
  });

  it('cancels cleanly when the caller aborts mid-stream', async () => {
    server.setHandler(streamHandler([sse('token', { text: 'x' })], { end: 'hang' }));
    const ctl = new AbortController();
    const gen = client().chatStream('q', undefined, { signal: ctl.signal });
    const first = await gen.next();
    expect(first.value).toEqual({ type: 'token', text: 'x' });
    ctl.abort();
    await expect(gen.next()).rejects.toMatchObject({ kind: 'cancelled' });
  });
});

describe('error bodies and stream events', () => {
  it('parses the ErrorBody of the document, and any other text by its first line', () => {
    expect(parseErrorBody('{"error": {"code": "x", "message": "m"}}')).toEqual({ code: 'x', message: 'm' });
    expect(parseErrorBody('')).toEqual({});
    expect(parseErrorBody('upstream failed')).toEqual({ message: 'upstream failed' });
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('5')).toBe(5);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(errorFromResponse(429, '', null).message).toContain('Retry in a moment');
  });

  it('decodes stream events', () => {
    expect(decodeStreamEvent({ event: 'token', data: '{}' })).toBeUndefined();
    expect(decodeStreamEvent({ event: 'whatever', data: '{}' })).toBeUndefined();
    expect(decodeStreamEvent({ event: 'done', data: '' })).toBe('done');
    expect(() => decodeStreamEvent({ event: 'error', data: '{"code": "unauthorized", "message": "no"}' })).toThrow(/Set the API key/);
  });
});
