import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { chartsHtml, ChartsPanel, registerChartCommands, showTableChartsCommand, tableNameOf, type ChartDeps } from '../../src/charts';
import { LakescoutClient } from '../../src/client';
import type { ChartEntry } from '../../src/webview/protocol';
import { commands, createMockOutputChannel, MockWebview, Uri, window } from './vscode-mock';
import { json, startServer, type TestServer } from './helpers/server';

const HOSTILE = '<img src=x onerror=alert(1)>';
const CHARTS: ChartEntry[] = [
  { id: 'history', title: 'raw.events: rows, bytes and files per snapshot', spec: { mark: 'line', data: { values: [{ records: 1 }] } } },
  { id: 'partitions', title: 'raw.events: partitions by size', spec: { mark: 'bar', data: { values: [{ partition: HOSTILE, bytes: 7 }] } } },
];

let server: TestServer;
let deps: ChartDeps;

beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.url === '/v1/tables/raw.events/charts') return json(res, 200, { charts: CHARTS });
    if (req.url === '/v1/lake/charts') return json(res, 200, { charts: [{ id: 'namespaces', title: 'bytes and tables per namespace', spec: {} }] });
    if (req.url === '/v1/tables') return json(res, 200, { tables: [{ name: 'raw.events', namespace: 'raw', catalog: 'demo', kind: 'iceberg' }] });
    return json(res, 404, { error: { code: 'unknown_table', message: "no table 'raw.nope' in the index" } });
  });
});
afterAll(() => server.close());

beforeEach(() => {
  window.panels.length = 0;
  server.requests.length = 0;
  deps = {
    client: new LakescoutClient({ settings: () => ({ serverUrl: server.url, requestTimeoutMs: 5000 }), apiKey: async () => 'sk-test' }),
    extensionUri: Uri.file('/ext') as never,
    output: createMockOutputChannel() as never,
  };
});

/** The panel's page as the webview would load it, and the CSP it declares. */
function page(webview: MockWebview) {
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(webview.html)?.[1] ?? '';
  return { html: webview.html, csp };
}

describe('the charts page', () => {
  it('loads only the bundled script, under a CSP with a nonce and no eval, inline code or remote source', () => {
    const webview = new MockWebview();
    const html = chartsHtml(webview as never, Uri.file('/ext') as never, 'n0nce');
    const { csp } = page(Object.assign(webview, { html }));
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'nonce-n0nce'");
    expect(csp).toContain("style-src 'nonce-n0nce'");
    expect(csp).not.toMatch(/unsafe-eval|unsafe-inline|https?:\/\/(?!webview\.test)/);
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts).toEqual([' nonce="n0nce" src="https://webview.test/ext/out/webview/charts.js"']);
    expect(html).not.toMatch(/cdn|unpkg|jsdelivr/i);
  });

  it('uses a fresh nonce for each panel', async () => {
    const panelA = new ChartsPanel(deps);
    const panelB = new ChartsPanel(deps);
    panelA.show('a', { type: 'error', heading: 'a', message: 'x' });
    panelB.show('b', { type: 'error', heading: 'b', message: 'x' });
    const nonces = window.panels.map((p) => /nonce-([^']+)'/.exec(p.webview.html)?.[1]);
    expect(nonces[0]).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(nonces[0]).not.toBe(nonces[1]);
  });
});

describe('lakescout: Show table charts', () => {
  it('takes the table from the tree context menu, fetches its charts and posts them once the page is ready', async () => {
    const panel = new ChartsPanel(deps);
    const node = { kind: 'table', table: { name: 'raw.events', namespace: 'raw', catalog: 'demo', kind: 'iceberg' } };
    await showTableChartsCommand(deps, panel, node);
    expect(server.requests.map((r) => r.url)).toEqual(['/v1/tables/raw.events/charts']);
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-test');
    const [shown] = window.panels;
    expect(shown.title).toBe('Charts: raw.events');
    expect(shown.options.enableScripts).toBe(true);
    expect(shown.options.localResourceRoots?.map(String)).toEqual(['file:///ext/out/webview']);
    expect(shown.webview.posted).toEqual([]); // not before the page says it is ready
    shown.webview.receive({ type: 'ready' });
    expect(shown.webview.posted).toEqual([{ type: 'charts', heading: 'raw.events: history and partitions', charts: CHARTS }]);
  });

  it('asks for a table when given none, and reuses the open panel', async () => {
    const pick = vi.spyOn(window, 'showQuickPick').mockImplementation(async (items) => (items as { label: string }[])[0]);
    const panel = new ChartsPanel(deps);
    await showTableChartsCommand(deps, panel);
    await showTableChartsCommand(deps, panel, 'raw.events');
    pick.mockRestore();
    expect(window.panels).toHaveLength(1);
    expect(window.panels[0].revealed).toBe(2);
    window.panels[0].webview.receive({ type: 'ready' });
    expect(window.panels[0].webview.posted).toHaveLength(1); // the latest content only
  });

  it("shows the server's error in the panel as text", async () => {
    const panel = new ChartsPanel(deps);
    await showTableChartsCommand(deps, panel, 'raw.nope');
    const [shown] = window.panels;
    shown.webview.receive({ type: 'ready' });
    const [message] = shown.webview.posted as { type: string; message: string }[];
    expect(message.type).toBe('error');
    expect(message.message).toContain("no table 'raw.nope' in the index");
  });

  it('registers both commands; drawing failures reported by the page go to the output channel', async () => {
    const output = createMockOutputChannel();
    const disposables = registerChartCommands({ ...deps, output: output as never });
    expect(commands.registered.has('lakescout.showTableCharts')).toBe(true);
    await commands.executeCommand('lakescout.showLakeCharts');
    const [shown] = window.panels;
    shown.webview.receive({ type: 'ready' });
    expect((shown.webview.posted[0] as { charts: ChartEntry[] }).charts.map((c) => c.id)).toEqual(['namespaces']);
    shown.webview.receive({ type: 'failed', id: 'namespaces', message: 'bad spec' });
    expect(output.lines).toEqual(['[charts] namespaces could not be drawn: bad spec']);
    disposables.forEach((d) => d.dispose());
    expect(shown.disposed).toBe(true);
    expect(commands.registered.has('lakescout.showTableCharts')).toBe(false);
  });

  it('reads a table name from strings and table nodes only', () => {
    expect(tableNameOf(' raw.events ')).toBe('raw.events');
    expect(tableNameOf({ kind: 'namespace', label: 'raw' })).toBeUndefined();
    expect(tableNameOf(undefined)).toBeUndefined();
  });
});
