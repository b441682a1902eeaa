/** Markdown rendering of answers, table records, query results and validation results. Pure functions. */
import type { ChatAnswer, QueryResult, ScanEstimate, TableRecord, TableSummary, ToolCall, ValidationResult } from './client';

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

export function formatScanEstimate(est: ScanEstimate | undefined): string | undefined {
  if (!est) return undefined;
  const parts: string[] = [];
  if (est.files !== undefined) parts.push(`${formatNumber(est.files)} file${est.files === 1 ? '' : 's'}`);
  if (est.bytes !== undefined) parts.push(formatBytes(est.bytes));
  const rows = (est as Record<string, unknown>).rows ?? (est as Record<string, unknown>).records;
  if (typeof rows === 'number') parts.push(`${formatNumber(rows)} rows`);
  return parts.length ? parts.join(', ') : undefined;
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
  out.push(answer.answer.trim() || '_(no answer text)_', '');
  if (answer.sql && !answerContainsSql(answer.answer, answer.sql)) {
    out.push('## SQL', '', codeBlock(answer.sql));
  }
  if (answer.tables_cited.length) {
    out.push('## Tables cited', '');
    for (const t of answer.tables_cited) out.push(`- ${inlineCode(t)}`);
    out.push('');
  }
  if (answer.tool_calls.length) {
    out.push('<details><summary>Steps</summary>', '');
    for (const t of answer.tool_calls) out.push(renderToolStep(t));
    out.push('', '</details>', '');
  }
  if (answer.thread_id) out.push(`<sub>thread ${escapeText(answer.thread_id)}</sub>`, '');
  return out.join('\n');
}

function renderToolStep(t: ToolCall): string {
  const summary = t.summary ? ` — ${escapeText(t.summary)}` : '';
  return `- ${inlineCode(toolLabel(t.name, t.args))}${summary}`;
}

function formatPartitionSpec(spec: unknown): string | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (typeof spec === 'string') return spec || undefined;
  const fields = Array.isArray(spec)
    ? spec
    : typeof spec === 'object' && Array.isArray((spec as { fields?: unknown }).fields)
      ? (spec as { fields: unknown[] }).fields
      : undefined;
  if (!fields) return JSON.stringify(spec);
  if (fields.length === 0) return 'unpartitioned';
  return fields
    .map((f) => {
      if (typeof f === 'string') return f;
      if (f && typeof f === 'object') {
        const o = f as Record<string, unknown>;
        const source = o.source ?? o.source_column ?? o.column ?? o.source_name ?? o.name;
        const transform = o.transform;
        if (transform && source && transform !== 'identity') return `${String(transform)}(${String(source)})`;
        return String(source ?? o.name ?? JSON.stringify(o));
      }
      return String(f);
    })
    .join(', ');
}

const TOTAL_LABELS: Record<string, string> = {
  rows: 'Rows',
  records: 'Rows',
  row_count: 'Rows',
  files: 'Files',
  file_count: 'Files',
  bytes: 'Size',
  size_bytes: 'Size',
  total_bytes: 'Size',
  partitions: 'Partitions',
  snapshots: 'Snapshots',
};

/** Markdown description of a stored table record. */
export function renderTableRecord(rec: TableRecord): string {
  const out: string[] = [];
  out.push(`# ${inlineCode(rec.name)}`, '');
  const meta: string[] = [];
  if (rec.kind) meta.push(`**Kind:** ${escapeText(rec.kind)}`);
  if (rec.catalog) meta.push(`**Catalog:** ${escapeText(rec.catalog)}`);
  if (rec.namespace) meta.push(`**Namespace:** ${escapeText(rec.namespace)}`);
  if (meta.length) out.push(meta.join(' · '), '');
  if (rec.comment) out.push(`> ${escapeText(rec.comment).replace(/\n/g, '\n> ')}`, '');
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
  if (rec.columns.length) {
    const hasPii = rec.columns.some((c) => c.pii !== undefined && c.pii !== false && c.pii !== null && c.pii !== '');
    out.push(`## Columns (${rec.columns.length})`, '');
    out.push(hasPii ? '| Column | Type | PII | Comment |' : '| Column | Type | Comment |');
    out.push(hasPii ? '| --- | --- | --- | --- |' : '| --- | --- | --- |');
    for (const c of rec.columns) {
      const pii = c.pii === true ? 'yes' : typeof c.pii === 'string' && c.pii ? c.pii : '';
      const cells = [escapeCell(c.path), escapeCell(c.type), ...(hasPii ? [escapeCell(pii)] : []), escapeCell(c.comment ?? '')];
      out.push(`| ${cells.join(' | ')} |`);
    }
    out.push('');
  } else {
    out.push('_No columns recorded._', '');
  }
  return out.join('\n');
}

/** Markdown table of a query result. */
export function renderQueryResult(sql: string, res: QueryResult): string {
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
export function renderQueryResultText(res: QueryResult): string {
  const cell = (v: unknown) => (v === null ? 'NULL' : v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const rows = res.rows.map((r) => res.columns.map((_, i) => cell(r[i]).replace(/\s+/g, ' ')));
  const widths = res.columns.map((c, i) => Math.min(40, Math.max(c.length, ...rows.map((r) => r[i].length))));
  const fmt = (cells: string[]) => cells.map((c, i) => (c.length > widths[i] ? c.slice(0, widths[i] - 1) + '…' : c.padEnd(widths[i]))).join(' | ');
  const lines = [fmt(res.columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(fmt)];
  lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'}${res.truncated ? ', truncated' : ''})`);
  return lines.join('\n');
}

/** One-line summary of a validation result. */
export function summarizeValidation(v: ValidationResult): string {
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
export function groupTables(tables: TableSummary[]): { key: string; namespace: string; catalog?: string; tables: TableSummary[] }[] {
  const groups = new Map<string, { key: string; namespace: string; catalog?: string; tables: TableSummary[] }>();
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
export function shortTableName(t: TableSummary): string {
  if (t.namespace && t.name.startsWith(t.namespace + '.')) return t.name.slice(t.namespace.length + 1);
  const dot = t.name.lastIndexOf('.');
  return dot >= 0 ? t.name.slice(dot + 1) : t.name;
}
