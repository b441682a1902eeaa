/**
 * lakescout's MCP server for every agent in VS Code (Copilot agent mode included): an MCP server definition
 * provider. By default it points VS Code at the configured API's `/mcp` (Streamable HTTP), adding the API key
 * from SecretStorage only when VS Code starts the server; with `lakescout.mcp.transport` = `stdio` it runs
 * `lakescout mcp` locally instead. VS Code before 1.101 has no MCP API: then nothing is registered.
 *
 * The MCP types are declared here (a structural subset of VS Code's), since the extension still supports
 * VS Code versions whose `@types/vscode` lack them.
 */
import * as vscode from 'vscode';

export const MCP_PROVIDER_ID = 'lakescout.mcp';
export const MCP_SERVER_LABEL = 'lakescout';

export interface McpHttpDefinition {
  readonly label: string;
  uri: vscode.Uri;
  headers: Record<string, string>;
  version?: string;
}

export interface McpStdioDefinition {
  readonly label: string;
  command: string;
  args: string[];
  env: Record<string, string | number | null>;
  version?: string;
}

export type McpDefinition = McpHttpDefinition | McpStdioDefinition;

interface McpDefinitionProvider {
  onDidChangeMcpServerDefinitions?: vscode.Event<void>;
  provideMcpServerDefinitions(token: vscode.CancellationToken): McpDefinition[];
  resolveMcpServerDefinition?(server: McpDefinition, token: vscode.CancellationToken): Promise<McpDefinition | undefined>;
}

/** The parts of the `vscode` module this file needs, present from VS Code 1.101 on. */
interface McpApi {
  lm?: { registerMcpServerDefinitionProvider?(id: string, provider: McpDefinitionProvider): vscode.Disposable };
  McpHttpServerDefinition?: new (label: string, uri: vscode.Uri, headers?: Record<string, string>, version?: string) => McpHttpDefinition;
  McpStdioServerDefinition?: new (label: string, command: string, args?: string[], env?: Record<string, string | number | null>, version?: string) => McpStdioDefinition;
}

export interface McpSettings {
  transport: 'http' | 'stdio';
  /** The `lakescout` executable, for stdio. */
  command: string;
  /** Arguments before `mcp`, for stdio, e.g. `["--data-dir", "/data/lakescout"]`. */
  args: string[];
}

export interface McpDeps {
  /** The API's base URL, as the rest of the extension uses it. */
  baseUrl: () => string;
  apiKey: () => PromiseLike<string | undefined> | string | undefined;
  settings: () => McpSettings;
  version: string;
  log: (line: string) => void;
}

export function isStdio(server: McpDefinition): server is McpStdioDefinition {
  return 'command' in server;
}

export class LakescoutMcpProvider implements McpDefinitionProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;

  constructor(
    private readonly api: Required<Pick<McpApi, 'McpHttpServerDefinition' | 'McpStdioServerDefinition'>>,
    private readonly deps: McpDeps,
  ) {}

  /** Called eagerly by VS Code: no secrets here, so none are cached with the definition. */
  provideMcpServerDefinitions(_token?: vscode.CancellationToken): McpDefinition[] {
    const settings = this.deps.settings();
    if (settings.transport === 'stdio') {
      const args = [...settings.args, 'mcp'];
      return [new this.api.McpStdioServerDefinition(MCP_SERVER_LABEL, settings.command || 'lakescout', args, {}, this.deps.version)];
    }
    const uri = vscode.Uri.parse(`${this.deps.baseUrl()}/mcp`);
    return [new this.api.McpHttpServerDefinition(MCP_SERVER_LABEL, uri, {}, this.deps.version)];
  }

  /** Called when VS Code starts the server: the HTTP definition gets the API key as a bearer header. */
  async resolveMcpServerDefinition(server: McpDefinition, _token?: vscode.CancellationToken): Promise<McpDefinition> {
    if (isStdio(server)) return server;
    const key = (await this.deps.apiKey())?.trim();
    if (key) server.headers = { ...server.headers, Authorization: `Bearer ${key}` };
    else this.deps.log("MCP: no API key set; the server may answer 401 ('lakescout: Set API key')");
    return server;
  }

  /** The server URL, the transport or the key changed: VS Code asks again. */
  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Register the provider when this VS Code has the MCP API (undefined, and a log line, otherwise). */
export function registerMcpProvider(
  deps: McpDeps,
  subscriptions: { dispose(): unknown }[],
  api: McpApi = vscode as unknown as McpApi,
): LakescoutMcpProvider | undefined {
  const register = api.lm?.registerMcpServerDefinitionProvider;
  if (typeof register !== 'function' || !api.McpHttpServerDefinition || !api.McpStdioServerDefinition) {
    deps.log('MCP: this VS Code has no MCP server API (it needs 1.101 or later); lakescout tools are not offered to agents');
    return undefined;
  }
  const provider = new LakescoutMcpProvider(
    { McpHttpServerDefinition: api.McpHttpServerDefinition, McpStdioServerDefinition: api.McpStdioServerDefinition },
    deps,
  );
  subscriptions.push(provider, register.call(api.lm, MCP_PROVIDER_ID, provider));
  return provider;
}
