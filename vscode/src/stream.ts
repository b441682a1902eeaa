/**
 * Decoding the server-sent events of `POST /v1/chat/stream` (`token`, `tool_start`, `tool_end`, `answer`,
 * `error`, then `done`, as api/app.py sends them) into typed stream events. The `text/event-stream` format
 * itself is parsed by `eventsource-parser`.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { brokenStreamMessage, errorFromStreamEvent, LakescoutError } from './errors';
import type { ChatAnswer, StreamEvent } from './types';

/** Turn one SSE event into a typed stream event; throws for `error` events. */
export function decodeStreamEvent(ev: EventSourceMessage): StreamEvent | 'done' | undefined {
  switch (ev.event) {
    case 'token': {
      const { text } = parseData<{ text: string }>(ev);
      return text ? { type: 'token', text } : undefined;
    }
    case 'tool_start': {
      const { name, args } = parseData<{ name: string; args: unknown }>(ev);
      return { type: 'tool_start', name, args };
    }
    case 'tool_end': {
      const { name, summary } = parseData<{ name: string; summary: string }>(ev);
      return { type: 'tool_end', name, summary };
    }
    case 'answer':
      return { type: 'answer', answer: parseData<ChatAnswer>(ev) };
    case 'error': {
      const { code, message } = parseData<{ code?: string; message?: string }>(ev);
      throw errorFromStreamEvent(code, message);
    }
    case 'done':
      return 'done';
    default:
      return undefined; // events this client does not know are ignored
  }
}

function parseData<T>(ev: EventSourceMessage): T {
  try {
    return JSON.parse(ev.data) as T;
  } catch (e) {
    throw new LakescoutError('protocol', `lakescout sent a '${ev.event}' event whose data is not JSON.`, { cause: e });
  }
}

export interface StreamReading {
  /** Called before every read of the body (the client re-arms its silence timeout there). */
  beforeRead(): void;
  /** The error to throw when reading the body fails. */
  readError(cause: unknown, gotAnswer: boolean): LakescoutError;
}

/**
 * Yield the chat events of an event-stream body as they arrive, then return the answer. Reading stops at
 * `done`; a `done` without an `answer` makes the streamed tokens the answer. A body that ends before both
 * is a `stream_broken` error.
 */
export async function* chatEvents(body: ReadableStream<Uint8Array>, reading: StreamReading): AsyncGenerator<StreamEvent, ChatAnswer> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (ev) => pending.push(ev) });
  const decoder = new TextDecoder('utf-8');
  const reader = body.getReader();
  let answer: ChatAnswer | undefined;
  let streamed = '';
  let done = false;
  while (!done) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    reading.beforeRead();
    try {
      chunk = await reader.read();
    } catch (e) {
      throw reading.readError(e, answer !== undefined);
    }
    parser.feed(chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true }));
    while (pending.length && !done) {
      const out = decodeStreamEvent(pending.shift()!);
      if (out === 'done') done = true;
      else if (out) {
        if (out.type === 'answer') answer = out.answer;
        if (out.type === 'token') streamed += out.text;
        yield out;
      }
    }
    if (chunk.done) break;
  }
  if (done) reader.cancel().catch(() => undefined);
  if (!answer && done) {
    answer = { answer: streamed, tables_cited: [], tool_calls: [] };
    yield { type: 'answer', answer };
  }
  if (!answer) throw new LakescoutError('stream_broken', brokenStreamMessage(false));
  return answer;
}
