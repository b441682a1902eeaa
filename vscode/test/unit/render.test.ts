import { describe, expect, it } from 'vitest';
import {
  answerContainsSql,
  codeBlock,
  escapeCell,
  formatBytes,
  formatScanEstimate,
  groupTables,
  inlineCode,
  renderAnswer,
  renderQueryResult,
  renderQueryResultText,
  renderTableRecord,
  shortTableName,
  summarizeValidation,
  toolLabel,
} from '../../src/render';

describe('render helpers', () => {
  it('fences code longer than any backtick run inside it', () => {
    expect(codeBlock('SELECT 1\n')).toBe('```sql\nSELECT 1\n```\n');
    expect(codeBlock('SELECT "a```b"')).toBe('````sql\nSELECT "a```b"\n````\n');
    expect(inlineCode('a`b')).toBe('``a`b``');
    expect(inlineCode('`x')).toBe('`` `x ``');
  });

  it('escapes table cells', () => {
    expect(escapeCell('a|b\nc')).toBe('a\\|b c');
    expect(escapeCell(null)).toBe('NULL');
    expect(escapeCell(undefined)).toBe('');
    expect(escapeCell({ k: 1 })).toBe('{"k":1}');
    expect(escapeCell('<script>')).toBe('\\<script\\>');
    expect(escapeCell('x'.repeat(300))).toHaveLength(200);
  });

  it('formats bytes, scan estimates and tool labels', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB');
    expect(formatBytes(undefined)).toBe('?');
    expect(formatScanEstimate({ tables: { 'a.b': { files: 1000, bytes: 2 * 1024 ** 4 }, 'a.c': { files: 200, bytes: 1024 ** 4 } } })).toBe('1,200 files, 3.0 TB');
    expect(formatScanEstimate({ tables: { 'a.b': { files: 1, bytes: null } } })).toBe('1 file');
    expect(formatScanEstimate({})).toBeUndefined();
    expect(toolLabel('search_tables', { query: 'refunds', k: 5 })).toBe('search_tables(refunds, 5)');
    expect(toolLabel('list')).toBe('list');
    expect(toolLabel('x', { q: 'y'.repeat(100) })).toHaveLength('x()'.length + 80);
  });

  it('detects SQL already present in an answer, ignoring whitespace, case and a final semicolon', () => {
    expect(answerContainsSql('Try:\n```sql\nselect *\n  from t;\n```', 'SELECT * FROM t')).toBe(true);
    expect(answerContainsSql('Use table t.', 'SELECT * FROM t')).toBe(false);
  });
});

describe('renderAnswer', () => {
  it('renders the answer, SQL, cited tables and steps', () => {
    const md = renderAnswer('refunds by region?', {
      answer: 'Use sales.refunds.',
      sql: 'SELECT 1',
      tables_cited: ['sales.refunds'],
      tool_calls: [{ name: 'search_tables', args: { query: 'refunds' }, summary: '3 hits' }],
      thread_id: 't1',
    });
    expect(md).toContain('# refunds by region?');
    expect(md).toContain('Use sales.refunds.');
    expect(md).toContain('## SQL\n\n```sql\nSELECT 1\n```');
    expect(md).toContain('- `sales.refunds`');
    expect(md).toContain('- `search_tables(refunds)` — 3 hits');
  });
});

describe('renderTableRecord', () => {
  it('renders metadata, partitioning, totals and columns (with PII only when present)', () => {
    const md = renderTableRecord({
      name: 'orders',
      namespace: 'sales',
      catalog: 'glue',
      kind: 'iceberg',
      comment: 'One row per order',
      partition_spec: {
        spec_id: 0,
        fields: [
          { source_column: 'order_date', transform: 'day', name: 'order_date_day' },
          { source_column: 'region', transform: 'identity', name: 'region' },
        ],
      },
      totals: { record_count: 1234567, file_count: 12, total_bytes: 2 * 1024 ** 3 },
      columns: [
        { path: 'order_id', type: 'long', comment: 'PK' },
        { path: 'customer.email', type: 'string', pii: true },
        { path: 'notes', type: 'string', comment: 'free | text' },
      ],
    });
    expect(md).toContain('# `sales.orders`');
    expect(md).toContain('**Kind:** iceberg · **Catalog:** glue · **Namespace:** sales');
    expect(md).toContain('> One row per order');
    expect(md).toContain('**Partitioned by:** day(order\\_date), region');
    expect(md).toContain('**Rows:** 1,234,567 · **Files:** 12 · **Size:** 2.0 GB');
    expect(md).toContain('| Column | Type | PII | Comment |');
    expect(md).toContain('| customer.email | string | yes |  |');
    expect(md).toContain('| notes | string |  | free \\| text |');
  });

  it('omits the PII column and handles no columns', () => {
    const md = renderTableRecord({ name: 't', columns: [{ path: 'a', type: 'int' }] });
    expect(md).toContain('| Column | Type | Comment |');
    expect(renderTableRecord({ name: 't', columns: [] })).toContain('_No columns recorded._');
    expect(renderTableRecord({ name: 't', columns: [], partition_spec: { spec_id: 0, fields: [] } })).toContain('unpartitioned');
  });
});

describe('query results', () => {
  const res = { columns: ['region', 'total'], rows: [['EU', 10], ['US|CA', null]], truncated: true };
  it('renders a markdown table with a truncation note', () => {
    const md = renderQueryResult('SELECT 1', res);
    expect(md).toContain('| region | total |\n| --- | --- |\n| EU | 10 |\n| US\\|CA | NULL |');
    expect(md).toContain('2 rows (truncated');
  });
  it('renders aligned text for the output channel', () => {
    expect(renderQueryResultText(res).split('\n')).toEqual(['region | total', '-------+------', 'EU     | 10   ', 'US|CA  | NULL ', '(2 rows, truncated)']);
  });
});

describe('validation summary and table grouping', () => {
  it('summarises validation', () => {
    expect(summarizeValidation({ ok: true, errors: [], warnings: [], scan_estimate: { tables: { 'a.b': { files: 3, bytes: 1024 } } } })).toBe(
      'lakescout: SQL is valid. Scan estimate: 3 files, 1.0 KB.',
    );
    expect(summarizeValidation({ ok: true, errors: [], warnings: [{ message: 'w', suggestions: [] }] })).toBe('lakescout: SQL is valid with 1 warning.');
    expect(summarizeValidation({ ok: false, errors: [{ message: 'e', suggestions: [] }, { message: 'f', suggestions: [] }], warnings: [] })).toBe(
      'lakescout: 2 problems found in the SQL.',
    );
  });

  it('groups tables by catalog and namespace, sorted', () => {
    const groups = groupTables([
      { name: 'sales.orders', namespace: 'sales' },
      { name: 'raw.events', namespace: 'raw' },
      { name: 'sales.customers', namespace: 'sales' },
      { name: 'sales.orders', namespace: 'sales', catalog: 'other' },
    ]);
    expect(groups.map((g) => [g.namespace, g.catalog, g.tables.map((t) => t.name)])).toEqual([
      ['raw', undefined, ['raw.events']],
      ['sales', undefined, ['sales.customers', 'sales.orders']],
      ['sales', 'other', ['sales.orders']],
    ]);
    expect(shortTableName({ name: 'a.b.c', namespace: 'a.b' })).toBe('c');
    expect(shortTableName({ name: 'x.y', namespace: '' })).toBe('y');
  });
});
