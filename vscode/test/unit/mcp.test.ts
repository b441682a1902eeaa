import { afterEach, describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import { activate } from '../../src/extension';
import { isStdio, MCP_PROVIDER_ID, registerMcpProvider, type LakescoutMcpProvider, type McpHttpDefinition } from '../../src/mcp';
import { createMockOutputChannel, FakeSecretStorage, lm, McpHttpServerDefinition, Uri, __changeConfig, __setConfig } from './vscode-mock';

const token = {} as vscode.CancellationToken;

function activated(secrets = new FakeSecretStorage()) {
  const context = {
    subscriptions: [] as { dispose(): void }[],
    secrets,
    extensionUri: Uri.file('/ext'),
    extension: { packageJSON: { version: '0.3.1' } },
  };
  activate(context as unknown as vscode.ExtensionContext);
  const provider = lm.providers.get(MCP_PROVIDER_ID) as LakescoutMcpProvider;
  return { context, provider, secrets };
}

describe('MCP server definition provider', () => {
  afterEach(() => {
    __setConfig('lakescout.mcp.transport', 'http');
    __setConfig('lakescout.serverUrl', 'http://127.0.0.1:8321');
    lm.providers.clear();
  });

  it('points VS Code at the API /mcp and adds the stored key only when the server starts', async () => {
    __setConfig('lakescout.serverUrl', 'https://lake.example.com/');
    const { provider, secrets } = activated();
    await secrets.store('lakescout.apiKey', ' lsk_secret ');
    const [server] = provider.provideMcpServerDefinitions(token);
    expect(server).toBeInstanceOf(McpHttpServerDefinition);
    const http = server as McpHttpDefinition;
    expect(http.label).toBe('lakescout');
    expect(http.uri.toString()).toBe('https://lake.example.com/mcp');
    expect(http.headers).toEqual({});
    expect(http.version).toBe('0.3.1');
    const resolved = (await provider.resolveMcpServerDefinition(server, token)) as McpHttpDefinition;
    expect(resolved.headers).toEqual({ Authorization: 'Bearer lsk_secret' });
  });

  it('without a key the HTTP definition starts unauthenticated and the log says why it may fail', async () => {
    const log: string[] = [];
    const provider = registerMcpProvider(
      { baseUrl: () => 'http://127.0.0.1:8321', apiKey: () => undefined, settings: () => ({ transport: 'http', command: 'lakescout', args: [] }), version: '1', log: (l) => log.push(l) },
      [],
    )!;
    const resolved = (await provider.resolveMcpServerDefinition(provider.provideMcpServerDefinitions(token)[0], token)) as McpHttpDefinition;
    expect(resolved.headers).toEqual({});
    expect(log.join('\n')).toContain("no API key set; the server may answer 401 ('lakescout: Set API key')");
  });

  it('runs `lakescout mcp` over stdio when the setting says so', async () => {
    __setConfig('lakescout.mcp.transport', 'stdio');
    __setConfig('lakescout.mcp.command', '/opt/lakescout/bin/lakescout');
    __setConfig('lakescout.mcp.args', ['--data-dir', '/data/lake']);
    const { provider, secrets } = activated();
    await secrets.store('lakescout.apiKey', 'lsk_secret');
    const [server] = provider.provideMcpServerDefinitions(token);
    if (!isStdio(server)) throw new Error('expected a stdio definition');
    expect([server.label, server.command, server.args]).toEqual(['lakescout', '/opt/lakescout/bin/lakescout', ['--data-dir', '/data/lake', 'mcp']]);
    const resolved = await provider.resolveMcpServerDefinition(server, token);
    expect(resolved).toBe(server);
    expect(JSON.stringify(resolved)).not.toContain('lsk_secret');
    __setConfig('lakescout.mcp.args', []);
    __setConfig('lakescout.mcp.command', 'lakescout');
  });

  it('asks VS Code to refresh when the server URL, the MCP settings or the key change', async () => {
    const { provider, secrets } = activated();
    let refreshes = 0;
    provider.onDidChangeMcpServerDefinitions(() => refreshes++);
    __changeConfig('lakescout.serverUrl', 'http://10.0.0.5:8321');
    __changeConfig('lakescout.mcp.transport', 'stdio');
    __changeConfig('lakescout.runRowLimit', 50);
    await secrets.store('lakescout.apiKey', 'lsk_new');
    await secrets.store('another.secret', 'x');
    expect(refreshes).toBe(3);
  });

  it('disposes its registration with the extension', () => {
    const { context } = activated();
    expect(lm.providers.has(MCP_PROVIDER_ID)).toBe(true);
    context.subscriptions.forEach((d) => d.dispose());
    expect(lm.providers.has(MCP_PROVIDER_ID)).toBe(false);
  });

  it('registers nothing in a VS Code without the MCP API, and says so', () => {
    const output = createMockOutputChannel();
    const subscriptions: { dispose(): unknown }[] = [];
    const deps = { baseUrl: () => '', apiKey: () => undefined, settings: () => ({ transport: 'http' as const, command: '', args: [] }), version: '1', log: (l: string) => output.appendLine(l) };
    expect(registerMcpProvider(deps, subscriptions, { lm: {} })).toBeUndefined();
    expect(registerMcpProvider(deps, subscriptions, {})).toBeUndefined();
    expect(subscriptions).toEqual([]);
    expect(output.lines[0]).toContain('needs 1.101 or later');
  });
});
