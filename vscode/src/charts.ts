/**
 * The charts panel: "lakescout: Show table charts" (palette, or a table's context menu in the tree) and
 * "lakescout: Show lake charts" open one webview that draws the API's Vega-Lite specs with the bundled
 * vega-embed (out/webview/charts.js). The page loads nothing but that script, under a strict
 * Content-Security-Policy with a fresh nonce; catalog text reaches it only as message data.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LakescoutClient } from './client';
import { showError } from './commands';
import { errorText } from './docs';
import type { TableNode } from './tree';
import type { ChartsResponse, PanelMessage, WebviewMessage } from './webview/protocol';

export const CHARTS_VIEW_TYPE = 'lakescout.charts';
const SCRIPT_PATH = ['out', 'webview', 'charts.js'];

export interface ChartDeps {
  client: LakescoutClient;
  extensionUri: vscode.Uri;
  output: vscode.OutputChannel;
}

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/** The page: no inline script or style without the nonce, no remote source, only the bundled script. */
export function chartsHtml(webview: Pick<vscode.Webview, 'cspSource' | 'asWebviewUri'>, extensionUri: vscode.Uri, nonce: string): string {
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...SCRIPT_PATH));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lakescout charts</title>
<style nonce="${nonce}">
  body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); padding: 0 1.5em 2em; }
  .heading { font-size: 1.4em; font-weight: 600; }
  .chart { margin: 1.5em 0; }
  .chart-title { font-size: 1.05em; font-weight: 600; }
  .error { color: var(--vscode-errorForeground); }
  .vg-tooltip { position: fixed; z-index: 1000; visibility: hidden; padding: 4px 8px; font-size: 12px;
    color: var(--vscode-editorHoverWidget-foreground); background: var(--vscode-editorHoverWidget-background);
    border: 1px solid var(--vscode-editorHoverWidget-border); pointer-events: none; }
  .vg-tooltip.visible { visibility: visible; }
  .vg-tooltip td.key { padding-right: 1em; opacity: 0.8; }
</style>
</head>
<body>
<main id="charts"><p>Loading charts…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

/** The table a command was given: a name (palette, other commands) or a table node (the tree's menu). */
export function tableNameOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.trim()) return arg.trim();
  const node = arg as TableNode | undefined;
  return node && typeof node === 'object' && node.kind === 'table' ? node.table.name : undefined;
}

/** One panel for all charts: shown again and given new content on each command. */
export class ChartsPanel {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private pending: PanelMessage | undefined;

  constructor(private readonly deps: ChartDeps) {}

  show(title: string, message: PanelMessage): void {
    if (!this.panel) this.panel = this.create();
    this.panel.title = title;
    this.panel.reveal(vscode.ViewColumn.Active);
    this.pending = message;
    this.flush();
  }

  private create(): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(CHARTS_VIEW_TYPE, 'lakescout charts', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.deps.extensionUri, 'out', 'webview')],
    });
    panel.webview.html = chartsHtml(panel.webview, this.deps.extensionUri, newNonce());
    panel.webview.onDidReceiveMessage((message: WebviewMessage) => {
      if (message.type === 'ready') {
        this.ready = true;
        this.flush();
      } else if (message.type === 'failed') {
        this.deps.output.appendLine(`[charts] ${message.id} could not be drawn: ${message.message}`);
      }
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
    });
    return panel;
  }

  private flush(): void {
    if (!this.panel || !this.ready || !this.pending) return;
    void this.panel.webview.postMessage(this.pending);
    this.pending = undefined;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

async function pickTable(client: LakescoutClient): Promise<string | undefined> {
  const tables = await client.listTables();
  const pick = await vscode.window.showQuickPick(
    tables.map((t) => ({ label: t.name, description: t.kind, detail: t.comment ?? undefined })),
    { title: 'lakescout: Show table charts', matchOnDescription: true, matchOnDetail: true },
  );
  return pick?.label;
}

export async function showTableChartsCommand(deps: ChartDeps, panel: ChartsPanel, arg?: unknown): Promise<void> {
  try {
    const name = tableNameOf(arg) ?? (await pickTable(deps.client));
    if (!name) return;
    const path = `/v1/tables/${encodeURIComponent(name)}/charts`;
    const heading = `${name}: history and partitions`;
    try {
      const { charts } = (await deps.client.requestJson('GET', path, undefined)) as ChartsResponse;
      panel.show(`Charts: ${name}`, { type: 'charts', heading, charts });
    } catch (e) {
      panel.show(`Charts: ${name}`, { type: 'error', heading, message: errorText(e) });
    }
  } catch (e) {
    await showError(e, deps);
  }
}

export async function showLakeChartsCommand(deps: ChartDeps, panel: ChartsPanel): Promise<void> {
  const heading = 'The lake: namespaces and freshness';
  try {
    const { charts } = (await deps.client.requestJson('GET', '/v1/lake/charts', undefined)) as ChartsResponse;
    panel.show('Charts: the lake', { type: 'charts', heading, charts });
  } catch (e) {
    panel.show('Charts: the lake', { type: 'error', heading, message: errorText(e) });
  }
}

export function registerChartCommands(deps: ChartDeps): vscode.Disposable[] {
  const panel = new ChartsPanel(deps);
  return [
    panel,
    vscode.commands.registerCommand('lakescout.showTableCharts', (arg?: unknown) => showTableChartsCommand(deps, panel, arg)),
    vscode.commands.registerCommand('lakescout.showLakeCharts', () => showLakeChartsCommand(deps, panel)),
  ];
}
