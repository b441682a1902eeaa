/**
 * Catalog text (table and column comments, and answers quoting them) reaches every view as text: no HTML,
 * no images, no links, no command links. Markdown is rendered with the renderers VS Code uses: markdown-it
 * for the markdown preview of `lakescout:` documents (with raw HTML and linkify on, as the preview has
 * them) and marked for MarkdownStrings (chat, hovers).
 */
import MarkdownIt from 'markdown-it';
import { marked } from 'marked';
import { describe, expect, it, vi } from 'vitest';
import type * as vscode from 'vscode';
import { createChatHandler } from '../../src/chat';
import type { LakescoutClient } from '../../src/client';
import { draftSqlCommand, describeTableCommand, type CommandDeps } from '../../src/commands';
import { toDiagnostics } from '../../src/diagnostics';
import { LakescoutDocs, tableUri } from '../../src/docs';
import { LakescoutError } from '../../src/errors';
import { renderAnswer } from '../../src/render';
import type { ChatAnswer, StreamEvent, TableRecord, TableSummary } from '../../src/types';
import { SqlCorrections, verifiedItem } from '../../src/teach';
import { TablesTreeProvider } from '../../src/tree';
import { CancellationTokenSource, FakeChatStream, MarkdownString, MockTextDocument, MockTextEditor, Position, Uri, window } from './vscode-mock';

const PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '</script><script>alert(document.cookie)</script>',
  '[open](javascript:alert(1)) javascript:alert(1)',
  '[run](command:workbench.action.terminal.new) ![pixel](https://evil.example/p.png) command:workbench.action.terminal.new',
];
const URL_TEXT = 'see https://evil.example/steal or www.evil.example';

const RECORD: TableRecord = {
  catalog: 'glue',
  namespace: 'sales',
  name: 'orders',
  kind: 'iceberg',
  comment: [...PAYLOADS, URL_TEXT].join('\n'),
  columns: PAYLOADS.map((p, i) => ({ path: `c${i}`, type: 'string', comment: p, required: false, pii: false, is_partition_key: false })),
};

const SUMMARY: TableSummary = { name: 'sales.orders', namespace: 'sales', catalog: 'glue', kind: 'iceberg', comment: PAYLOADS.join(' ') };

const markdownIt = new MarkdownIt({ html: true, linkify: true });

/** The text a reader sees in rendered HTML. */
function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Rendered markdown that carries no markup from the payloads and shows each of them as text. */
function expectInert(html: string, shown: string[] = PAYLOADS): void {
  const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
  for (const tag of tags) {
    expect(tag).not.toMatch(/^<(img|script|a|iframe|svg|object|embed)\b/i);
    expect(tag).not.toMatch(/\s(href|src|on\w+)=/i);
  }
  const text = visibleText(html).replace(/\s+/g, ' ');
  for (const p of shown) expect(text).toContain(p);
}

function expectUntrusted(parts: (string | MarkdownString)[]): void {
  expect(parts.length).toBeGreaterThan(0);
  for (const part of parts) {
    expect(part).toBeInstanceOf(MarkdownString);
    expect(part).toMatchObject({ isTrusted: false, supportHtml: false, supportThemeIcons: false });
  }
}

function chatRun(client: Partial<LakescoutClient>, prompt: string, command?: string) {
  const handler = createChatHandler({ client: client as LakescoutClient });
  const stream = new FakeChatStream();
  const request = { prompt, command, references: [], toolReferences: [], model: undefined } as unknown as vscode.ChatRequest;
  const token = new CancellationTokenSource().token as unknown as vscode.CancellationToken;
  return { stream, done: handler(request, { history: [] } as unknown as vscode.ChatContext, stream as unknown as vscode.ChatResponseStream, token) };
}

function streamOf(events: StreamEvent[]): Partial<LakescoutClient> {
  return {
    async *chatStream() {
      for (const ev of events) yield ev;
      return (events.at(-1) as { answer: ChatAnswer }).answer;
    },
  } as unknown as Partial<LakescoutClient>;
}

