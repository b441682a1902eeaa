/**
 * Markdown rendering of answers, table records, query results and validation results. Pure functions.
 * Catalog text (comments, properties) is escaped with `inertText`, so it renders as the same characters
 * and never as HTML, an image or a link.
 */
import { qualifiedName, type ChatAnswer, type PartitionSpec, type QueryResult, type ScanEstimate, type TableRecord, type TableSummary, type ToolCall, type ValidationResult } from './types';

/** A fenced code block whose fence is longer than any backtick run inside the code. */
export function codeBlock(code: string, lang = 'sql'): string {
  const runs = code.match(/`+/g) ?? [];
  const longest = runs.reduce((m, r) => Math.max(m, r.length), 0);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${code.replace(/\s+$/, '')}\n${fence}\n`;
}

/** Inline code that survives backticks in the value. */
export function inlineCode(s: string): string {
  const runs = s.match(/`+/g) ?? [];
  const longest = runs.reduce((m, r) => Math.max(m, r.length), 0);
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** Escape text for a markdown table cell (pipes, newlines) and inline markdown. */
export function escapeCell(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) s = v === null ? 'NULL' : '';
  else if (typeof v === 'object') s = JSON.stringify(v);
  else s = String(v);
  if (s.length > 200) s = s.slice(0, 197) + '...';
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n|\r/g, ' ')
    .replace(/([*_`<>[\]])/g, '\\$1');
}

/**
 * Catalog text as inert markdown: every ASCII punctuation character is backslash-escaped (CommonMark lets
 * any of them be), so no HTML, image, link, autolink or emphasis can start, and linkifiers see no URL.
 */
