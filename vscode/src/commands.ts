/** The palette commands. Each is a plain function of its dependencies so it can be unit-tested. */
import * as vscode from 'vscode';
import type { LakescoutClient } from './client';
import type { SqlDiagnostics } from './diagnostics';
import { errorText, showMarkdown, tableUri, type LakescoutDocs } from './docs';
import { LakescoutError } from './errors';
import { plainNotice, renderAnswer, renderQueryResult, renderQueryResultText, summarizeValidation } from './render';

export const API_KEY_SECRET = 'lakescout.apiKey';

export interface CommandDeps {
  client: LakescoutClient;
  docs: LakescoutDocs;
  diagnostics: SqlDiagnostics;
  secrets: vscode.SecretStorage;
  output: vscode.OutputChannel;
  rowLimit: () => number;
  refreshTables: () => void;
}

/** The dotted name (`ns.table`, `"ns"."table"`, `cat.ns.table`) under `character` in a line, unquoted. */
export function tableNameAt(line: string, character: number): string | undefined {
  const isNameChar = (c: string | undefined) => !!c && /[A-Za-z0-9_$."`]/.test(c);
  let start = Math.min(character, line.length);
  let end = start;
  // Cursor just after a name (e.g. at end of line) still counts.
  if (!isNameChar(line[start]) && isNameChar(line[start - 1])) start = end = start - 1;
  while (start > 0 && isNameChar(line[start - 1])) start--;
  while (end < line.length && isNameChar(line[end])) end++;
  const raw = line.slice(start, end);
  const name = raw
    .split('.')
    .map((p) => p.replace(/^["`]+|["`]+$/g, ''))
    .filter((p) => p.length > 0)
    .join('.');
  return name && /[A-Za-z_]/.test(name) ? name : undefined;
}

/** Show an error from a command: actionable buttons for the common cases. */
export async function showError(e: unknown, deps?: Pick<CommandDeps, 'output'>): Promise<void> {
  if (e instanceof LakescoutError && e.kind === 'cancelled') return;
  const msg = plainNotice(errorText(e));
  deps?.output.appendLine(`[error] ${msg}`);
  if (e instanceof LakescoutError && e.kind === 'unauthorized') {
    const pick = await vscode.window.showErrorMessage(msg, 'Set API key');
    if (pick === 'Set API key') await vscode.commands.executeCommand('lakescout.setApiKey');
    return;
  }
  if (e instanceof LakescoutError && (e.kind === 'timeout' || e.kind === 'unreachable')) {
    const pick = await vscode.window.showErrorMessage(msg, 'Open settings');
    if (pick === 'Open settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'lakescout');
    return;
  }
  await vscode.window.showErrorMessage(msg);
}

function withProgress<T>(title: string, task: (signal: AbortSignal) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_p, token) => {
    const ctl = new AbortController();
    const sub = token?.onCancellationRequested(() => ctl.abort());
    try {
      return await task(ctl.signal);
    } finally {
      sub?.dispose();
    }
  });
}

// ---- lakescout: Ask about the data lake

export async function askCommand(deps: CommandDeps, question?: string): Promise<void> {
  const q =
    question ??
    (await vscode.window.showInputBox({
      title: 'lakescout: Ask about the data lake',
      prompt: 'Ask a question about your tables',
      placeHolder: 'which table has refunds by region?',
      ignoreFocusOut: true,
    }));
  if (!q || !q.trim()) return;
  try {
    const answer = await withProgress('lakescout is thinking…', (signal) => deps.client.chat(q.trim(), undefined, { signal }));
    const uri = deps.docs.put('answers', renderAnswer(q.trim(), answer));
    await showMarkdown(uri);
  } catch (e) {
    await showError(e, deps);
  }
}

// ---- lakescout: Draft SQL here

export function draftPrompt(description: string, languageId?: string): string {
  const dialect = languageId && languageId !== 'sql' && languageId !== 'plaintext' ? ` (the editor language is ${languageId})` : '';
  return `Draft a SQL query for: ${description}${dialect}. Validate it and return the SQL.`;
}

export async function draftSqlCommand(deps: CommandDeps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    await vscode.window.showWarningMessage('lakescout: open an editor to draft SQL into.');
    return;
  }
  const selected = editor.selection && !editor.selection.isEmpty ? editor.document.getText(editor.selection).trim() : '';
  const description = await vscode.window.showInputBox({
    title: 'lakescout: Draft SQL here',
    prompt: 'Describe the query you need',
    placeHolder: 'daily refunds by region for the last 30 days',
    value: selected && selected.length < 500 && !/\bselect\b/i.test(selected) ? selected : undefined,
    ignoreFocusOut: true,
  });
  if (!description || !description.trim()) return;
  try {
    const answer = await withProgress('lakescout is drafting SQL…', (signal) =>
      deps.client.chat(draftPrompt(description.trim(), editor.document.languageId), undefined, { signal }),
    );
    if (!answer.sql) {
      const more = answer.answer ? ` It said: ${answer.answer.slice(0, 300)}` : '';
      await vscode.window.showWarningMessage(plainNotice(`lakescout did not draft any SQL.${more}`));
      return;
    }
    await insertSql(editor, answer.sql);
  } catch (e) {
    await showError(e, deps);
  }
}

/** Insert SQL at the cursor (replacing a non-empty selection); opens a new SQL editor when there is none. */
export async function insertSql(editor: vscode.TextEditor | undefined, sql: string): Promise<boolean> {
  if (!editor) {
    const doc = await vscode.workspace.openTextDocument({ language: 'sql', content: sql.endsWith('\n') ? sql : sql + '\n' });
    await vscode.window.showTextDocument(doc);
    return true;
  }
  const sel = editor.selection;
  return editor.edit((eb) => {
    if (sel && !sel.isEmpty) eb.replace(sel, sql);
    else eb.insert(sel ? sel.active : new vscode.Position(0, 0), sql);
  });
}

export async function insertSqlCommand(sql?: unknown): Promise<void> {
  if (typeof sql !== 'string' || !sql.trim()) {
    await vscode.window.showWarningMessage('lakescout: no SQL to insert.');
    return;
  }
  await insertSql(vscode.window.activeTextEditor, sql);
}

// ---- lakescout: Run SQL

export async function runSqlCommand(deps: CommandDeps, sqlArg?: unknown): Promise<void> {
  let sql = typeof sqlArg === 'string' ? sqlArg : undefined;
  if (!sql) {
    const editor = vscode.window.activeTextEditor;
    if (editor) sql = editor.selection && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : editor.document.getText();
  }
  if (!sql || !sql.trim()) {
    await vscode.window.showWarningMessage('lakescout: no SQL to run.');
    return;
  }
  const query = sql.trim();
  try {
    const res = await withProgress('lakescout is running the query…', (signal) => deps.client.runSql(query, deps.rowLimit(), { signal }));
    deps.output.appendLine(`\n> ${query.replace(/\s+/g, ' ').slice(0, 200)}`);
    deps.output.appendLine(renderQueryResultText(res));
    await showMarkdown(deps.docs.put('results', renderQueryResult(query, res)));
  } catch (e) {
    await showError(e, deps);
  }
}

// ---- lakescout: Describe table

export async function describeTableCommand(deps: CommandDeps, name?: unknown): Promise<void> {
  let tableName = typeof name === 'string' ? name : undefined;
  if (!tableName) {
    try {
      const tables = await deps.client.listTables();
      const pick = await vscode.window.showQuickPick(
        tables.map((t) => ({ label: t.name, description: t.kind, detail: t.comment ?? undefined })),
        { title: 'lakescout: Describe table', matchOnDescription: true, matchOnDetail: true },
      );
      tableName = pick?.label;
    } catch (e) {
      await showError(e, deps);
      return;
    }
  }
  if (!tableName) return;
  await showMarkdown(tableUri(tableName));
}

export async function describeTableUnderCursorCommand(deps: CommandDeps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    await vscode.window.showWarningMessage('lakescout: put the cursor on a table name first.');
    return;
  }
  let name: string | undefined;
  if (editor.selection && !editor.selection.isEmpty) {
    name = tableNameAt(editor.document.getText(editor.selection).trim(), 0);
  } else {
    const pos = editor.selection.active;
    name = tableNameAt(editor.document.lineAt(pos.line).text, pos.character);
  }
  if (!name) {
    await vscode.window.showWarningMessage('lakescout: no table name under the cursor.');
    return;
  }
  await describeTableCommand(deps, name);
}

// ---- lakescout: Validate SQL in editor

export async function validateSqlCommand(deps: CommandDeps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    await vscode.window.showWarningMessage('lakescout: open a SQL editor to validate.');
    return;
  }
  try {
    const result = await withProgress('lakescout is validating…', (signal) => deps.diagnostics.validateEditor(editor, signal));
    if (!result) {
      await vscode.window.showWarningMessage('lakescout: nothing to validate.');
      return;
    }
    const summary = summarizeValidation(result);
    if (result.ok && result.errors.length === 0 && result.warnings.length === 0) await vscode.window.showInformationMessage(summary);
    else await vscode.window.showWarningMessage(summary);
  } catch (e) {
    await showError(e, deps);
  }
}

// ---- lakescout: Set API key

export async function setApiKeyCommand(deps: Pick<CommandDeps, 'secrets' | 'refreshTables'>): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: 'lakescout: Set API key',
    prompt: 'The lakescout API key (stored in VS Code secret storage). Leave empty to remove it.',
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return; // dismissed
  if (key.trim() === '') {
    await deps.secrets.delete(API_KEY_SECRET);
    await vscode.window.showInformationMessage('lakescout: API key removed.');
  } else {
    await deps.secrets.store(API_KEY_SECRET, key.trim());
    await vscode.window.showInformationMessage('lakescout: API key saved.');
  }
  deps.refreshTables();
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const reg = vscode.commands.registerCommand;
  return [
    reg('lakescout.ask', (q?: unknown) => askCommand(deps, typeof q === 'string' ? q : undefined)),
    reg('lakescout.draftSql', () => draftSqlCommand(deps)),
    reg('lakescout.insertSql', (sql?: unknown) => insertSqlCommand(sql)),
    reg('lakescout.runSql', (sql?: unknown) => runSqlCommand(deps, sql)),
    reg('lakescout.describeTable', (name?: unknown) => describeTableCommand(deps, name)),
    reg('lakescout.describeTableUnderCursor', () => describeTableUnderCursorCommand(deps)),
    reg('lakescout.validateSql', () => validateSqlCommand(deps)),
    reg('lakescout.setApiKey', () => setApiKeyCommand(deps)),
    reg('lakescout.refreshTables', () => deps.refreshTables()),
  ];
}
