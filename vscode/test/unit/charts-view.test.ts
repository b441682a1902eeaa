// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { ChartEntry } from '../../src/webview/protocol';
import { renderMessage, type DrawChart } from '../../src/webview/render';

const HOSTILE = '<img src=x onerror="window.pwned=1"><b>bold</b>';

function root(): HTMLElement {
  document.body.innerHTML = '<main id="charts"></main>';
  return document.getElementById('charts') as HTMLElement;
}

describe('the charts page DOM', () => {
  it('draws each chart in its own section under a text heading', async () => {
    const drawn: [string, unknown][] = [];
    const draw: DrawChart = async (box, chart) => {
      drawn.push([chart.id, chart.spec]);
      box.append(document.createElement('canvas'));
    };
    const charts: ChartEntry[] = [
      { id: 'history', title: 'raw.events: rows, bytes and files per snapshot', spec: { mark: 'line' } },
      { id: 'partitions', title: 'raw.events: partitions by size', spec: { mark: 'bar' } },
    ];
    const el = root();
    await renderMessage(el, { type: 'charts', heading: 'raw.events: history and partitions', charts }, draw, () => undefined);
    expect(el.querySelector('h1')?.textContent).toBe('raw.events: history and partitions');
    const sections = Array.from(el.querySelectorAll<HTMLElement>('section.chart'));
    expect(sections.map((s) => s.dataset.chart)).toEqual(['history', 'partitions']);
    expect(sections.map((s) => s.querySelector('h2')?.textContent)).toEqual(charts.map((c) => c.title));
    expect(sections.every((s) => s.querySelector('.chart-box canvas'))).toBe(true);
    expect(drawn).toEqual([['history', { mark: 'line' }], ['partitions', { mark: 'bar' }]]);
  });

  it('keeps catalog text as text: names and errors never become elements', async () => {
    const el = root();
    const failures: string[] = [];
    const draw: DrawChart = async () => {
      throw new Error(HOSTILE);
    };
    await renderMessage(el, { type: 'charts', heading: HOSTILE, charts: [{ id: 'x', title: HOSTILE, spec: {} }] }, draw, (id, m) => failures.push(`${id}: ${m}`));
    expect(el.querySelector('img, b')).toBeNull();
    expect(el.querySelector('h1')?.textContent).toBe(HOSTILE);
    expect(el.querySelector('h2')?.textContent).toBe(HOSTILE);
    expect(el.querySelector('.chart-box .error')?.textContent).toBe(`This chart could not be drawn: ${HOSTILE}`);
    expect(failures).toEqual([`x: ${HOSTILE}`]);
    await renderMessage(el, { type: 'error', heading: HOSTILE, message: HOSTILE }, draw, () => undefined);
    expect(el.querySelector('img, b')).toBeNull();
    expect(el.querySelector('p.error')?.textContent).toBe(HOSTILE);
  });

  it('says so when a table has nothing to chart', async () => {
    const el = root();
    await renderMessage(el, { type: 'charts', heading: 'a.b', charts: [] }, async () => undefined, () => undefined);
    expect(el.querySelector('p.empty')?.textContent).toMatch(/Nothing to chart/);
  });
});
