/**
 * The `lakescout.tables` tree: namespaces -> tables (from `GET /v1/tables`); clicking a table describes it.
 * Labels, descriptions and tooltips are plain strings, so catalog text never renders as markup.
 */
import * as vscode from 'vscode';
import type { LakescoutClient } from './client';
import { LakescoutError } from './errors';
import { groupTables, shortTableName } from './render';
import type { TableSummary } from './types';

export type TableNode =
  | { kind: 'namespace'; label: string; catalog?: string; showCatalog: boolean; tables: TableSummary[] }
  | { kind: 'table'; table: TableSummary }
  | { kind: 'message'; label: string; detail?: string; command?: vscode.Command };

export class TablesTreeProvider implements vscode.TreeDataProvider<TableNode> {
  private readonly changed = new vscode.EventEmitter<TableNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private cache: Promise<TableNode[]> | undefined;

  constructor(private readonly client: LakescoutClient) {}

  refresh(): void {
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  getTreeItem(node: TableNode): vscode.TreeItem {
    switch (node.kind) {
      case 'namespace': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = node.showCatalog && node.catalog ? `${node.catalog} · ${node.tables.length}` : String(node.tables.length);
        item.iconPath = new vscode.ThemeIcon('folder-library');
        item.contextValue = 'namespace';
        item.tooltip = node.catalog ? `${node.catalog}.${node.label}` : node.label;
        return item;
      }
      case 'table': {
        const t = node.table;
        const item = new vscode.TreeItem(shortTableName(t), vscode.TreeItemCollapsibleState.None);
        item.description = t.kind;
        // A plain string, not a MarkdownString: the comment is catalog text and must show as text.
        item.tooltip = `${t.name}${t.kind ? ` (${t.kind})` : ''}${t.comment ? `\n\n${t.comment}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(t.kind && /view/i.test(t.kind) ? 'eye' : 'table');
        item.contextValue = 'table';
        item.id = `table:${t.catalog ?? ''}:${t.name}`;
        item.command = { command: 'lakescout.describeTable', title: 'Describe table', arguments: [t.name] };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.tooltip = node.detail ?? node.label;
        item.iconPath = new vscode.ThemeIcon('info');
        if (node.command) item.command = node.command;
        return item;
      }
    }
  }

  async getChildren(node?: TableNode): Promise<TableNode[]> {
    if (!node) {
      this.cache ??= this.loadRoot();
      return this.cache;
    }
    if (node.kind === 'namespace') return node.tables.map((table) => ({ kind: 'table', table }));
    return [];
  }

  private async loadRoot(): Promise<TableNode[]> {
    try {
      const tables = await this.client.listTables();
      if (tables.length === 0) {
        return [{ kind: 'message', label: 'No tables yet: run `lakescout ingest`.', detail: 'The lakescout catalog is empty.' }];
      }
      const groups = groupTables(tables);
      const catalogs = new Set(tables.map((t) => t.catalog ?? ''));
      return groups.map((g) => ({ kind: 'namespace', label: g.namespace, catalog: g.catalog, showCatalog: catalogs.size > 1, tables: g.tables }));
    } catch (e) {
      // Do not cache failures: the next expand/refresh tries again.
      this.cache = undefined;
      const message = e instanceof Error ? e.message : String(e);
      const command: vscode.Command | undefined =
        e instanceof LakescoutError && e.kind === 'unauthorized'
          ? { command: 'lakescout.setApiKey', title: 'Set API key' }
          : { command: 'lakescout.refreshTables', title: 'Retry' };
      return [{ kind: 'message', label: message, detail: message, command }];
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
