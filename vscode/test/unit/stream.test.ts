import { describe, expect, it } from 'vitest';
import { LakescoutError } from '../../src/errors';
import { chatEvents } from '../../src/stream';
import type { StreamEvent } from '../../src/types';

/** A response body that delivers these byte chunks. */
function body(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

const reading = { beforeRead: () => undefined, readError: (cause: unknown) => new LakescoutError('stream_broken', 'broken', { cause }) };

async function decode(chunks: Uint8Array[]): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const ev of chatEvents(body(chunks), reading)) events.push(ev);
  return events;
}

const text = (s: string) => new TextEncoder().encode(s);

const STREAM =
  ': keepalive\n' +
  'event: token\ndata: {"text": "Hel"}\n\n' +
  'event: tool_start\r\ndata: {"name": "search_tables",\r\ndata:  "args": {"q": "refunds"}}\r\n\r\n' +
  ':ping\r\n' +
  'event: token\rdata: {"text": "lo ✓ 数据\\n"}\r\r' +
  'event: done\ndata: {}\n\n' +
  'event: token\ndata: {"text": "after done"}\n\n';

const EXPECTED: StreamEvent[] = [
  { type: 'token', text: 'Hel' },
  { type: 'tool_start', name: 'search_tables', args: { q: 'refunds' } },
  { type: 'token', text: 'lo ✓ 数据\n' },
  { type: 'answer', answer: { answer: 'Hello ✓ 数据\n', tables_cited: [], tool_calls: [] } },
];

describe('chatEvents (eventsource-parser underneath)', () => {
  it('decodes a stream with LF, CRLF and CR line ends, comments and multi-line data, and stops at done', async () => {
    expect(await decode([text(STREAM)])).toEqual(EXPECTED);
  });

  it('gives the same events for every single split point', async () => {
    const bytes = text(STREAM);
    for (let i = 0; i <= bytes.length; i++) {
      expect(await decode([bytes.subarray(0, i), bytes.subarray(i)]), `split at ${i}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events when fed one byte at a time, after a BOM', async () => {
    const bytes = text('\uFEFF' + STREAM);
    expect(await decode([...bytes].map((b) => new Uint8Array([b])))).toEqual(EXPECTED);
  });

  it('ignores unknown fields, events and comment-only blocks', async () => {
    const events = await decode([text(': ping\n\nfoo: bar\nevent: other\ndata: {}\n\n: ping\n\n\n\nevent: token\ndata:{"text":"x"}\n\nevent: done\ndata: {}\n\n')]);
    expect(events).toEqual([
      { type: 'token', text: 'x' },
      { type: 'answer', answer: { answer: 'x', tables_cited: [], tool_calls: [] } },
    ]);
  });

  it('reports a stream that ends before its answer as broken', async () => {
    await expect(decode([text('event: token\ndata: {"text": "a"}\n\nevent: answer\ndata: {"answer": "a", "sq')])).rejects.toMatchObject({
      kind: 'stream_broken',
    });
  });
});