describe('hostile catalog text', () => {
  it('tables view: tooltips and descriptions are plain strings', async () => {
    const tree = new TablesTreeProvider({ listTables: async () => [SUMMARY] } as unknown as LakescoutClient);
    const [ns] = await tree.getChildren();
    const [table] = await tree.getChildren(ns);
    const item = tree.getTreeItem(table);
    expect(typeof item.tooltip).toBe('string');
    expect(item.tooltip).toBe(`sales.orders (iceberg)\n\n${SUMMARY.comment}`);
    expect(item.description).toBe('iceberg');
    expect(item.label).toBe('orders');
  });

  it('table description document (markdown preview): comments render as text', async () => {
    const docs = new LakescoutDocs({ getTable: async () => RECORD } as unknown as LakescoutClient);
    const md = await docs.provideTextDocumentContent(tableUri('sales.orders') as unknown as vscode.Uri);
    expectInert(markdownIt.render(md), [...PAYLOADS, URL_TEXT]);
  });

  it('chat /describe: untrusted markdown whose comments render as text', async () => {
    const { stream, done } = chatRun({ getTable: async () => RECORD } as unknown as Partial<LakescoutClient>, 'sales.orders', 'describe');
    await done;
    expectUntrusted(stream.markdownParts);
    expectInert(await marked.parse(stream.text), [...PAYLOADS, URL_TEXT]);
    expect((stream.of('reference') as Uri[]).map(String)).toEqual(['lakescout:/tables/sales.orders.md']);
  });

  it('chat answers quoting comments: untrusted markdown, inert when shown whole, cited tables as references', async () => {
    const quoted = `The comment of \`sales.orders\` says: ${[...PAYLOADS, URL_TEXT].join(' ')}`;
    const answer: ChatAnswer = { answer: quoted, tables_cited: ['sales.orders'], tool_calls: [], thread_id: 't' };
    const streamed = chatRun(streamOf([{ type: 'token', text: quoted }, { type: 'answer', answer }]), 'q');
    await streamed.done;
    expectUntrusted(streamed.stream.markdownParts);
    expect((streamed.stream.of('reference') as Uri[]).map(String)).toEqual(['lakescout:/tables/sales.orders.md']);

    const whole = chatRun(streamOf([{ type: 'answer', answer }]), 'q');
    await whole.done;
    expectUntrusted(whole.stream.markdownParts);
    expectInert(await marked.parse(whole.stream.text), [...PAYLOADS, URL_TEXT]);
    expect(whole.stream.text).toContain('`sales.orders`'); // the answer's own code spans still render as code
  });

  it('"Ask" answer document (markdown preview): quoted comments render as text, the SQL as code', () => {
    const md = renderAnswer('q', { answer: `Comments: ${[...PAYLOADS, URL_TEXT].join(' ')}`, sql: "SELECT '<img src=x>' AS a", tables_cited: ['sales.orders'], tool_calls: [], thread_id: 't' });
    const html = markdownIt.render(md);
    expectInert(html, [...PAYLOADS, URL_TEXT]);
    expect(html).toContain('<code class="language-sql">SELECT \'&lt;img src=x&gt;\' AS a');
  });

  it('diagnostics and the table picker show server text as plain strings', async () => {
    const message = `Unknown column c0 (${PAYLOADS.join(' ')})`;
    const { diagnostics } = toDiagnostics({ errors: [{ message, identifier: 'c0', suggestions: [] }], warnings: [] }, 'SELECT c0 FROM t', new Position(0, 0) as unknown as vscode.Position, Uri.file('/q.sql') as unknown as vscode.Uri);
    expect(diagnostics[0].message).toBe(message);

    const pick = vi.spyOn(window, 'showQuickPick').mockResolvedValue(undefined);
    await describeTableCommand({ client: { listTables: async () => [SUMMARY] } } as unknown as CommandDeps);
    expect(pick.mock.calls[0][0]).toEqual([{ label: 'sales.orders', description: 'iceberg', detail: SUMMARY.comment }]);
    pick.mockRestore();
  });

  it('notifications carry no clickable links from answers', async () => {
    const warn = vi.spyOn(window, 'showWarningMessage').mockResolvedValue(undefined);
    vi.spyOn(window, 'showInputBox').mockResolvedValue('anything');
    window.activeTextEditor = new MockTextEditor(new MockTextDocument('', Uri.file('/w/d.sql')));
    const chat = async () => ({ answer: PAYLOADS.join(' '), tables_cited: [], tool_calls: [], thread_id: 't' });
    await draftSqlCommand({ client: { chat }, output: { appendLine: () => undefined } } as unknown as CommandDeps);
    const shown = warn.mock.calls[0][0] as string;
    expect(shown).toContain('lakescout did not draft any SQL.');
    expect(shown).not.toMatch(/\]\(/);
    vi.restoreAllMocks();
  });

  it('teaching: verified queries in the picker and the SQL gate\'s refusal are plain strings without links or icons', async () => {
    const item = verifiedItem({ id: 'vq_1', question: `$(alert) ${PAYLOADS.join(' ')}`, sql: 'SELECT 1', author: PAYLOADS[0], created_at: '2026-12-02T00:00:00Z', status: 'stale', stale_reason: PAYLOADS[2], suggestion: PAYLOADS[3] });
    expect(item.label).toBe(`$(warning) STALE $\u200b(alert) ${PAYLOADS.join(' ')}`);
    expect(item.description).toBe(`stale · 2026-12-02 · ${PAYLOADS[0]}`);
    expect(item.detail).toBe(`${PAYLOADS[2]} · suggestion: ${PAYLOADS[3]}`);

    const refusal = new LakescoutError('invalid', 'x', { status: 422, code: 'sql_refused', serverMessage: `the SQL was refused: ${PAYLOADS.join(' ')}` });
    const feedback = async () => {
      throw refusal;
    };
    const warn = vi.spyOn(window, 'showWarningMessage').mockResolvedValue(undefined);
    vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    vi.spyOn(window, 'showInputBox').mockResolvedValue('');
    const corrections = new SqlCorrections({ client: { feedback } as unknown as LakescoutClient, output: { appendLine: () => undefined } as unknown as vscode.OutputChannel });
    const doc = await corrections.open({ thread_id: 't', message_id: 'm', sql: 'SELECT 1' });
    await corrections.send(doc);
    const shown = warn.mock.calls[0][0] as string;
    expect(shown.startsWith('lakescout: the SQL was refused: <img src=x onerror=alert(1)>')).toBe(true);
    expect(shown).not.toMatch(/\]\(/);
    vi.restoreAllMocks();
  });
});
