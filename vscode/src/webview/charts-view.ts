/**
 * The charts webview's script (bundled by esbuild into out/webview/charts.js with vega, vega-lite and
 * vega-embed, so nothing loads from a CDN). It draws each Vega-Lite spec on a canvas with vega's expression
 * interpreter, so the page's Content-Security-Policy needs neither 'unsafe-eval' nor inline styles.
 */
import embed from 'vega-embed';
import type { PanelMessage, WebviewMessage } from './protocol';
import { renderMessage, type DrawChart } from './render';

declare function acquireVsCodeApi(): { postMessage(message: WebviewMessage): void };

const vscode = acquireVsCodeApi();
const root = document.getElementById('charts') as HTMLElement;

/** Colours from the VS Code theme, so the charts read in light and dark themes alike. */
function themeConfig(): Record<string, unknown> {
  const css = getComputedStyle(document.body);
  const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const text = color('--vscode-foreground', '#333');
  const grid = color('--vscode-editorWidget-border', '#ccc');
  return {
    background: null,
    font: css.fontFamily,
    title: { color: text },
    axis: { labelColor: text, titleColor: text, gridColor: grid, domainColor: grid, tickColor: grid, labelLimit: 260 },
    legend: { labelColor: text, titleColor: text },
    view: { stroke: grid },
    range: { category: { scheme: 'tableau10' } },
    bar: { color: color('--vscode-charts-blue', '#4c78a8') },
    line: { color: color('--vscode-charts-blue', '#4c78a8') },
    point: { color: color('--vscode-charts-blue', '#4c78a8') },
  };
}

/** Draws one chart; its title is already the section's heading, so the spec's own is left out. */
const draw: DrawChart = async (box, chart) => {
  const { title: _heading, ...spec } = chart.spec;
  await embed(box, spec as never, {
    renderer: 'canvas',
    actions: false,
    ast: true,
    defaultStyle: false,
    config: themeConfig() as never,
    tooltip: { disableDefaultStyle: true },
  });
};

window.addEventListener('message', (event: MessageEvent<PanelMessage>) => {
  void renderMessage(root, event.data, draw, (id, message) => vscode.postMessage({ type: 'failed', id, message }));
});
vscode.postMessage({ type: 'ready' });
