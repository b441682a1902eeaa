import { describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import { createChatHandler, PARTICIPANT_ID, threadIdFromHistory } from '../../src/chat';
import type { LakescoutClient } from '../../src/client';
import { LakescoutError } from '../../src/errors';
import type { ChatAnswer, StreamEvent } from '../../src/types';
import { CancellationTokenSource, ChatRequestTurn, ChatResponseTurn, FakeChatStream, Uri } from './vscode-mock';

interface Turn {
  events: StreamEvent[];
  error?: LakescoutError;
}

/** A scripted client: each chatStream call plays the next turn and records (message, thread). */
function fakeClient(turns: Turn[], extra: Partial<LakescoutClient> = {}) {
  const calls: { message: string; threadId?: string }[] = [];
  const client = {
    async *chatStream(message: string, threadId?: string): AsyncGenerator<StreamEvent, ChatAnswer> {
      calls.push({ message, threadId });
      const turn = turns.shift();
      if (!turn) throw new Error('no scripted turn');
      let answer: ChatAnswer | undefined;
      for (const ev of turn.events) {
        if (ev.type === 'answer') answer = ev.answer;
        yield ev;
      }
      if (turn.error) throw turn.error;
      return answer!;
    },
    ...extra,
  } as unknown as LakescoutClient;
  return { client, calls };
}

function answer(over: Partial<ChatAnswer> = {}): ChatAnswer {
  return { answer: '', tables_cited: [], tool_calls: [], thread_id: 'thread-1', ...over };
}

function request(prompt: string, command?: string) {
  return { prompt, command, references: [], toolReferences: [], model: undefined } as unknown as vscode.ChatRequest;
}

async function run(handler: vscode.ChatRequestHandler, prompt: string, history: unknown[] = [], command?: string) {
  const stream = new FakeChatStream();
  const cts = new CancellationTokenSource();
  const result = (await handler(request(prompt, command), { history } as unknown as vscode.ChatContext, stream as unknown as vscode.ChatResponseStream, cts.token as unknown as vscode.CancellationToken)) as vscode.ChatResult;
  return { stream, result };
}

const SQL = 'SELECT region, sum(amount) AS refunds\nFROM sales.refunds\nGROUP BY region';

describe('@lake chat participant', () => {
  it('streams tokens as markdown, tool steps as progress, SQL with buttons and cited tables as references', async () => {
    const { client } = fakeClient([
      {
        events: [
          { type: 'tool_start', name: 'search_tables', args: { query: 'refunds' } },
          { type: 'tool_end', name: 'search_tables', summary: 'found 3 tables' },
          { type: 'tool_start', name: 'validate_sql', args: { sql: 'SELECT 1' } },
          { type: 'token', text: 'Use ' },
          { type: 'token', text: '`sales.refunds`.' },
          { type: 'answer', answer: answer({ answer: 'Use `sales.refunds`.', sql: SQL, tables_cited: ['sales.refunds', 'geo.regions'] }) },
        ],
      },
    ]);
    const { stream, result } = await run(createChatHandler({ client }), 'refunds by region?');

    expect(stream.of('progress')).toEqual([
      'Asking lakescout…',
      'Running search_tables(refunds)…',
      'search_tables: found 3 tables',
      'Running validate_sql(SELECT 1)…',
    ]);
    const md = stream.of('markdown') as string[];
    expect(md.slice(0, 2)).toEqual(['Use ', '`sales.refunds`.']);
    expect(md[2]).toContain('```sql\n' + SQL + '\n```');
    expect(stream.of('button')).toEqual([
      { command: 'lakescout.insertSql', title: 'Insert SQL into editor', arguments: [SQL] },
      { command: 'lakescout.runSql', title: 'Run SQL', arguments: [SQL] },
    ]);
    const refs = stream.of('reference') as Uri[];
    expect(refs.map((u) => u.toString())).toEqual(['lakescout:/tables/sales.refunds.md', 'lakescout:/tables/geo.regions.md']);
    expect(result.metadata).toEqual({ thread_id: 'thread-1', sql: SQL, tables_cited: ['sales.refunds', 'geo.regions'] });
    expect(result.errorDetails).toBeUndefined();
  });

  it('does not repeat SQL that the streamed answer already showed', async () => {
    const text = 'Here:\n```sql\n' + SQL + ';\n```';
    const { client } = fakeClient([{ events: [{ type: 'token', text }, { type: 'answer', answer: answer({ answer: text, sql: SQL }) }] }]);
    const { stream } = await run(createChatHandler({ client }), 'q');
    expect(stream.of('markdown')).toEqual([text]);
    expect(stream.of('button')).toHaveLength(2);
  });

  it('shows the answer text when the server streamed no tokens', async () => {
    const { client } = fakeClient([{ events: [{ type: 'answer', answer: answer({ answer: 'No such table.' }) }] }]);
    const { stream } = await run(createChatHandler({ client }), 'q');
    expect(stream.text).toBe('No such table.');
    expect(stream.of('button')).toEqual([]);
  });

  it('keeps one lakescout thread per chat session across turns', async () => {
    const { client, calls } = fakeClient([
      { events: [{ type: 'answer', answer: answer({ answer: 'first', thread_id: 'thread-A' }) }] },
      { events: [{ type: 'answer', answer: answer({ answer: 'second', thread_id: 'thread-A' }) }] },
      { events: [{ type: 'answer', answer: answer({ answer: 'third', thread_id: 'thread-A' }) }] },
    ]);
    const handler = createChatHandler({ client });
    const history: unknown[] = [];
    const first = await run(handler, 'which table has refunds?', history);
    history.push(new ChatRequestTurn('which table has refunds?', PARTICIPANT_ID), new ChatResponseTurn([], first.result, PARTICIPANT_ID));
    const second = await run(handler, 'and by month?', history);
    // Another participant's turn in between must not be taken for ours.
    history.push(new ChatRequestTurn('and by month?', PARTICIPANT_ID), new ChatResponseTurn([], second.result, PARTICIPANT_ID));
    history.push(new ChatRequestTurn('hi', 'other.bot'), new ChatResponseTurn([], { metadata: { thread_id: 'foreign' } }, 'other.bot'));
    await run(handler, 'only 2024', history);
    expect(calls).toEqual([
      { message: 'which table has refunds?', threadId: undefined },
      { message: 'and by month?', threadId: 'thread-A' },
      { message: 'only 2024', threadId: 'thread-A' },
    ]);
  });

  it('finds the thread id in the latest response turn that has one', () => {
    expect(threadIdFromHistory([])).toBeUndefined();
    expect(
      threadIdFromHistory([
        new ChatResponseTurn([], { metadata: { thread_id: 'old' } }, PARTICIPANT_ID),
        new ChatResponseTurn([], { errorDetails: { message: 'x' } }, PARTICIPANT_ID),
        new ChatRequestTurn('q', PARTICIPANT_ID),
      ]),
    ).toBe('old');
  });

  it('keeps the partial answer and says it was cut when the stream breaks', async () => {
    const { client } = fakeClient([
      {
        events: [{ type: 'token', text: 'Refunds are in ' }],
        error: new LakescoutError('stream_broken', 'The answer was cut off: the connection to lakescout closed before it finished. Please retry.'),
      },
    ]);
    const { stream, result } = await run(createChatHandler({ client }), 'q', [new ChatResponseTurn([], { metadata: { thread_id: 'thread-B' } }, PARTICIPANT_ID)]);
    expect(stream.text).toBe('Refunds are in ');
    expect(result.errorDetails?.message).toMatch(/cut off.*retry/i);
    expect(result.metadata).toEqual({ thread_id: 'thread-B' });
  });

  it('offers a Set API key button on 401 and reports unreachable servers', async () => {
    const { client } = fakeClient([
      { events: [], error: new LakescoutError('unauthorized', "lakescout rejected the request (401 unauthorized). Set the API key with 'lakescout: Set API key'.") },
      { events: [], error: new LakescoutError('unreachable', 'lakescout server is not reachable at http://127.0.0.1:8321. Start it with `lakescout serve`.') },
    ]);
    const handler = createChatHandler({ client });
    const a = await run(handler, 'q');
    expect(a.result.errorDetails?.message).toContain('Set API key');
    expect(a.stream.of('button')).toEqual([{ command: 'lakescout.setApiKey', title: 'Set API key' }]);
    const b = await run(handler, 'q');
    expect(b.result.errorDetails?.message).toContain('lakescout serve');
    expect(b.stream.of('button')).toEqual([]);
  });

  it('passes cancellation to the client and ends quietly', async () => {
    let seen: AbortSignal | undefined;
    const client = {
      async *chatStream(_m: string, _t?: string, ro?: { signal?: AbortSignal }) {
        seen = ro?.signal;
        yield { type: 'token', text: 'x' } as StreamEvent;
        await new Promise((r) => setTimeout(r, 20));
        throw new LakescoutError('cancelled', 'Request cancelled.');
      },
    } as unknown as LakescoutClient;
    const handler = createChatHandler({ client });
    const stream = new FakeChatStream();
    const cts = new CancellationTokenSource();
    const p = handler(request('q'), { history: [] } as unknown as vscode.ChatContext, stream as unknown as vscode.ChatResponseStream, cts.token as unknown as vscode.CancellationToken);
    await new Promise((r) => setTimeout(r, 5));
    cts.cancel();
    const result = (await p) as vscode.ChatResult;
    expect(seen?.aborted).toBe(true);
    expect(result.errorDetails).toBeUndefined();
  });

  it('/describe renders the table record', async () => {
    const getTable = async (name: string) => ({ name, columns: [{ path: 'id', type: 'long' }], comment: 'All orders' });
    const { client } = fakeClient([], { getTable } as unknown as Partial<LakescoutClient>);
    const { stream, result } = await run(createChatHandler({ client }), ' `sales.orders` ', [], 'describe');
    expect(stream.text).toContain('# `sales.orders`');
    expect(stream.text).toContain('| id | long |');
    expect((stream.of('reference') as Uri[])[0].toString()).toBe('lakescout:/tables/sales.orders.md');
    expect(result.metadata).toMatchObject({ tables_cited: ['sales.orders'] });
  });

  it('answers an empty prompt with a hint, without calling the server', async () => {
    const { client, calls } = fakeClient([]);
    const { stream } = await run(createChatHandler({ client }), '   ');
    expect(stream.text).toContain('Ask me about the tables');
    expect(calls).toEqual([]);
  });
});
