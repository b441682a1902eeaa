/**
 * Read-only markdown documents under the `lakescout:` scheme:
 * - `lakescout:/tables/<ns>.<table>.md`: a table description, fetched from `GET /v1/tables/{name}` on open
 *   (this is also the URI used by `@lake` references to cited tables);
 * - `lakescout:/answers/<n>.md`, `lakescout:/results/<n>.md`: in-memory answers and query results.
 */
import * as vscode from 'vscode';
import type { LakescoutClient } from './client';
import { LakescoutError } from './errors';
import { escapeText, inlineCode, renderTableRecord } from './render';

export const SCHEME = 'lakescout';
const MAX_MEMORY_DOCS = 50;

export function tableUri(name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SCHEME, path: `/tables/${name}.md` });
}

/** The table name in a `lakescout:/tables/<name>.md` URI, if it is one. */
export function tableNameFromUri(uri: vscode.Uri): string | undefined {
  if (uri.scheme !== SCHEME) return undefined;
  const m = /^\/tables\/(.+?)(\.md)?$/.exec(uri.path);
  return m ? m[1] : undefined;
}

export class LakescoutDocs implements vscode.TextDocumentContentProvider {
  private readonly memory = new Map<string, string>();
  private counter = 0;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: LakescoutClient) {}

  /** Store markdown in memory and return its URI. */
  put(kind: 'answers' | 'results', markdown: string): vscode.Uri {
    this.counter++;
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${kind}/${this.counter}.md` });
    this.memory.set(uri.path, markdown);
    while (this.memory.size > MAX_MEMORY_DOCS) {
      const first = this.memory.keys().next().value;
      if (first === undefined) break;
      this.memory.delete(first);
    }
    return uri;
  }

  /** Ask VS Code to re-read a table document (e.g. after a refresh). */
  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri, token?: vscode.CancellationToken): Promise<string> {
    const mem = this.memory.get(uri.path);
    if (mem !== undefined) return mem;
    const name = tableNameFromUri(uri);
    if (!name) return '_This lakescout document is no longer available._\n';
    const ctl = new AbortController();
    const sub = token?.onCancellationRequested(() => ctl.abort());
    try {
      const rec = await this.client.getTable(name, { signal: ctl.signal });
      return renderTableRecord(rec);
    } catch (e) {
      const msg =
        e instanceof LakescoutError && e.kind === 'not_found' ? `Table ${inlineCode(name)} is not in the lakescout catalog.` : escapeText(errorText(e));
      return `# ${inlineCode(name)}\n\n**Could not describe this table.** ${msg}\n`;
    } finally {
      sub?.dispose();
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Open a markdown URI as a rendered preview (falls back to the plain document). */
export async function showMarkdown(uri: vscode.Uri): Promise<void> {
  try {
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  } catch {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}
