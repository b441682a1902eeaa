import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as vscode from 'vscode';
import type { LakescoutClient } from '../../src/client';
import { registerChartCommands } from '../../src/charts';
import { LakescoutError } from '../../src/errors';
import type { ChatAnswer, TableRecord } from '../../src/types';
import {
  API_KEY_SECRET,
  askCommand,
  describeTableUnderCursorCommand,
  draftSqlCommand,
  insertSqlCommand,
  registerCommands,
  runSqlCommand,
  setApiKeyCommand,
  tableNameAt,
  validateSqlCommand,
  type CommandDeps,
} from '../../src/commands';
import { SqlDiagnostics } from '../../src/diagnostics';
import { LakescoutDocs } from '../../src/docs';
import { AnswerRatings, registerTeachCommands, SqlCorrections } from '../../src/teach';
import {
  commands,
  createMockOutputChannel,
  FakeSecretStorage,
  MockDiagnosticCollection,
  MockTextDocument,
  MockTextEditor,
  Position,
  Selection,
  Uri,
  window,
  workspace,
} from './vscode-mock';

function answer(over: Partial<ChatAnswer> = {}): ChatAnswer {
  return { answer: '', tables_cited: [], tool_calls: [], ...over };
}

function makeDeps(client: Partial<LakescoutClient>) {
  const c = client as LakescoutClient;
  const output = createMockOutputChannel();
  const secrets = new FakeSecretStorage();
  const collection = new MockDiagnosticCollection('lakescout');
  let refreshed = 0;
  const deps: CommandDeps = {
    client: c,
    docs: new LakescoutDocs(c),
    diagnostics: new SqlDiagnostics(c, collection as unknown as vscode.DiagnosticCollection),
    secrets: secrets as unknown as vscode.SecretStorage,
    output: output as unknown as vscode.OutputChannel,
    rowLimit: () => 100,
    refreshTables: () => void refreshed++,
  };
  return { deps, output, secrets, collection, refreshed: () => refreshed };
}

/** Capture `markdown.showPreview` calls and resolve their documents through the content provider. */
function capturePreviews(deps: CommandDeps) {
  const shown: Uri[] = [];
  vi.spyOn(commands, 'executeCommand').mockImplementation(async (id: string, ...args: unknown[]) => {
    if (id === 'markdown.showPreview') shown.push(args[0] as Uri);
    return undefined;
  });
  return {
    shown,
    content: (i = shown.length - 1) => deps.docs.provideTextDocumentContent(shown[i] as unknown as vscode.Uri),
  };
}

