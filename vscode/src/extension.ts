/** Activation: wiring only. */
import * as vscode from 'vscode';
import { registerChartCommands } from './charts';
import { createChatHandler, PARTICIPANT_ID } from './chat';
import { DEFAULT_SERVER_URL, DEFAULT_TIMEOUT_MS, LakescoutClient } from './client';
import { API_KEY_SECRET, registerCommands } from './commands';
import { SqlDiagnostics } from './diagnostics';
import { LakescoutDocs, SCHEME } from './docs';
import { registerMcpProvider, type McpSettings } from './mcp';
import { AnswerRatings, registerTeachCommands, SqlCorrections } from './teach';
import { TablesTreeProvider } from './tree';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('lakescout');
  const config = () => vscode.workspace.getConfiguration('lakescout');
  const version = (context.extension?.packageJSON as { version?: string } | undefined)?.version ?? 'dev';

  const client = new LakescoutClient({
    settings: () => ({
      serverUrl: config().get<string>('serverUrl', DEFAULT_SERVER_URL),
      requestTimeoutMs: config().get<number>('requestTimeoutMs', DEFAULT_TIMEOUT_MS),
    }),
    apiKey: () => context.secrets.get(API_KEY_SECRET),
    userAgent: `lakescout-vscode/${version}`,
  });

  const mcp = registerMcpProvider(
    {
      baseUrl: () => client.baseUrl,
      apiKey: () => context.secrets.get(API_KEY_SECRET),
      settings: (): McpSettings => ({
        transport: config().get<string>('mcp.transport', 'http') === 'stdio' ? 'stdio' : 'http',
        command: config().get<string>('mcp.command', 'lakescout'),
        args: config().get<string[]>('mcp.args', []),
      }),
      version,
      log: (line) => output.appendLine(line),
    },
    context.subscriptions,
  );

  const docs = new LakescoutDocs(client);
  const diagnostics = new SqlDiagnostics(client);
  const tree = new TablesTreeProvider(client);

  const participant = vscode.chat.createChatParticipant(
    PARTICIPANT_ID,
    createChatHandler({ client, log: (line) => output.appendLine(line) }),
  );
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'lakescout.svg');
  const teach = { client, output };
  const corrections = new SqlCorrections(teach);
  const ratings = new AnswerRatings(teach, corrections);

  context.subscriptions.push(
    output,
    docs,
    diagnostics,
    tree,
    participant,
    participant.onDidReceiveFeedback((e) => ratings.onChatFeedback(e)),
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, docs),
    vscode.window.registerTreeDataProvider('lakescout.tables', tree),
    vscode.languages.registerCodeActionsProvider([{ scheme: 'file' }, { scheme: 'untitled' }], diagnostics, {
      providedCodeActionKinds: SqlDiagnostics.providedCodeActionKinds,
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => diagnostics.clear(doc.uri)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lakescout.serverUrl')) tree.refresh();
      if (e.affectsConfiguration('lakescout.serverUrl') || e.affectsConfiguration('lakescout.mcp')) mcp?.refresh();
    }),
    context.secrets.onDidChange((e) => {
      if (e.key !== API_KEY_SECRET) return;
      tree.refresh();
      mcp?.refresh();
    }),
    ...registerCommands({
      client,
      docs,
      diagnostics,
      secrets: context.secrets,
      output,
      rowLimit: () => config().get<number>('runRowLimit', 200),
      refreshTables: () => tree.refresh(),
    }),
    ...registerTeachCommands(teach, corrections, ratings),
    ...registerChartCommands({ client, extensionUri: context.extensionUri, output }),
  );
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
