import { describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import type { LakescoutClient } from '../../src/client';
import type { ValidationResult } from '../../src/types';
import type { ValidationView } from '../../src/diagnostics';
import { locateIssue, replacementFor, SqlDiagnostics, toDiagnostics } from '../../src/diagnostics';
import {
  CodeActionKind,
  Diagnostic,
  DiagnosticSeverity,
  MockDiagnosticCollection,
  MockTextDocument,
  MockTextEditor,
  Position,
  Range,
  Selection,
  Uri,
  WorkspaceEdit,
} from './vscode-mock';

const URI = Uri.file('/work/q.sql');
const vUri = URI as unknown as vscode.Uri;
const pos = (l: number, c: number) => new Position(l, c) as unknown as vscode.Position;
const SQL = 'SELECT o.amnt, region\nFROM sales.ordrs o\nJOIN geo.regions r ON o.region_id = r.id';

type Ranged = { range: { start: { line: number; character: number }; end: { line: number; character: number } } };
const rangeOf = (d: Ranged) => [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character];

describe('locateIssue', () => {
  it('finds the identifier, preferring the reported line and column', () => {
    expect(locateIssue(SQL, { message: 'x', identifier: 'sales.ordrs', suggestions: [] })).toMatchObject({ startLine: 1, startChar: 5, endChar: 16, exact: true });
    const text = 'SELECT id FROM t\nUNION ALL\nSELECT id FROM t';
    expect(locateIssue(text, { message: 'x', identifier: 't', suggestions: [], line: 3, column: 16 })).toMatchObject({ startLine: 2, startChar: 15, exact: true });
  });

  it('does not match inside longer identifiers, and is case-insensitive', () => {
    expect(locateIssue('SELECT orders_id FROM ORDERS', { message: 'x', identifier: 'orders', suggestions: [] })).toMatchObject({ startLine: 0, startChar: 22 });
  });

  it('falls back to the last part of a qualified or quoted identifier', () => {
    expect(locateIssue('SELECT amnt FROM t', { message: 'x', identifier: 'o.amnt', suggestions: [] })).toMatchObject({ startChar: 7, endChar: 11, exact: true });
    expect(locateIssue('SELECT * FROM "sales"."ordrs"', { message: 'x', identifier: 'sales.ordrs', suggestions: [] })).toMatchObject({ startChar: 14, endChar: 29 });
  });

  it('uses line/column, then the line, then the first non-empty line', () => {
    expect(locateIssue(SQL, { message: 'x', suggestions: [], line: 2, column: 6 })).toMatchObject({ startLine: 1, startChar: 5, endChar: 16, exact: false });
    expect(locateIssue(SQL, { message: 'x', suggestions: [], line: 3 })).toMatchObject({ startLine: 2, startChar: 0, endChar: 40 });
    expect(locateIssue('\n  SELECT 1  \n', { message: 'x', suggestions: [] })).toMatchObject({ startLine: 1, startChar: 2, endChar: 10 });
    expect(locateIssue(SQL, { message: 'x', suggestions: [], line: 99 })).toMatchObject({ startLine: 2 });
  });
});

describe('toDiagnostics', () => {
  const result: ValidationView = {
    ok: false,
    errors: [
      { message: "Unknown table 'sales.ordrs'", code: 'unknown_table', identifier: 'sales.ordrs', suggestions: ['sales.orders', 'sales.orders_v2'] },
      { message: "Unknown column 'o.amnt'. Did you mean 'amount'?", identifier: 'o.amnt', suggestions: ['amount'] },
      { message: 'Syntax error', suggestions: [], line: 3, column: 1 },
    ],
    warnings: [{ message: 'No filter on partition column order_date of sales.orders', code: 'missing_partition_filter', identifier: 'sales.ordrs', suggestions: [] }],
    scan_estimate: { tables: { 'sales.orders': { files: 5000, bytes: 1024 ** 4 }, 'geo.regions': { files: 400, bytes: 0.5 * 1024 ** 4 } } },
  };

  it('maps errors and warnings with ranges, severities, codes, suggestions and the scan estimate', () => {
    const { diagnostics, fixes } = toDiagnostics(result, SQL, pos(0, 0), vUri);
    expect(diagnostics).toHaveLength(4);
    const [table, column, syntax, partition] = diagnostics;
    expect(table.severity).toBe(DiagnosticSeverity.Error);
    expect(table.source).toBe('lakescout');
    expect(table.code).toBe('unknown_table');
    expect(rangeOf(table)).toEqual([1, 5, 1, 16]);
    expect(table.message).toBe("Unknown table 'sales.ordrs' Did you mean 'sales.orders', 'sales.orders_v2'?");
    expect(table.relatedInformation?.map((r) => r.message)).toEqual(["Did you mean 'sales.orders'?", "Did you mean 'sales.orders_v2'?"]);
    expect(column.message).toBe("Unknown column 'o.amnt'. Did you mean 'amount'?"); // suggestion already in the text
    expect(rangeOf(column)).toEqual([0, 7, 0, 13]);
    expect(rangeOf(syntax)).toEqual([2, 0, 2, 4]);
    expect(partition.severity).toBe(DiagnosticSeverity.Warning);
    expect(partition.message).toBe('No filter on partition column order_date of sales.orders Scan estimate: 5,400 files, 1.5 TB.');
    expect(fixes.map((f) => [f.original, f.replacements])).toEqual([
      ['sales.ordrs', ['sales.orders', 'sales.orders_v2']],
      ['o.amnt', ['o.amount']],
    ]);
  });

  it('offsets positions by the start of the validated selection', () => {
    const sel = 'SELECT * FROM sales.ordrs\nWHERE x = 1';
    const { diagnostics } = toDiagnostics(
      { ok: false, errors: [{ message: 'Unknown table', identifier: 'sales.ordrs', suggestions: [] }, { message: 'bad', suggestions: [], line: 2, column: 7 }], warnings: [] },
      sel,
      pos(10, 4),
      vUri,
    );
    expect(rangeOf(diagnostics[0])).toEqual([10, 18, 10, 29]);
    expect(rangeOf(diagnostics[1])).toEqual([11, 6, 11, 7]);
  });

  it('keeps qualifiers when replacing', () => {
    expect(replacementFor('o.amnt', 'amount')).toBe('o.amount');
    expect(replacementFor('o.amnt', 'p.amount')).toBe('p.amount');
    expect(replacementFor('ordrs', 'orders')).toBe('orders');
  });
});

describe('the server response of POST /v1/sql/validate', () => {
  // As lakescout serve sends it: nulls for what is not known, 1-based line/column into the validated text.
  const TEXT = 'SELECT region, amount\nFROM finance.refunds\nWHERE regionn = 1';
  const RAW = {
    ok: false,
    errors: [
      { code: 'unknown_column', message: 'unknown column regionn in finance.refunds; did you mean region?', identifier: 'regionn', suggestions: ['region'], line: 3, column: 7 },
      { code: 'parse_error', message: 'could not parse', identifier: null, suggestions: [], line: null, column: null },
    ],
    warnings: [{ code: 'missing_partition_filter', message: 'finance.refunds scans every partition', identifier: 'finance.refunds', suggestions: [], line: 2, column: 6 }],
    tables: ['finance.refunds'],
    sql: null,
    scan_estimate: null,
  };

  it('lands each issue on its identifier, with codes and a replace fix for suggestions', () => {
    const result: ValidationResult = RAW;
    const { diagnostics, fixes } = toDiagnostics(result, TEXT, pos(0, 0), vUri);
    expect(diagnostics.map((d) => [d.code, ...rangeOf(d as unknown as Ranged)])).toEqual([
      ['unknown_column', 2, 6, 2, 13],
      ['parse_error', 0, 0, 0, 21],
      ['missing_partition_filter', 1, 5, 1, 20],
    ]);
    expect(fixes).toHaveLength(1);
    expect(fixes[0]).toMatchObject({ original: 'regionn', replacements: ['region'] });
  });
});

describe('SqlDiagnostics', () => {
  function setup(result: unknown) {
    const sent: string[] = [];
    const client = {
      validateSql: async (sql: string) => {
        sent.push(sql);
        return result;
      },
    } as unknown as LakescoutClient;
    const collection = new MockDiagnosticCollection('lakescout');
    const diags = new SqlDiagnostics(client, collection as unknown as vscode.DiagnosticCollection);
    return { diags, collection, sent };
  }

  const RESULT: ValidationView = {
    ok: false,
    errors: [{ message: 'Unknown table', identifier: 'sales.ordrs', suggestions: ['sales.orders'] }],
    warnings: [],
  };

  it('validates the whole document, stores diagnostics and offers replace quick fixes', async () => {
    const { diags, collection, sent } = setup(RESULT);
    const doc = new MockTextDocument(SQL, URI);
    const editor = new MockTextEditor(doc);
    await diags.validateEditor(editor as unknown as vscode.TextEditor);
    expect(sent).toEqual([SQL]);
    const stored = collection.get(URI)!;
    expect(stored).toHaveLength(1);

    const actions = diags.provideCodeActions(doc as unknown as vscode.TextDocument, stored[0].range as vscode.Range, {
      diagnostics: stored,
    } as unknown as vscode.CodeActionContext);
    expect(actions).toHaveLength(1);
    expect(actions[0].title).toBe("Replace with 'sales.orders'");
    expect(actions[0].kind).toBe(CodeActionKind.QuickFix);
    expect(actions[0].isPreferred).toBe(true);
    const edit = (actions[0].edit as unknown as WorkspaceEdit).edits[0];
    expect(edit.newText).toBe('sales.orders');
    doc.applyEdit(edit.range, edit.newText);
    expect(doc.getText()).toContain('FROM sales.orders o');
    // The text changed: the (stale) fix is no longer offered.
    expect(diags.provideCodeActions(doc as unknown as vscode.TextDocument, stored[0].range as vscode.Range, { diagnostics: stored } as unknown as vscode.CodeActionContext)).toEqual([]);
  });

  it('validates only the selection when there is one, and clears on empty text', async () => {
    const { diags, collection, sent } = setup(RESULT);
    const doc = new MockTextDocument('-- header\nSELECT * FROM sales.ordrs\n', URI);
    const editor = new MockTextEditor(doc, new Selection(new Position(1, 0), new Position(1, 25)));
    await diags.validateEditor(editor as unknown as vscode.TextEditor);
    expect(sent).toEqual(['SELECT * FROM sales.ordrs']);
    expect(rangeOf(collection.get(URI)![0])).toEqual([1, 14, 1, 25]);

    const empty = new MockTextEditor(new MockTextDocument('   ', URI));
    expect(await diags.validateEditor(empty as unknown as vscode.TextEditor)).toBeUndefined();
    expect(collection.get(URI)).toBeUndefined();
  });

  it('ignores diagnostics from other sources', () => {
    const { diags } = setup(RESULT);
    const d = new Diagnostic(new Range(0, 0, 0, 1), 'other');
    d.source = 'eslint';
    const doc = new MockTextDocument('x', URI);
    expect(diags.provideCodeActions(doc as unknown as vscode.TextDocument, d.range as vscode.Range, { diagnostics: [d] } as unknown as vscode.CodeActionContext)).toEqual([]);
  });
});
