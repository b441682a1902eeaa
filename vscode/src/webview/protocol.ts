/**
 * The messages between the charts panel (extension host) and its webview script: the webview says it is
 * ready, the panel answers with the charts of `GET /v1/tables/{name}/charts` or `GET /v1/lake/charts`, or
 * with an error. Shared by both sides so they cannot drift.
 */

/** One chart as the API serves it: an id, a plain-text title and a Vega-Lite spec with its data inline. */
export interface ChartEntry {
  id: string;
  title: string;
  spec: Record<string, unknown>;
}

export interface ChartsResponse {
  charts: ChartEntry[];
}

export type PanelMessage =
  | { type: 'charts'; heading: string; charts: ChartEntry[] }
  | { type: 'error'; heading: string; message: string };

export type WebviewMessage = { type: 'ready' } | { type: 'failed'; id: string; message: string };
