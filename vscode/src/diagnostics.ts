/**
 * Diagnostics from `POST /v1/sql/validate`: unknown tables/columns as errors (suggestions become
 * "Replace with …" quick fixes and related information), missing partition filters etc. as warnings
 * carrying the scan estimate.
 *
 * Positions from the server (`line`, `column`) are taken as 1-based, relative to the validated text
 * (the selection or the whole document). When an issue names an `identifier`, its occurrence in the text
 * gives the exact range.
 */
import * as vscode from 'vscode';
import type { LakescoutClient } from './client';
import { formatScanEstimate, summarizeValidation } from './render';
import type { SqlIssue, ValidationResult } from './types';

export const SOURCE = 'lakescout';

/** What diagnostics read of an issue and of a validation result. */
export type IssueView = Pick<SqlIssue, 'message'> & Partial<SqlIssue>;
export type ValidationView = Partial<Pick<ValidationResult, 'ok' | 'scan_estimate'>> & { errors: IssueView[]; warnings: IssueView[] };

export interface Fix {
  range: vscode.Range;
  message: string;
  /** The text expected at `range` (checked before offering a fix, since diagnostics go stale on edits). */
  original: string;
  replacements: string[];
}

interface LocalRange {
  startLine: number;
  startChar: number;
  endLine: number;
  endChar: number;
  /** True when the range covers the identifier itself (so it can be replaced). */
  exact: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Occurrences of `ident` in `line`, ignoring case, not inside a longer identifier. */
function findInLine(line: string, ident: string): number[] {
  if (!ident) return [];
  const re = new RegExp(`(?<![A-Za-z0-9_$])${escapeRegExp(ident)}(?![A-Za-z0-9_$])`, 'gi');
  const hits: number[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) {
    hits.push(m.index);
    if (m[0].length === 0) re.lastIndex++;
  }
  return hits;
}

/** Variants of an identifier to look for: as given, unquoted per part, then its last part. */
function identVariants(ident: string): string[] {
  const v = [ident];
  const unq = ident.replace(/["`[\]]/g, '');
  if (unq !== ident) v.push(unq);
  const parts = unq.split('.');
  if (parts.length > 1) {
    v.push(parts.map((p) => `"${p}"`).join('.'));
    v.push(parts[parts.length - 1]);
  }
  return [...new Set(v.filter(Boolean))];
}

/** Locate an issue inside `text` (0-based local coordinates). */
export function locateIssue(text: string, issue: IssueView): LocalRange {
  const lines = text.split(/\r\n|\r|\n/);
  const lineIdx = issue.line != null ? Math.min(Math.max(issue.line - 1, 0), lines.length - 1) : undefined;
  const colIdx = issue.column != null ? Math.max(issue.column - 1, 0) : undefined;

  if (issue.identifier) {
    for (const variant of identVariants(issue.identifier)) {
      const searchLines = lineIdx !== undefined ? [lineIdx, ...lines.keys()] : [...lines.keys()];
      for (const li of searchLines) {
        const hits = findInLine(lines[li], variant);
        if (hits.length === 0) continue;
        // Prefer the hit closest to the reported column.
        const best = colIdx !== undefined && li === lineIdx ? hits.reduce((a, b) => (Math.abs(b - colIdx) < Math.abs(a - colIdx) ? b : a)) : hits[0];
        return { startLine: li, startChar: best, endLine: li, endChar: best + variant.length, exact: true };
      }
    }
  }
  if (lineIdx !== undefined) {
    const line = lines[lineIdx];
    if (colIdx !== undefined && colIdx < line.length) {
      const m = /^[A-Za-z0-9_$."`]+/.exec(line.slice(colIdx));
      const len = m ? m[0].length : 1;
      return { startLine: lineIdx, startChar: colIdx, endLine: lineIdx, endChar: colIdx + len, exact: false };
    }
    return wholeLine(lines, lineIdx);
  }
  const firstNonEmpty = lines.findIndex((l) => l.trim() !== '');
  return wholeLine(lines, firstNonEmpty >= 0 ? firstNonEmpty : 0);
}

function wholeLine(lines: string[], i: number): LocalRange {
  const line = lines[i] ?? '';
  const start = line.length - line.trimStart().length;
  return { startLine: i, startChar: start, endLine: i, endChar: Math.max(line.trimEnd().length, start), exact: false };
}

function toDocRange(r: LocalRange, base: vscode.Position): vscode.Range {
  const pos = (line: number, ch: number) => new vscode.Position(base.line + line, line === 0 ? base.character + ch : ch);
  return new vscode.Range(pos(r.startLine, r.startChar), pos(r.endLine, r.endChar));
}

const PARTITION_HINT = /partition|full scan|scan/i;

function issueMessage(issue: IssueView, suggestions: string[], scan: string | undefined, isWarning: boolean): string {
  let msg = issue.message.trim();
  const missing = suggestions.filter((s) => !msg.includes(s));
  if (suggestions.length && missing.length) {
    msg += ` Did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?`;
  }
  if (isWarning && scan && (PARTITION_HINT.test(msg) || /partition/i.test(issue.code ?? '')) && !/estimate/i.test(msg)) {
    msg += ` Scan estimate: ${scan}.`;
  }
  return msg;
}

/**
 * Map a validation result to diagnostics for `uri`. `text` is the SQL that was validated and `base` is
 * where it starts in the document.
 */
export function toDiagnostics(
  result: ValidationView,
  text: string,
  base: vscode.Position,
  uri: vscode.Uri,
): { diagnostics: vscode.Diagnostic[]; fixes: Fix[] } {
  const scan = formatScanEstimate(result.scan_estimate);
  const diagnostics: vscode.Diagnostic[] = [];
  const fixes: Fix[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  const add = (issue: IssueView, severity: vscode.DiagnosticSeverity) => {
    const local = locateIssue(text, issue);
    const range = toDocRange(local, base);
    const suggestions = issue.suggestions ?? [];
    const message = issueMessage(issue, suggestions, scan, severity === vscode.DiagnosticSeverity.Warning);
    const d = new vscode.Diagnostic(range, message, severity);
    d.source = SOURCE;
    if (issue.code) d.code = issue.code;
    if (suggestions.length) {
      d.relatedInformation = suggestions.map(
        (s) => new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, range), `Did you mean '${s}'?`),
      );
    }
    if (local.exact && suggestions.length) {
      const original = lines[local.startLine].slice(local.startChar, local.endChar);
      fixes.push({ range, message, original, replacements: suggestions.map((s) => replacementFor(original, s)) });
    }
    diagnostics.push(d);
  };
  for (const e of result.errors) add(e, vscode.DiagnosticSeverity.Error);
  for (const w of result.warnings) add(w, vscode.DiagnosticSeverity.Warning);
  return { diagnostics, fixes };
}

/** Keep a qualifier the user wrote (`o.amnt` + suggestion `amount` -> `o.amount`). */
export function replacementFor(original: string, suggestion: string): string {
  if (suggestion.includes('.') || !original.includes('.')) return suggestion;
  const dot = original.lastIndexOf('.');
  return original.slice(0, dot + 1) + suggestion;
}

/** Owns the diagnostic collection and the quick fixes that go with it. */
export class SqlDiagnostics implements vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private readonly fixes = new Map<string, Fix[]>();

  constructor(
    private readonly client: LakescoutClient,
    readonly collection: vscode.DiagnosticCollection = vscode.languages.createDiagnosticCollection(SOURCE),
  ) {}

  /** Validate the selection (if any) or the whole document of `editor`. */
  async validateEditor(editor: vscode.TextEditor, signal?: AbortSignal): Promise<ValidationResult | undefined> {
    const doc = editor.document;
    const sel = editor.selection;
    const useSelection = sel && !sel.isEmpty;
    const text = useSelection ? doc.getText(sel) : doc.getText();
    const base = useSelection ? sel.start : new vscode.Position(0, 0);
    if (!text.trim()) {
      this.clear(doc.uri);
      return undefined;
    }
    const result = await this.client.validateSql(text, { signal });
    const { diagnostics, fixes } = toDiagnostics(result, text, base, doc.uri);
    this.collection.set(doc.uri, diagnostics);
    this.fixes.set(doc.uri.toString(), fixes);
    return result;
  }

  clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
    this.fixes.delete(uri.toString());
  }

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const fixes = this.fixes.get(document.uri.toString()) ?? [];
    const actions: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      if (d.source !== SOURCE) continue;
      const fix = fixes.find((f) => f.range.isEqual(d.range) && f.message === d.message);
      if (!fix) continue;
      if (document.getText(fix.range) !== fix.original) continue; // text changed since validation
      fix.replacements.forEach((rep, i) => {
        const action = new vscode.CodeAction(`Replace with '${rep}'`, vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(document.uri, fix.range, rep);
        action.diagnostics = [d];
        action.isPreferred = i === 0;
        actions.push(action);
      });
    }
    return actions;
  }

  dispose(): void {
    this.collection.dispose();
    this.fixes.clear();
  }
}

export { summarizeValidation };