export function inertText(s: string): string {
  return s.replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/** Fenced code blocks and inline code spans: markdown that shows its content as text already. */
const CODE = /(^|\n)(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:\n\2[`~]*[ \t]*(?=\n|$)|$)|(`+)[\s\S]*?\3/g;

/**
 * The server's answer markdown with everything that could come from quoted catalog text made inert:
 * outside code, `<` (HTML, autolinks), `[`/`]` (links, images) and the `:` of `scheme://` and `.` of
 * `www.` (bare-URL links) are escaped. Code, emphasis, lists and headings of the answer still render.
 */
export function inertProse(md: string): string {
  const escape = (prose: string) =>
    prose
      .replace(/[<[\]]/g, '\\$&')
      .replace(/:\/\//g, '\\://')
      .replace(/\b(www)\./gi, '$1\\.');
  let out = '';
  let last = 0;
  for (const m of md.matchAll(CODE)) {
    out += escape(md.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + escape(md.slice(last));
}

/** Text for a notification, whose `[label](target)` links (command: ones too) VS Code makes clickable. */
export function plainNotice(s: string): string {
  return s.replace(/\]\(/g, '] (');
}

/** Catalog text for a table cell: inert, on one line, cut at 200 characters. */
function inertCell(s: string): string {
  const line = s.replace(/\r?\n|\r/g, ' ');
  return inertText(line.length > 200 ? line.slice(0, 197) + '...' : line);
}

/** Escape free text so markdown syntax in it is shown literally. */
export function escapeText(s: string): string {
  return s.replace(/([\\`*_{}[\]<>#|])/g, '\\$1');
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatNumber(n: unknown): string {
  if (typeof n === 'number' && Number.isFinite(n)) return n.toLocaleString('en-US');
  if (typeof n === 'string' && n.trim() !== '' && Number.isFinite(Number(n))) return Number(n).toLocaleString('en-US');
  return n === undefined || n === null ? '?' : String(n);
}

/** `files, size` of a validation's scan estimate, summed over the tables the query reads. */
export function formatScanEstimate(est: ValidationResult['scan_estimate']): string | undefined {
  const tables = Object.values((est as ScanEstimate | null | undefined)?.tables ?? {});
  const parts: string[] = [];
  const files = sumOf(tables.map((t) => t.files));
  const bytes = sumOf(tables.map((t) => t.bytes));
  if (files !== undefined) parts.push(`${formatNumber(files)} file${files === 1 ? '' : 's'}`);
  if (bytes !== undefined) parts.push(formatBytes(bytes));
  return parts.length ? parts.join(', ') : undefined;
}

function sumOf(values: (number | null | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => typeof v === 'number');
  return known.length ? known.reduce((a, b) => a + b, 0) : undefined;
}

/** A short label for one tool step: `search_tables` + a compact view of its args. */
export function toolLabel(name: string, args?: unknown): string {
  let a = '';
  if (args && typeof args === 'object' && Object.keys(args).length > 0) {
    const vals = Object.values(args as Record<string, unknown>)
      .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
      .join(', ');
    a = vals.length > 80 ? vals.slice(0, 77) + '...' : vals;
  } else if (typeof args === 'string') {
    a = args.length > 80 ? args.slice(0, 77) + '...' : args;
  }
  return a ? `${name}(${a})` : name;
}

function normalizeWs(s: string): string {
  return s.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** True when the answer text already shows this SQL (so it need not be repeated). */
export function answerContainsSql(answerText: string, sql: string): boolean {
  const a = normalizeWs(answerText);
  const q = normalizeWs(sql).replace(/;$/, '');
  return q.length > 0 && a.includes(q);
}

/** The whole answer as one markdown document (for the "Ask" command preview). */
export function renderAnswer(question: string, answer: ChatAnswer): string {
  const out: string[] = [];
  out.push(`# ${escapeText(question.split('\n')[0].slice(0, 120))}`, '');
  out.push(inertProse(answer.answer.trim()) || '_(no answer text)_', '');
  if (answer.sql && !answerContainsSql(answer.answer, answer.sql)) {
    out.push('## SQL', '', codeBlock(answer.sql));
  }
  const cited = answer.tables_cited ?? [];
  if (cited.length) {
    out.push('## Tables cited', '');
    for (const t of cited) out.push(`- ${inlineCode(t)}`);
    out.push('');
  }
  const steps = answer.tool_calls ?? [];
  if (steps.length) {
    out.push('<details><summary>Steps</summary>', '');
    for (const t of steps) out.push(renderToolStep(t));
    out.push('', '</details>', '');
  }
  if (answer.thread_id) out.push(`<sub>thread ${escapeText(answer.thread_id)}</sub>`, '');
  return out.join('\n');
}

function renderToolStep(t: ToolCall): string {
  const summary = t.summary ? ` — ${escapeText(t.summary)}` : '';
  return `- ${inlineCode(toolLabel(t.name, t.args))}${summary}`;
}

function formatPartitionSpec(spec: PartitionSpec | undefined): string | undefined {
  if (!spec) return undefined;
  const fields = spec.fields ?? [];
  if (fields.length === 0) return 'unpartitioned';
  return fields.map((f) => (f.transform === 'identity' ? f.source_column : `${f.transform}(${f.source_column})`)).join(', ');
}

const TOTAL_LABELS: Record<string, string> = {
  record_count: 'Rows',
  file_count: 'Files',
  total_bytes: 'Size',
  partition_count: 'Partitions',
};

/** What renderTableRecord reads of a record. */
export type TableRecordView = Pick<TableRecord, 'name'> &
  Partial<Pick<TableRecord, 'namespace' | 'catalog' | 'kind' | 'comment' | 'partition_spec' | 'totals'>> & {
    columns?: { path: string; type: string; comment?: string | null; pii?: boolean }[];
  };

/** Markdown description of a stored table record. */
export function renderTableRecord(rec: TableRecordView): string {
  const out: string[] = [];
  out.push(`# ${inlineCode(qualifiedName(rec))}`, '');
  const meta: string[] = [];
  if (rec.kind) meta.push(`**Kind:** ${escapeText(rec.kind)}`);
  if (rec.catalog) meta.push(`**Catalog:** ${escapeText(rec.catalog)}`);
  if (rec.namespace) meta.push(`**Namespace:** ${escapeText(rec.namespace)}`);
  if (meta.length) out.push(meta.join(' · '), '');
  if (rec.comment) out.push(`> ${inertText(rec.comment).replace(/\r?\n|\r/g, '\n> ')}`, '');
  const part = formatPartitionSpec(rec.partition_spec);
  if (part) out.push(`**Partitioned by:** ${escapeText(part)}`, '');
  if (rec.totals && Object.keys(rec.totals).length) {
    const items = Object.entries(rec.totals).map(([k, v]) => {
      const label = TOTAL_LABELS[k] ?? k;
      const val = /bytes/.test(k) && typeof v === 'number' ? formatBytes(v) : formatNumber(v);
      return `**${escapeText(label)}:** ${escapeText(val)}`;
    });
    out.push(items.join(' · '), '');
  }
  const columns = rec.columns ?? [];
  if (columns.length) {
    const hasPii = columns.some((c) => c.pii);
    out.push(`## Columns (${columns.length})`, '');
    out.push(hasPii ? '| Column | Type | PII | Comment |' : '| Column | Type | Comment |');
    out.push(hasPii ? '| --- | --- | --- | --- |' : '| --- | --- | --- |');
    for (const c of columns) {
      const cells = [escapeCell(c.path), escapeCell(c.type), ...(hasPii ? [c.pii ? 'yes' : ''] : []), inertCell(c.comment ?? '')];
      out.push(`| ${cells.join(' | ')} |`);
    }
    out.push('');
  } else {
    out.push('_No columns recorded._', '');
  }
  return out.join('\n');
}

/** What the query-result renderers read. */
type QueryRows = Pick<QueryResult, 'columns' | 'rows' | 'truncated'>;

/** Markdown table of a query result. */
export function renderQueryResult(sql: string, res: QueryRows): string {
  const out: string[] = [];
  out.push('# Query result', '', codeBlock(sql));
  if (res.columns.length === 0) {
    out.push('_The query returned no columns._', '');
    return out.join('\n');
  }
  out.push(`| ${res.columns.map(escapeCell).join(' | ')} |`);
  out.push(`| ${res.columns.map(() => '---').join(' | ')} |`);
  for (const row of res.rows) {
    const cells = res.columns.map((_, i) => escapeCell(row[i]));
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('');
  const n = res.rows.length;
  out.push(`${n} row${n === 1 ? '' : 's'}${res.truncated ? ' (truncated: more rows exist; raise `lakescout.runRowLimit` or add a LIMIT)' : ''}.`, '');
  return out.join('\n');
}

/** Plain-text query result for an output channel. */
export function renderQueryResultText(res: QueryRows): string {
  const cell = (v: unknown) => (v === null ? 'NULL' : v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const rows = res.rows.map((r) => res.columns.map((_, i) => cell(r[i]).replace(/\s+/g, ' ')));
  const widths = res.columns.map((c, i) => Math.min(40, Math.max(c.length, ...rows.map((r) => r[i].length))));
  const fmt = (cells: string[]) => cells.map((c, i) => (c.length > widths[i] ? c.slice(0, widths[i] - 1) + '…' : c.padEnd(widths[i]))).join(' | ');
  const lines = [fmt(res.columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(fmt)];
  lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'}${res.truncated ? ', truncated' : ''})`);
  return lines.join('\n');
}

/** One-line summary of a validation result. */
export function summarizeValidation(v: Pick<ValidationResult, 'ok' | 'scan_estimate'> & { errors: unknown[]; warnings: unknown[] }): string {
  const scan = formatScanEstimate(v.scan_estimate);
  const scanText = scan ? ` Scan estimate: ${scan}.` : '';
  if (v.ok && v.errors.length === 0) {
    const w = v.warnings.length ? ` with ${v.warnings.length} warning${v.warnings.length === 1 ? '' : 's'}` : '';
    return `lakescout: SQL is valid${w}.${scanText}`;
  }
  const n = v.errors.length;
  return `lakescout: ${n || 'some'} problem${n === 1 ? '' : 's'} found in the SQL.${scanText}`;
}

/** Group tables by (catalog, namespace) for the tree view; keys are sorted. */
export function groupTables<T extends Pick<TableSummary, 'name' | 'namespace'> & { catalog?: string }>(
  tables: T[],
): { key: string; namespace: string; catalog?: string; tables: T[] }[] {
  const groups = new Map<string, { key: string; namespace: string; catalog?: string; tables: T[] }>();
  for (const t of tables) {
    const key = `${t.catalog ?? ''}\u0000${t.namespace}`;
    let g = groups.get(key);
    if (!g) {
      g = { key, namespace: t.namespace || '(default)', catalog: t.catalog, tables: [] };
      groups.set(key, g);
    }
    g.tables.push(t);
  }
  const list = [...groups.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || (a.catalog ?? '').localeCompare(b.catalog ?? ''));
  for (const g of list) g.tables.sort((a, b) => a.name.localeCompare(b.name));
  return list;
}

/** The part of a table name after its namespace. */
export function shortTableName(t: Pick<TableSummary, 'name' | 'namespace'>): string {
  if (t.namespace && t.name.startsWith(t.namespace + '.')) return t.name.slice(t.namespace.length + 1);
  const dot = t.name.lastIndexOf('.');
  return dot >= 0 ? t.name.slice(dot + 1) : t.name;
}
