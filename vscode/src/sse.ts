/**
 * A small incremental Server-Sent Events parser (the `text/event-stream` format of the WHATWG HTML spec).
 *
 * Feed it decoded text in whatever chunks the network delivers: lines and events may be split anywhere,
 * including between the CR and LF of a CRLF. Handles LF, CR and CRLF line ends, multi-line `data:`,
 * comment lines (keepalives such as `: ping`), `id:` and `retry:` fields, and a leading BOM.
 */

export interface SseEvent {
  /** The `event:` field, or "message" when the event had none. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` seen (it persists across events, as in the spec). */
  id?: string;
  /** A `retry:` value in milliseconds, when this event carried one. */
  retry?: number;
}

export class SseParser {
  private buffer = '';
  private sawFirstChunk = false;
  /** The previous chunk ended with CR: an LF at the start of the next chunk belongs to that line end. */
  private pendingCR = false;
  private eventName = '';
  private dataLines: string[] = [];
  private hasData = false;
  private lastId: string | undefined;
  private retry: number | undefined;

  /** Parse one chunk; returns the events completed by it (possibly none). */
  feed(chunk: string): SseEvent[] {
    if (!chunk) return [];
    if (!this.sawFirstChunk) {
      this.sawFirstChunk = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.pendingCR) {
      this.pendingCR = false;
      if (chunk.startsWith('\n')) chunk = chunk.slice(1);
    }
    this.buffer += chunk;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (c === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          // CR is the last character seen so far: a following LF (in the next chunk) must be skipped.
          this.pendingCR = true;
        }
      }
      start = i + 1;
      const ev = this.processLine(line);
      if (ev) events.push(ev);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /**
   * The stream ended. A trailing event whose blank line never came is still returned when it has data
   * (lenient: some servers close right after the last `data:` line). A cut-off JSON payload will then fail
   * to parse, which callers treat as a broken stream.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.buffer.length > 0) {
      const ev = this.processLine(this.buffer);
      this.buffer = '';
      if (ev) events.push(ev);
    }
    const last = this.dispatch();
    if (last) events.push(last);
    return events;
  }

  private processLine(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // comment / keepalive
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.eventName = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const hadEvent = this.hasData || this.eventName !== '';
    const ev: SseEvent = {
      event: this.eventName || 'message',
      data: this.dataLines.join('\n'),
    };
    if (this.lastId !== undefined) ev.id = this.lastId;
    if (this.retry !== undefined) ev.retry = this.retry;
    this.eventName = '';
    this.dataLines = [];
    this.hasData = false;
    this.retry = undefined;
    // The spec drops events without data; we keep named events with no data (e.g. a bare `event: done`).
    return hadEvent ? ev : undefined;
  }
}

/** Parse a whole SSE body at once (handy for tests and small responses). */
export function parseSse(text: string): SseEvent[] {
  const p = new SseParser();
  return [...p.feed(text), ...p.end()];
}