beforeEach(() => {
  window.activeTextEditor = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('tableNameAt', () => {
  it.each([
    ['SELECT * FROM sales.orders o', 17, 'sales.orders'],
    ['SELECT * FROM sales.orders o', 14, 'sales.orders'],
    ['SELECT * FROM sales.orders', 26, 'sales.orders'],
    ['FROM "sales"."orders"', 8, 'sales.orders'],
    ['FROM `glue`.`sales`.`orders`,', 10, 'glue.sales.orders'],
    ['JOIN x ON a = b', 5, 'x'],
    ['SELECT  1', 7, undefined],
    ['a = 42', 5, undefined],
  ])('%s @%i -> %s', (line, ch, expected) => {
    expect(tableNameAt(line, ch)).toBe(expected);
  });
});

describe('Draft SQL here', () => {
  it('inserts the drafted SQL at the cursor', async () => {
    const chat = vi.fn(async () => answer({ answer: 'Here you go', sql: 'SELECT region FROM sales.refunds' }));
    const { deps } = makeDeps({ chat });
    const doc = new MockTextDocument('-- report\n\nSELECT 1;', Uri.file('/w/a.sql'));
    window.activeTextEditor = new MockTextEditor(doc, new Selection(new Position(1, 0), new Position(1, 0)));
    vi.spyOn(window, 'showInputBox').mockResolvedValue('refunds by region');
    await draftSqlCommand(deps);
    expect(doc.getText()).toBe('-- report\nSELECT region FROM sales.refunds\nSELECT 1;');
    expect(chat).toHaveBeenCalledTimes(1);
    expect((chat.mock.calls[0] as unknown[])[0]).toContain('refunds by region');
  });

  it('replaces a selection, prefilled as the description when it is prose', async () => {
    const { deps } = makeDeps({ chat: async () => answer({ sql: 'SELECT 2' }) });
    const doc = new MockTextDocument('x\ntop customers\ny', Uri.file('/w/b.sql'));
    window.activeTextEditor = new MockTextEditor(doc, new Selection(new Position(1, 0), new Position(1, 13)));
    const input = vi.spyOn(window, 'showInputBox').mockImplementation(async (opts) => (opts as { value?: string }).value);
    await draftSqlCommand(deps);
    expect((input.mock.calls[0][0] as { value?: string }).value).toBe('top customers');
    expect(doc.getText()).toBe('x\nSELECT 2\ny');
  });

  it('warns when no SQL came back, and does nothing without an editor or a description', async () => {
    const chat = vi.fn(async () => answer({ answer: 'No table has that.' }));
    const { deps } = makeDeps({ chat });
    const warn = vi.spyOn(window, 'showWarningMessage');
    await draftSqlCommand(deps);
    expect(warn).toHaveBeenCalledWith('lakescout: open an editor to draft SQL into.');
    const doc = new MockTextDocument('', Uri.file('/w/c.sql'));
    window.activeTextEditor = new MockTextEditor(doc);
    vi.spyOn(window, 'showInputBox').mockResolvedValueOnce(undefined).mockResolvedValueOnce('x');
    await draftSqlCommand(deps);
    expect(chat).not.toHaveBeenCalled();
    await draftSqlCommand(deps);
    expect(warn).toHaveBeenLastCalledWith('lakescout did not draft any SQL. It said: No table has that.');
    expect(doc.getText()).toBe('');
  });

  it('shows server errors with an action for the API key', async () => {
    const { deps, output } = makeDeps({
      chat: async () => {
        throw new LakescoutError('unauthorized', "lakescout rejected the request (401 unauthorized). Set the API key with 'lakescout: Set API key'.");
      },
    });
    window.activeTextEditor = new MockTextEditor(new MockTextDocument('', Uri.file('/w/d.sql')));
    vi.spyOn(window, 'showInputBox').mockResolvedValue('x');
    const err = vi.spyOn(window, 'showErrorMessage').mockResolvedValue('Set API key');
    const exec = vi.spyOn(commands, 'executeCommand').mockResolvedValue(undefined);
    await draftSqlCommand(deps);
    expect(err.mock.calls[0]).toEqual(["lakescout rejected the request (401 unauthorized). Set the API key with 'lakescout: Set API key'.", 'Set API key']);
    expect(exec).toHaveBeenCalledWith('lakescout.setApiKey');
    expect(output.lines.at(-1)).toContain('[error]');
  });
});

describe('Insert and run SQL (chat buttons)', () => {
  it('inserts at the cursor of the active editor', async () => {
    const doc = new MockTextDocument('ab', Uri.file('/w/e.sql'));
    window.activeTextEditor = new MockTextEditor(doc, new Selection(new Position(0, 1), new Position(0, 1)));
    await insertSqlCommand('SELECT 1');
    expect(doc.getText()).toBe('aSELECT 1b');
  });

  it('opens a new SQL document when no editor is open', async () => {
    const open = vi.spyOn(workspace, 'openTextDocument');
    const show = vi.spyOn(window, 'showTextDocument');
    await insertSqlCommand('SELECT 1');
    expect(open).toHaveBeenCalledWith({ language: 'sql', content: 'SELECT 1\n' });
    expect(show).toHaveBeenCalled();
  });

  it('runs SQL with the row limit and shows a result table and text output', async () => {
    const runSql = vi.fn(async () => ({ columns: ['n'], rows: [[1], [2]], truncated: false, masked_columns: [] }));
    const { deps, output } = makeDeps({ runSql });
    const previews = capturePreviews(deps);
    await runSqlCommand(deps, 'SELECT n FROM t');
    expect(runSql).toHaveBeenCalledWith('SELECT n FROM t', 100, expect.anything());
    expect(previews.shown[0].toString()).toMatch(/^lakescout:\/results\/\d+\.md$/);
    expect(await previews.content()).toContain('| n |\n| --- |\n| 1 |\n| 2 |');
    expect(output.lines.join('\n')).toContain('(2 rows)');
  });

  it('runs the editor selection when called without SQL', async () => {
    const runSql = vi.fn(async () => ({ columns: [], rows: [], truncated: false, masked_columns: [] }));
    const { deps } = makeDeps({ runSql });
    capturePreviews(deps);
    const doc = new MockTextDocument('SELECT 1;\nSELECT 2;', Uri.file('/w/f.sql'));
    window.activeTextEditor = new MockTextEditor(doc, new Selection(new Position(1, 0), new Position(1, 9)));
    await runSqlCommand(deps);
    expect(runSql).toHaveBeenCalledWith('SELECT 2;', 100, expect.anything());
  });
});

describe('Ask and Describe', () => {
  it('asks a question and opens the answer as a markdown preview', async () => {
    const chat = vi.fn(async (_q: string) => answer({ answer: 'Use sales.refunds.', sql: 'SELECT 1', tables_cited: ['sales.refunds'] }));
    const { deps } = makeDeps({ chat });
    const previews = capturePreviews(deps);
    vi.spyOn(window, 'showInputBox').mockResolvedValue('which table has refunds?');
    await askCommand(deps);
    expect(chat.mock.calls[0][0]).toBe('which table has refunds?');
    const md = await previews.content();
    expect(md).toContain('Use sales.refunds.');
    expect(md).toContain('```sql\nSELECT 1\n```');
  });

  it('describes the dotted name under the cursor through the lakescout: document', async () => {
    const getTable = vi.fn(async (name: string) => ({ name, columns: [{ path: 'id', type: 'long' }], comment: 'Orders' }) as TableRecord);
    const { deps } = makeDeps({ getTable });
    const previews = capturePreviews(deps);
    const doc = new MockTextDocument('SELECT *\nFROM sales.orders o', Uri.file('/w/g.sql'));
    window.activeTextEditor = new MockTextEditor(doc, new Selection(new Position(1, 9), new Position(1, 9)));
    await describeTableUnderCursorCommand(deps);
    expect(previews.shown[0].toString()).toBe('lakescout:/tables/sales.orders.md');
    const md = await previews.content();
    expect(getTable).toHaveBeenCalledWith('sales.orders', expect.anything());
    expect(md).toContain('# `sales.orders`');
    expect(md).toContain('> Orders');
  });

  it('renders a friendly page when the table is unknown', async () => {
    const { deps } = makeDeps({
      getTable: async () => {
        throw new LakescoutError('not_found', 'Not found (404).', { status: 404 });
      },
    });
    const md = await deps.docs.provideTextDocumentContent(Uri.from({ scheme: 'lakescout', path: '/tables/nope.t.md' }) as unknown as vscode.Uri);
    expect(md).toContain('Table `nope.t` is not in the lakescout catalog.');
  });

  it('warns when there is no name under the cursor', async () => {
    const { deps } = makeDeps({});
    window.activeTextEditor = new MockTextEditor(new MockTextDocument('   ', Uri.file('/w/h.sql')));
    const warn = vi.spyOn(window, 'showWarningMessage');
    await describeTableUnderCursorCommand(deps);
    expect(warn).toHaveBeenCalledWith('lakescout: no table name under the cursor.');
  });
});

describe('Validate SQL and Set API key', () => {
  it('validates the editor and reports a summary with the scan estimate', async () => {
    const { deps, collection } = makeDeps({
      validateSql: async () => ({
        ok: true,
        errors: [],
        warnings: [{ code: 'missing_partition_filter', message: 'Missing partition filter on order_date', suggestions: [] }],
        tables: ['sales.orders'],
        scan_estimate: { tables: { 'sales.orders': { files: 10, bytes: 1024 ** 3 } } },
      }),
    });
    const doc = new MockTextDocument('SELECT * FROM sales.orders', Uri.file('/w/i.sql'));
    window.activeTextEditor = new MockTextEditor(doc);
    const warn = vi.spyOn(window, 'showWarningMessage');
    await validateSqlCommand(deps);
    expect(warn).toHaveBeenCalledWith('lakescout: SQL is valid with 1 warning. Scan estimate: 10 files, 1.0 GB.');
    expect(collection.get(doc.uri)?.[0].message).toBe('Missing partition filter on order_date Scan estimate: 10 files, 1.0 GB.');
  });

  it('shows an unreachable server with a settings action', async () => {
    const { deps } = makeDeps({
      validateSql: async () => {
        throw new LakescoutError('unreachable', 'lakescout server is not reachable at http://127.0.0.1:8321. Start it with `lakescout serve`.');
      },
    });
    window.activeTextEditor = new MockTextEditor(new MockTextDocument('SELECT 1', Uri.file('/w/j.sql')));
    const err = vi.spyOn(window, 'showErrorMessage');
    await validateSqlCommand(deps);
    expect(err).toHaveBeenCalledWith('lakescout server is not reachable at http://127.0.0.1:8321. Start it with `lakescout serve`.', 'Open settings');
  });

  it('stores the API key in secret storage, removes it when empty, and ignores a dismissed box', async () => {
    const { deps, secrets, refreshed } = makeDeps({});
    const input = vi.spyOn(window, 'showInputBox').mockResolvedValueOnce('  sk-123  ').mockResolvedValueOnce(undefined).mockResolvedValueOnce('');
    await setApiKeyCommand(deps);
    expect((input.mock.calls[0][0] as { password?: boolean }).password).toBe(true);
    expect(await secrets.get(API_KEY_SECRET)).toBe('sk-123');
    await setApiKeyCommand(deps);
    expect(await secrets.get(API_KEY_SECRET)).toBe('sk-123');
    await setApiKeyCommand(deps);
    expect(await secrets.get(API_KEY_SECRET)).toBeUndefined();
    expect(refreshed()).toBe(2);
  });

  it('registers every contributed command', async () => {
    const { deps } = makeDeps({});
    const charts = registerChartCommands({ client: deps.client, extensionUri: Uri.file('/ext') as never, output: deps.output });
    const teach = { client: deps.client, output: deps.output };
    const disposables = [...registerCommands(deps), ...charts, ...registerTeachCommands(teach, new SqlCorrections(teach), new AnswerRatings(teach, new SqlCorrections(teach)))];
    const pkg = (await import('../../package.json')).default as { contributes: { commands: { command: string }[] } };
    expect([...commands.registered.keys()].sort()).toEqual(pkg.contributes.commands.map((c) => c.command).sort());
    disposables.forEach((d) => d.dispose());
    expect(commands.registered.size).toBe(0);
  });
});
