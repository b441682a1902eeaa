import { describe, expect, it } from 'vitest';
import { parseSse, SseParser, type SseEvent } from '../../src/sse';

function feedAll(chunks: string[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.feed(c));
  out.push(...p.end());
  return out;
}

const STREAM =
  ': keepalive\n' +
  'event: token\ndata: {"text": "Hel"}\n\n' +
  'event: tool_start\r\ndata: {"name": "search_tables",\r\ndata:  "args": {"q": "refunds"}}\r\n\r\n' +
  ':ping\r\n' +
  'event: token\rdata: {"text": "lo\\n"}\r\r' +
  'event: done\ndata: {}\n\n';

const EXPECTED: SseEvent[] = [
  { event: 'token', data: '{"text": "Hel"}' },
  { event: 'tool_start', data: '{"name": "search_tables",\n "args": {"q": "refunds"}}' },
  { event: 'token', data: '{"text": "lo\\n"}' },
  { event: 'done', data: '{}' },
];

describe('SseParser', () => {
  it('parses a whole stream with LF, CRLF and CR line ends, comments and multi-line data', () => {
    expect(parseSse(STREAM)).toEqual(EXPECTED);
  });

  it('gives the same events for every single split point', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      expect(feedAll([STREAM.slice(0, i), STREAM.slice(i)]), `split at ${i}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events when fed one character at a time', () => {
    expect(feedAll([...STREAM])).toEqual(EXPECTED);
  });

  it('does not produce an extra blank line when CRLF is split between chunks', () => {
    // If "\r" | "\n" were two line ends, the event would be dispatched before its data line.
    const events = feedAll(['event: token\r', '\ndata: {"text":"x"}\r', '\n\r', '\n']);
    expect(events).toEqual([{ event: 'token', data: '{"text":"x"}' }]);
  });

  it('returns events as soon as their blank line arrives', () => {
    const p = new SseParser();
    expect(p.feed('event: token\ndata: {"text":"a"}\n')).toEqual([]);
    expect(p.feed('\nevent: tok')).toEqual([{ event: 'token', data: '{"text":"a"}' }]);
    expect(p.feed('en\ndata: 1\n\n')).toEqual([{ event: 'token', data: '1' }]);
  });

  it('handles data without a space, fields without a colon, unknown fields and a BOM', () => {
    const events = parseSse('\uFEFFdata:no-space\nfoo: bar\ndata\n\nevent: x\ndata:  two spaces\n\n');
    expect(events).toEqual([
      { event: 'message', data: 'no-space\n' },
      { event: 'x', data: ' two spaces' },
    ]);
  });

  it('ignores comment-only blocks (keepalives) and empty blank lines', () => {
    expect(parseSse(': ping\n\n: ping\n\n\n\n')).toEqual([]);
  });

  it('keeps the last id across events and reports retry', () => {
    const events = parseSse('id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid\ndata: c\n\n');
    expect(events).toEqual([
      { event: 'message', data: 'a', id: '7', retry: 1500 },
      { event: 'message', data: 'b', id: '7' },
      { event: 'message', data: 'c', id: '' },
    ]);
  });

  it('keeps a named event without data (e.g. a bare done)', () => {
    expect(parseSse('event: done\n\n')).toEqual([{ event: 'done', data: '' }]);
  });

  it('flushes a final event whose blank line never came', () => {
    expect(parseSse('event: answer\ndata: {"answer": "x"}')).toEqual([{ event: 'answer', data: '{"answer": "x"}' }]);
  });

  it('keeps multi-byte text intact (decoded by the caller)', () => {
    const text = 'event: token\ndata: {"text": "région ✓ 数据"}\n\n';
    const bytes = new TextEncoder().encode(text);
    const decoder = new TextDecoder();
    const p = new SseParser();
    const out: SseEvent[] = [];
    for (const b of bytes) out.push(...p.feed(decoder.decode(new Uint8Array([b]), { stream: true })));
    out.push(...p.end());
    expect(JSON.parse(out[0].data).text).toBe('région ✓ 数据');
  });
});
