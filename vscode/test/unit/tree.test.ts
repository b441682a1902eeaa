import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as vscode from 'vscode';
import { LakescoutClient } from '../../src/client';
import { LakescoutError } from '../../src/errors';
import type { TableSummary } from '../../src/types';
import { activate } from '../../src/extension';
import { TablesTreeProvider, type TableNode } from '../../src/tree';
import { chat, commands, FakeSecretStorage, ThemeIcon, TreeItemCollapsibleState, Uri, window, __setConfig } from './vscode-mock';
import { json, startServer, type TestServer } from './helpers/server';

function provider(list: () => Promise<Partial<TableSummary>[]>) {
  return new TablesTreeProvider({ listTables: list } as unknown as LakescoutClient);
}

describe('tables tree', () => {
  it('shows namespaces, then tables that describe themselves on click', async () => {
    const tree = provider(async () => [
      { name: 'sales.orders', namespace: 'sales', kind: 'table', comment: 'Orders' },
      { name: 'sales.daily', namespace: 'sales', kind: 'view' },
      { name: 'raw.events', namespace: 'raw' },
    ]);
    const roots = await tree.getChildren();
    expect(roots.map((n) => (n as { label: string }).label)).toEqual(['raw', 'sales']);
    const nsItem = tree.getTreeItem(roots[1]);
    expect(nsItem.collapsibleState).toBe(TreeItemCollapsibleState.Collapsed);
    expect(nsItem.description).toBe('2');
    const tables = await tree.getChildren(roots[1]);
    const items = tables.map((t) => tree.getTreeItem(t));
    expect(items.map((i) => i.label)).toEqual(['daily', 'orders']);
    expect((items[0].iconPath as ThemeIcon).id).toBe('eye');
    expect((items[1].iconPath as ThemeIcon).id).toBe('table');
    expect(items[1].command).toEqual({ command: 'lakescout.describeTable', title: 'Describe table', arguments: ['sales.orders'] });
    expect(await tree.getChildren(tables[0])).toEqual([]);
  });

  it('shows the catalog when several catalogs are present', async () => {
    const tree = provider(async () => [
      { name: 'sales.orders', namespace: 'sales', catalog: 'glue' },
      { name: 'sales.orders', namespace: 'sales', catalog: 'local' },
    ]);
    const roots = await tree.getChildren();
    expect(roots.map((r) => tree.getTreeItem(r).description)).toEqual(['glue · 1', 'local · 1']);
  });

  it('caches the list until refreshed, and fires a change on refresh', async () => {
    const list = vi.fn(async () => [{ name: 'a.b', namespace: 'a' }]);
    const tree = provider(list);
    let fired = 0;
    tree.onDidChangeTreeData(() => fired++);
    await tree.getChildren();
    await tree.getChildren();
    expect(list).toHaveBeenCalledTimes(1);
    tree.refresh();
    await tree.getChildren();
    expect(list).toHaveBeenCalledTimes(2);
    expect(fired).toBe(1);
  });

  it('shows errors as a node with the right action, and retries next time', async () => {
    const list = vi
      .fn<() => Promise<TableSummary[]>>()
      .mockRejectedValueOnce(new LakescoutError('unauthorized', "401. Set the API key with 'lakescout: Set API key'."))
      .mockRejectedValueOnce(new LakescoutError('unreachable', 'lakescout server is not reachable at http://x. Start it with `lakescout serve`.'))
      .mockResolvedValueOnce([]);
    const tree = provider(list);
    const first = await tree.getChildren();
    expect(tree.getTreeItem(first[0]).command?.command).toBe('lakescout.setApiKey');
    const second = await tree.getChildren();
    expect((second[0] as Extract<TableNode, { kind: 'message' }>).label).toContain('lakescout serve');
    expect(tree.getTreeItem(second[0]).command?.command).toBe('lakescout.refreshTables');
    const third = await tree.getChildren();
    expect((third[0] as Extract<TableNode, { kind: 'message' }>).label).toContain('lakescout ingest');
  });
});

describe('activate', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((req, res) => json(res, 200, { tables: [{ name: 'sales.orders', namespace: 'sales' }], seen: req.headers.authorization }));
  });
  afterAll(() => server.close());
  afterEach(() => vi.restoreAllMocks());

  it('wires the participant, commands and a client that reads settings and the secret key', async () => {
    __setConfig('lakescout.serverUrl', server.url);
    const created = vi.spyOn(chat, 'createChatParticipant');
    const secrets = new FakeSecretStorage();
    await secrets.store('lakescout.apiKey', 'sk-secret');
    const context = {
      subscriptions: [] as { dispose(): void }[],
      secrets,
      extensionUri: Uri.file('/ext'),
      extension: { packageJSON: { version: '0.1.0' } },
    };
    activate(context as unknown as vscode.ExtensionContext);
    expect(created).toHaveBeenCalledWith('lakescout.lake', expect.any(Function));
    const participant = created.mock.results[0].value as { iconPath: Uri };
    expect(participant.iconPath.toString()).toBe('file:///ext/media/lakescout.svg');
    expect(commands.registered.has('lakescout.validateSql')).toBe(true);

    // The real client reaches the configured server with the stored key.
    const quickPick = vi.spyOn(window, 'showQuickPick').mockResolvedValue(undefined);
    await commands.executeCommand('lakescout.describeTable');
    expect(quickPick.mock.calls[0][0]).toEqual([{ label: 'sales.orders', description: undefined, detail: undefined }]);
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-secret');
    expect(server.requests[0].headers['user-agent']).toBe('lakescout-vscode/0.1.0');

    for (const d of context.subscriptions) d.dispose();
    expect(commands.registered.size).toBe(0);
  });
});
