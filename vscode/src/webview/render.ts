/**
 * The charts page's DOM, without the chart library: a heading, then one section per chart with its title
 * and a box the chart is drawn into by `draw` (vega-embed in the webview, a fake in unit tests).
 * Catalog text (table names, titles, error messages) is set with textContent, never as HTML.
 */
import type { ChartEntry, PanelMessage } from './protocol';

export type DrawChart = (box: HTMLElement, chart: ChartEntry) => Promise<void>;
export type ReportFailure = (id: string, message: string) => void;

function element<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const el = doc.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Replace `root`'s content with the message: the charts (each drawn by `draw`), or the error. */
export async function renderMessage(root: HTMLElement, message: PanelMessage, draw: DrawChart, failed: ReportFailure): Promise<void> {
  const doc = root.ownerDocument;
  root.replaceChildren(element(doc, 'h1', 'heading', message.heading));
  if (message.type === 'error') {
    root.append(element(doc, 'p', 'error', message.message));
    return;
  }
  if (message.charts.length === 0) {
    root.append(element(doc, 'p', 'empty', 'Nothing to chart: the catalog records no snapshots or partitions for this table.'));
    return;
  }
  await Promise.all(
    message.charts.map(async (chart) => {
      const section = element(doc, 'section', 'chart');
      section.dataset.chart = chart.id;
      const box = element(doc, 'div', 'chart-box');
      section.append(element(doc, 'h2', 'chart-title', chart.title), box);
      root.append(section);
      try {
        await draw(box, chart);
      } catch (e) {
        const text = e instanceof Error ? e.message : String(e);
        box.replaceChildren(element(doc, 'p', 'error', `This chart could not be drawn: ${text}`));
        failed(chart.id, text);
      }
    }),
  );
}
