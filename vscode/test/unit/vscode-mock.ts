/**
 * A small hand-written stand-in for the `vscode` module (aliased in vitest.config.ts). It covers only what
 * the extension uses; tests spy on `window`, `commands`, `workspace` members to script user interaction.
 * Also exports test helpers: `MockTextDocument`, `MockTextEditor`, `FakeChatStream`, `FakeSecretStorage`,
 * `__setConfig` (a setting's value) and `__changeConfig` (the same, announced to onDidChangeConfiguration).
 */

// ---------------------------------------------------------------------------------------------------------
// Value types

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}
  static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
    return new Uri(c.scheme, c.authority ?? '', c.path ?? '', c.query ?? '', c.fragment ?? '');
  }
  static parse(s: string): Uri {
    const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(s);
    if (!m) throw new Error(`bad uri ${s}`);
    return new Uri(m[1], m[2] ?? '', m[3] ?? '', m[4] ?? '', m[5] ?? '');
  }
  static file(p: string): Uri {
    return new Uri('file', '', p, '', '');
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, base.authority, [base.path.replace(/\/$/, ''), ...parts].join('/'), base.query, base.fragment);
  }
  get fsPath(): string {
    return this.path;
  }
  with(c: Partial<{ scheme: string; authority: string; path: string; query: string; fragment: string }>): Uri {
    return new Uri(c.scheme ?? this.scheme, c.authority ?? this.authority, c.path ?? this.path, c.query ?? this.query, c.fragment ?? this.fragment);
  }
  toString(): string {
    const auth = this.authority || this.scheme === 'file' ? `//${this.authority}` : '';
    return `${this.scheme}:${auth}${this.path}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
  isEqual(o: Position): boolean {
    return this.line === o.line && this.character === o.character;
  }
  isBefore(o: Position): boolean {
    return this.line < o.line || (this.line === o.line && this.character < o.character);
  }
  translate(dl = 0, dc = 0): Position {
    return new Position(this.line + dl, this.character + dc);
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    if (typeof a === 'number') {
      this.start = new Position(a, b as number);
      this.end = new Position(c!, d!);
    } else {
      this.start = a;
      this.end = b as Position;
    }
  }
  get isEmpty(): boolean {
    return this.start.isEqual(this.end);
  }
  isEqual(o: Range): boolean {
    return this.start.isEqual(o.start) && this.end.isEqual(o.end);
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor.isBefore(active) ? anchor : active, anchor.isBefore(active) ? active : anchor);
  }
}

export class Location {
  constructor(
    readonly uri: Uri,
    readonly range: Range | Position,
  ) {}
}

export enum DiagnosticSeverity {
  Error = 0,
  Warning = 1,
  Information = 2,
  Hint = 3,
}

export class DiagnosticRelatedInformation {
  constructor(
    readonly location: Location,
    readonly message: string,
  ) {}
}

export class Diagnostic {
  source?: string;
  code?: string | number;
  relatedInformation?: DiagnosticRelatedInformation[];
  constructor(
    public range: Range,
    public message: string,
    public severity: DiagnosticSeverity = DiagnosticSeverity.Error,
  ) {}
}

export class CodeActionKind {
  static readonly QuickFix = new CodeActionKind('quickfix');
  constructor(readonly value: string) {}
}

export class WorkspaceEdit {
  readonly edits: { uri: Uri; range: Range; newText: string }[] = [];
  replace(uri: Uri, range: Range, newText: string): void {
    this.edits.push({ uri, range, newText });
  }
  insert(uri: Uri, pos: Position, newText: string): void {
    this.edits.push({ uri, range: new Range(pos, pos), newText });
  }
}

export class CodeAction {
  edit?: WorkspaceEdit;
  diagnostics?: Diagnostic[];
  isPreferred?: boolean;
  constructor(
    readonly title: string,
    readonly kind?: CodeActionKind,
  ) {}
}

export class MarkdownString {
  isTrusted?: boolean | { enabledCommands: string[] };
  supportHtml?: boolean;
  supportThemeIcons?: boolean;
  constructor(public value = '') {}
  appendMarkdown(s: string): this {
    this.value += s;
    return this;
  }
}

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class TreeItem {
  description?: string;
  tooltip?: string | MarkdownString;
  iconPath?: ThemeIcon | Uri;
  contextValue?: string;
  id?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    public label: string,
    public collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  readonly event = (listener: (e: T) => void) => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    if (this.token.isCancellationRequested) return;
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

// Chat history turn classes (the extension only duck-types them).
export class ChatRequestTurn {
  constructor(
    readonly prompt: string,
    readonly participant: string,
    readonly command?: string,
  ) {}
}

export class ChatResponseTurn {
  constructor(
    readonly response: unknown[],
    readonly result: { metadata?: Record<string, unknown>; errorDetails?: { message: string } },
    readonly participant: string,
    readonly command?: string,
  ) {}
}

// ---------------------------------------------------------------------------------------------------------
// Documents and editors

export class MockTextDocument {
  languageId: string;
  constructor(
    public text: string,
    readonly uri: Uri = Uri.parse('untitled:Untitled-1'),
    languageId = 'sql',
  ) {
    this.languageId = languageId;
  }
  private offsetAt(p: Position): number {
    const lines = this.text.split('\n');
    let off = 0;
    for (let i = 0; i < p.line && i < lines.length; i++) off += lines[i].length + 1;
    return off + Math.min(p.character, (lines[p.line] ?? '').length);
  }
  getText(range?: Range): string {
    if (!range) return this.text;
    return this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
  }
  lineAt(line: number): { text: string; lineNumber: number } {
    return { text: this.text.split('\n')[line] ?? '', lineNumber: line };
  }
  get lineCount(): number {
    return this.text.split('\n').length;
  }
  /** Apply a replacement (used by MockTextEditor.edit). */
  applyEdit(range: Range, newText: string): void {
    const a = this.offsetAt(range.start);
    const b = this.offsetAt(range.end);
    this.text = this.text.slice(0, a) + newText + this.text.slice(b);
  }
}

export class MockTextEditor {
  constructor(
    readonly document: MockTextDocument,
    public selection: Selection = new Selection(new Position(0, 0), new Position(0, 0)),
  ) {}
  async edit(cb: (eb: { insert(p: Position, s: string): void; replace(r: Range, s: string): void; delete(r: Range): void }) => void): Promise<boolean> {
    const ops: { range: Range; text: string }[] = [];
    cb({
      insert: (p, s) => ops.push({ range: new Range(p, p), text: s }),
      replace: (r, s) => ops.push({ range: r, text: s }),
      delete: (r) => ops.push({ range: r, text: '' }),
    });
    // Apply from the end so earlier offsets stay valid.
    ops.sort((x, y) => (x.range.start.isBefore(y.range.start) ? 1 : -1));
    for (const op of ops) this.document.applyEdit(op.range, op.text);
    return true;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Namespaces

export interface MockOutputChannel {
  name: string;
  lines: string[];
  appendLine(s: string): void;
  append(s: string): void;
  show(): void;
  clear(): void;
  dispose(): void;
}

export function createMockOutputChannel(name = 'lakescout'): MockOutputChannel {
  const ch: MockOutputChannel = {
    name,
    lines: [],
    appendLine: (s: string) => void ch.lines.push(s),
    append: (s: string) => void ch.lines.push(s),
    show: () => undefined,
    clear: () => void (ch.lines.length = 0),
    dispose: () => undefined,
  };
  return ch;
}

export const window = {
  activeTextEditor: undefined as MockTextEditor | undefined,
  showInputBox: async (_opts?: unknown): Promise<string | undefined> => undefined,
  showQuickPick: async (_items: unknown, _opts?: unknown): Promise<unknown> => undefined,
  showInformationMessage: async (..._args: unknown[]): Promise<string | undefined> => undefined,
  showWarningMessage: async (..._args: unknown[]): Promise<string | undefined> => undefined,
  showErrorMessage: async (..._args: unknown[]): Promise<string | undefined> => undefined,
  /** Opened documents come back in an editor, as in VS Code (which also makes it the active one). */
  showTextDocument: async (doc: unknown, _opts?: unknown): Promise<unknown> => {
    if (!(doc instanceof MockTextDocument)) return doc;
    window.activeTextEditor = new MockTextEditor(doc);
    return window.activeTextEditor;
  },
  createOutputChannel: (name: string) => createMockOutputChannel(name),
  registerTreeDataProvider: (_id: string, _p: unknown) => new Disposable(),
  createWebviewPanel: (viewType: string, title: string, _column: unknown, options: MockWebviewOptions) => {
    const panel = new MockWebviewPanel(viewType, title, options);
    window.panels.push(panel);
    return panel;
  },
  panels: [] as MockWebviewPanel[],
  withProgress: async <T>(_opts: unknown, task: (progress: { report(v: unknown): void }, token: CancellationTokenSource['token']) => Promise<T>): Promise<T> =>
    task({ report: () => undefined }, new CancellationTokenSource().token),
};

export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
}

export interface MockWebviewOptions {
  enableScripts?: boolean;
  localResourceRoots?: Uri[];
}

/** A webview that keeps what it was given: its html, the messages posted to it; `receive` plays the page. */
export class MockWebview {
  html = '';
  readonly cspSource = 'https://webview.test';
  readonly posted: unknown[] = [];
  private readonly received = new EventEmitter<unknown>();
  readonly onDidReceiveMessage = this.received.event;
  asWebviewUri(uri: Uri): Uri {
    return uri.with({ scheme: 'https', authority: 'webview.test' });
  }
  async postMessage(message: unknown): Promise<boolean> {
    this.posted.push(message);
    return true;
  }
  receive(message: unknown): void {
    this.received.fire(message);
  }
}

export class MockWebviewPanel {
  readonly webview = new MockWebview();
  revealed = 0;
  disposed = false;
  private readonly disposedEmitter = new EventEmitter<void>();
  readonly onDidDispose = this.disposedEmitter.event;
  constructor(
    readonly viewType: string,
    public title: string,
    readonly options: MockWebviewOptions,
  ) {}
  reveal(_column?: unknown): void {
    this.revealed++;
  }
  dispose(): void {
    this.disposed = true;
    this.disposedEmitter.fire();
  }
}

const configValues = new Map<string, unknown>();
const configChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();

export const workspace = {
  getConfiguration: (section?: string) => ({
    get: <T>(key: string, dflt?: T): T => {
      const full = section ? `${section}.${key}` : key;
      return (configValues.has(full) ? configValues.get(full) : dflt) as T;
    },
  }),
  openTextDocument: async (arg: unknown): Promise<MockTextDocument> => {
    if (arg && typeof arg === 'object' && 'content' in (arg as object)) {
      const a = arg as { content?: string; language?: string };
      return new MockTextDocument(a.content ?? '', Uri.parse('untitled:Untitled-2'), a.language ?? 'plaintext');
    }
    return new MockTextDocument('', arg instanceof Uri ? arg : Uri.parse(String(arg)));
  },
  registerTextDocumentContentProvider: (_scheme: string, _p: unknown) => new Disposable(),
  onDidCloseTextDocument: (_l: unknown) => new Disposable(),
  onDidChangeConfiguration: configChanged.event,
};

export function __setConfig(key: string, value: unknown): void {
  configValues.set(key, value);
}

export function __changeConfig(key: string, value: unknown): void {
  configValues.set(key, value);
  configChanged.fire({ affectsConfiguration: (section) => key === section || key.startsWith(`${section}.`) });
}

export const commands = {
  registered: new Map<string, (...args: unknown[]) => unknown>(),
  registerCommand(id: string, fn: (...args: unknown[]) => unknown) {
    commands.registered.set(id, fn);
    return new Disposable(() => commands.registered.delete(id));
  },
  executeCommand: async (id: string, ...args: unknown[]): Promise<unknown> => {
    const fn = commands.registered.get(id);
    return fn ? fn(...args) : undefined;
  },
};

export class MockDiagnosticCollection {
  readonly entries = new Map<string, Diagnostic[]>();
  constructor(readonly name: string) {}
  set(uri: Uri, diags: Diagnostic[]): void {
    this.entries.set(uri.toString(), diags);
  }
  get(uri: Uri): Diagnostic[] | undefined {
    return this.entries.get(uri.toString());
  }
  delete(uri: Uri): void {
    this.entries.delete(uri.toString());
  }
  clear(): void {
    this.entries.clear();
  }
  dispose(): void {
    this.entries.clear();
  }
}

export const languages = {
  createDiagnosticCollection: (name = '') => new MockDiagnosticCollection(name),
  registerCodeActionsProvider: (..._args: unknown[]) => new Disposable(),
};

export class McpHttpServerDefinition {
  constructor(
    readonly label: string,
    public uri: Uri,
    public headers: Record<string, string> = {},
    public version?: string,
  ) {}
}

export class McpStdioServerDefinition {
  constructor(
    readonly label: string,
    public command: string,
    public args: string[] = [],
    public env: Record<string, string | number | null> = {},
    public version?: string,
  ) {}
}

export const lm = {
  providers: new Map<string, unknown>(),
  registerMcpServerDefinitionProvider(id: string, provider: unknown) {
    lm.providers.set(id, provider);
    return new Disposable(() => lm.providers.delete(id));
  },
};

export enum ChatResultFeedbackKind {
  Unhelpful = 0,
  Helpful = 1,
}

export const chat = {
  createChatParticipant: (id: string, handler: unknown) => ({
    id,
    handler,
    iconPath: undefined as unknown,
    onDidReceiveFeedback: new EventEmitter<{ result: unknown; kind: ChatResultFeedbackKind }>().event,
    dispose: () => undefined,
  }),
};

// ---------------------------------------------------------------------------------------------------------
// Test helpers

/** Records every call a chat handler makes on its ChatResponseStream. */
export class FakeChatStream {
  readonly calls: { kind: 'markdown' | 'progress' | 'button' | 'reference' | 'anchor'; value: unknown }[] = [];
  /** What markdown() was given, as given (strings or MarkdownStrings with their flags). */
  readonly markdownParts: (string | MarkdownString)[] = [];
  markdown(v: string | MarkdownString): void {
    this.markdownParts.push(v);
    this.calls.push({ kind: 'markdown', value: typeof v === 'string' ? v : v.value });
  }
  progress(v: string): void {
    this.calls.push({ kind: 'progress', value: v });
  }
  button(v: { command: string; title: string; arguments?: unknown[] }): void {
    this.calls.push({ kind: 'button', value: v });
  }
  reference(v: Uri | Location): void {
    this.calls.push({ kind: 'reference', value: v });
  }
  anchor(v: Uri | Location): void {
    this.calls.push({ kind: 'anchor', value: v });
  }
  of(kind: FakeChatStream['calls'][number]['kind']): unknown[] {
    return this.calls.filter((c) => c.kind === kind).map((c) => c.value);
  }
  get text(): string {
    return (this.of('markdown') as string[]).join('');
  }
}

export class FakeSecretStorage {
  readonly data = new Map<string, string>();
  private readonly emitter = new EventEmitter<{ key: string }>();
  readonly onDidChange = this.emitter.event;
  async get(key: string): Promise<string | undefined> {
    return this.data.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.data.set(key, value);
    this.emitter.fire({ key });
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
    this.emitter.fire({ key });
  }
}
