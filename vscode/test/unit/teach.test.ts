/**
 * Teaching from the chat: votes and "Correct this SQL" reach `POST /v1/feedback` (a real LakescoutClient
 * against a local HTTP server), and the server's verdict is one plain line.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as vscode from 'vscode';
import { createChatHandler } from '../../src/chat';
import { LakescoutClient } from '../../src/client';
import { AnswerRatings, feedbackOutcome, registerTeachCommands, showVerifiedQueriesCommand, SqlCorrections, verifiedItem, type TeachDeps } from '../../src/teach';
import type { ChatAnswer, StreamEvent, VerifiedQuery } from '../../src/types';
import { json, useTestServer, type Recorded } from './helpers/server';
import { CancellationTokenSource, ChatResultFeedbackKind, commands, createMockOutputChannel, FakeChatStream, MockTextDocument, Uri, window } from './vscode-mock';

const server = useTestServer();
afterEach(() => {
  vi.restoreAllMocks();
});

const SQL = 'SELECT region, SUM(amount) AS refunded\nFROM finance.refunds\nGROUP BY region';
const ANSWER = { thread_id: 'thread-1', message_id: 'run-1-0', sql: SQL };

function pair(over: Partial<VerifiedQuery> = {}): VerifiedQuery {
  return { id: 'vq_1', question: 'refunds by region', sql: SQL, author: 'alice', created_at: '2026-12-02T01:02:03Z', status: 'pending', ...over };
}

/** Answers /v1/feedback like the server: the proposal's status, or the gate's refusal for bad SQL. */
function feedbackServer(status: VerifiedQuery['status'] | null) {
  server.setHandler((req: Recorded, res) => {
    const body = JSON.parse(req.body) as { corrected_sql?: string; rating: string };
    if (body.corrected_sql?.includes('regionn')) {
      json(res, 422, { error: { code: 'sql_refused', message: "the SQL was refused, nothing was stored: unknown column 'regionn' [click](command:x) <b>" } });
      return;
    }
    const verified = status && (body.rating === 'up' || body.corrected_sql) ? pair({ status, sql: body.corrected_sql ?? SQL }) : null;
    json(res, 201, { feedback: { id: 'fb_1', thread_id: 'thread-1', message_id: 'run-1-0', rating: body.rating, created_at: '2026-12-02T01:02:03Z' }, verified });
  });
}

/** VS Code's vote on a chat result, as the ratings see it. */
function voter(d: TeachDeps, corrections = new SqlCorrections(d)) {
  const ratings = new AnswerRatings(d, corrections);
  return (e: vscode.ChatResultFeedback) => ratings.onChatFeedback(e);
}

function deps(): TeachDeps {
  const client = new LakescoutClient({ settings: () => ({ serverUrl: server.url, requestTimeoutMs: 2000 }), apiKey: () => 'sk-user' });
  return { client, output: createMockOutputChannel() as unknown as vscode.OutputChannel };
}

const bodies = () => server.requests.map((r) => JSON.parse(r.body));
const vote = (kind: ChatResultFeedbackKind, metadata: unknown = ANSWER) => ({ kind, result: { metadata } }) as unknown as vscode.ChatResultFeedback;

describe('thumbs up/down in the chat', () => {
  it('a thumbs up rates the answer and says the pair waits for an admin', async () => {
    feedbackServer('pending');
    const info = vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    const d = deps();
    await voter(d)(vote(ChatResultFeedbackKind.Helpful));
    expect(bodies()).toEqual([{ thread_id: 'thread-1', message_id: 'run-1-0', rating: 'up' }]);
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-user');
    expect(info.mock.calls).toEqual([["lakescout: recorded; pending an admin's approval."]]);
  });

  it('says "verified" when the server verified it at once', async () => {
    feedbackServer('verified');
    const info = vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    const d = deps();
    await voter(d)(vote(ChatResultFeedbackKind.Helpful));
    expect(info.mock.calls[0][0]).toBe('lakescout: verified; similar questions will be answered with this SQL.');
  });

  it('the Helpful / Not helpful buttons under an answer rate it through lakescout.rateAnswer, once', async () => {
    feedbackServer('pending');
    const info = vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    const d = deps();
    const corrections = new SqlCorrections(d);
    const ratings = new AnswerRatings(d, corrections);
    const disposables = registerTeachCommands(d, corrections, ratings);
    expect(await commands.executeCommand('lakescout.rateAnswer', ANSWER, 'up')).toBe(true);
    // The same vote from VS Code's own thumbs is not sent again; nonsense arguments are not sent at all.
    expect(await ratings.onChatFeedback(vote(ChatResultFeedbackKind.Helpful))).toBe(false);
    expect(await commands.executeCommand('lakescout.rateAnswer', ANSWER, 'sideways')).toBe(false);
    expect(await commands.executeCommand('lakescout.rateAnswer', 'x', 'up')).toBe(false);
    expect(bodies()).toEqual([{ thread_id: 'thread-1', message_id: 'run-1-0', rating: 'up' }]);
    expect(info).toHaveBeenCalledOnce();
    disposables.forEach((x) => x.dispose());
  });

  it('a rating the server did not record can be sent again', async () => {
    server.setHandler((_req, res) => json(res, 503, { error: { code: 'unavailable', message: 'index loading' } }));
    const err = vi.spyOn(window, 'showErrorMessage').mockResolvedValue(undefined);
    const d = deps();
    const ratings = new AnswerRatings(d, new SqlCorrections(d));
    expect(await ratings.rate(ANSWER, 'up')).toBe(false);
    expect(err.mock.calls[0][0]).toMatch(/503.*index loading/);
    feedbackServer(null);
    vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    expect(await ratings.rate(ANSWER, 'up')).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it('sends one rating per answer and direction, and a change of mind', async () => {
    feedbackServer(null);
    vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    const d = deps();
    const listener = voter(d);
    await listener(vote(ChatResultFeedbackKind.Unhelpful));
    await listener(vote(ChatResultFeedbackKind.Unhelpful)); // VS Code reports a down vote again with its reason
    await listener(vote(ChatResultFeedbackKind.Helpful));
    expect(bodies().map((b) => b.rating)).toEqual(['down', 'up']);
  });

  it('ignores votes on turns without an answer id (/describe, hints, errors)', async () => {
    const d = deps();
    const listener = voter(d);
    await listener(vote(ChatResultFeedbackKind.Helpful, { thread_id: 'thread-1', tables_cited: ['sales.orders'] }));
    await listener(vote(ChatResultFeedbackKind.Helpful, null));
    expect(server.requests).toEqual([]);
  });

  it('a thumbs down on an answer with SQL offers to correct it', async () => {
    feedbackServer(null);
    const info = vi.spyOn(window, 'showInformationMessage').mockResolvedValueOnce('Correct this SQL' as never).mockResolvedValue(undefined);
    const d = deps();
    const corrections = new SqlCorrections(d);
    const open = vi.spyOn(corrections, 'open');
    await voter(d, corrections)(vote(ChatResultFeedbackKind.Unhelpful));
    expect(info.mock.calls[0]).toEqual(['lakescout: feedback recorded.', 'Correct this SQL']);
    expect(open).toHaveBeenCalledWith(ANSWER);
  });
});

describe('Correct this SQL', () => {
  it("opens the answer's SQL in a correction editor and sends the edited SQL with the note", async () => {
    feedbackServer('pending');
    const info = vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    vi.spyOn(window, 'showInputBox').mockResolvedValue('amount, not a row count');
    const corrections = new SqlCorrections(deps());
    const doc = (await corrections.open(ANSWER)) as unknown as MockTextDocument;
    expect(doc.uri.toString()).toBe('untitled:lakescout-correction-1.sql');
    expect(doc.getText()).toBe(SQL + '\n');
    expect(info.mock.calls[0][0]).toMatch(/edit the SQL, then press "Send SQL correction"/);
    doc.text = doc.text.replace('SUM(amount)', 'SUM(amount_usd)');
    const res = await corrections.send(doc as unknown as vscode.TextDocument);
    expect(res?.verified?.status).toBe('pending');
    expect(bodies()).toEqual([{ thread_id: 'thread-1', message_id: 'run-1-0', rating: 'down', corrected_sql: SQL.replace('SUM(amount)', 'SUM(amount_usd)'), note: 'amount, not a row count' }]);
    expect(info.mock.calls.at(-1)).toEqual(["lakescout: recorded; pending an admin's approval."]);
    // Sent: the editor is no longer a pending correction.
    const warn = vi.spyOn(window, 'showWarningMessage').mockResolvedValue(undefined);
    await corrections.send(doc as unknown as vscode.TextDocument);
    expect(warn.mock.calls[0][0]).toMatch(/open a correction first/);
    expect(server.requests).toHaveLength(1);
  });

  it("shows the SQL gate's refusal as plain text and keeps the correction open to fix", async () => {
    feedbackServer('pending');
    vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    vi.spyOn(window, 'showInputBox').mockResolvedValue('');
    const warn = vi.spyOn(window, 'showWarningMessage').mockResolvedValue(undefined);
    const corrections = new SqlCorrections(deps());
    const doc = (await corrections.open(ANSWER)) as unknown as MockTextDocument;
    doc.text = 'SELECT regionn FROM finance.refunds';
    expect(await corrections.send(doc as unknown as vscode.TextDocument)).toBeUndefined();
    const shown = warn.mock.calls[0][0] as string;
    expect(shown).toBe("lakescout: the SQL was refused, nothing was stored: unknown column 'regionn' [click] (command:x) <b>");
    expect(shown).not.toMatch(/\]\(/);
    expect(bodies()[0]).not.toHaveProperty('note'); // an empty note is not sent
    doc.text = 'SELECT region FROM finance.refunds';
    expect((await corrections.send(doc as unknown as vscode.TextDocument))?.verified?.sql).toBe('SELECT region FROM finance.refunds');
  });

  it('sends nothing when the note box is dismissed, or the correction is empty, or there is no SQL', async () => {
    vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    const input = vi.spyOn(window, 'showInputBox').mockResolvedValue(undefined);
    const warn = vi.spyOn(window, 'showWarningMessage').mockResolvedValue(undefined);
    const corrections = new SqlCorrections(deps());
    const doc = (await corrections.open(ANSWER)) as unknown as MockTextDocument;
    expect(await corrections.send(doc as unknown as vscode.TextDocument)).toBeUndefined();
    expect(input).toHaveBeenCalledOnce();
    doc.text = '  \n';
    await corrections.send(doc as unknown as vscode.TextDocument);
    expect(await corrections.open({ thread_id: 't', message_id: 'm' })).toBeUndefined();
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      'lakescout: the correction is empty; write the SQL the answer should have given.',
      'lakescout: this answer has no SQL to correct.',
    ]);
    expect(server.requests).toEqual([]);
  });

  it('the @lake answer carries its message id, a "Correct this SQL" button and the thumbs for it', async () => {
    const final: ChatAnswer = { answer: 'Use finance.refunds.', sql: SQL, tables_cited: [], tool_calls: [], thread_id: 'thread-1', message_id: 'run-1-0' };
    const client = {
      async *chatStream(): AsyncGenerator<StreamEvent, ChatAnswer> {
        yield { type: 'answer', answer: final };
        return final;
      },
    } as unknown as LakescoutClient;
    const stream = new FakeChatStream();
    const request = { prompt: 'q', references: [], toolReferences: [] } as unknown as vscode.ChatRequest;
    const result = (await createChatHandler({ client })(request, { history: [] } as unknown as vscode.ChatContext, stream as unknown as vscode.ChatResponseStream, new CancellationTokenSource().token as unknown as vscode.CancellationToken)) as vscode.ChatResult;
    expect(result.metadata).toMatchObject({ thread_id: 'thread-1', message_id: 'run-1-0', sql: SQL });
    expect(stream.of('button')).toEqual([
      { command: 'lakescout.insertSql', title: 'Insert SQL into editor', arguments: [SQL] },
      { command: 'lakescout.runSql', title: 'Run SQL', arguments: [SQL] },
      { command: 'lakescout.correctSql', title: 'Correct this SQL', arguments: [ANSWER] },
      { command: 'lakescout.rateAnswer', title: '$(thumbsup) Helpful', arguments: [ANSWER, 'up'] },
      { command: 'lakescout.rateAnswer', title: '$(thumbsdown) Not helpful', arguments: [ANSWER, 'down'] },
    ]);

    // The button's command opens the correction editor.
    feedbackServer('pending');
    vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    const d = deps();
    const corrections = new SqlCorrections(d);
    const disposables = registerTeachCommands(d, corrections, new AnswerRatings(d, corrections));
    await commands.executeCommand('lakescout.correctSql', ANSWER);
    expect(window.activeTextEditor?.document.uri.toString()).toBe('untitled:lakescout-correction-1.sql');
    disposables.forEach((x) => x.dispose());
  });
});

describe('lakescout: Verified queries', () => {
  it('lists the pairs with stale ones marked, and opens the picked SQL', async () => {
    const stale = pair({ id: 'vq_2', status: 'stale', stale_reason: "unknown column 'amount'", suggestion: 'amount_usd', tables: [] });
    server.setHandler((_req, res) => json(res, 200, { queries: [pair({ status: 'verified', tables: [{ table: 'finance.refunds', key: 'demo.finance.refunds', snapshot_id: 1, schema_id: 0 }] }), stale] }));
    const pick = vi.spyOn(window, 'showQuickPick').mockImplementation(async (items) => (items as unknown[])[1]);
    await showVerifiedQueriesCommand(deps());
    expect(server.requests[0].url).toBe('/v1/verified');
    const items = pick.mock.calls[0][0] as ReturnType<typeof verifiedItem>[];
    expect(items.map((i) => [i.label, i.description, i.detail])).toEqual([
      ['refunds by region', 'verified · 2026-12-02 · alice', 'finance.refunds'],
      ['$(warning) STALE refunds by region', 'stale · 2026-12-02 · alice', "unknown column 'amount' · suggestion: amount_usd"],
    ]);
    expect(window.activeTextEditor?.document.getText()).toBe(`-- refunds by region\n${SQL}\n`);
  });

  it("shows server text as plain strings: a question's $(icon) syntax stays text", () => {
    const item = verifiedItem(pair({ question: 'why $(alert) <img src=x> [a](command:x)?' }));
    expect(item.label).toBe('why $\u200b(alert) <img src=x> [a](command:x)?');
  });

  it('says how to teach one when there are none', async () => {
    server.setHandler((_req, res) => json(res, 200, { queries: [] }));
    const info = vi.spyOn(window, 'showInformationMessage').mockResolvedValue(undefined);
    await showVerifiedQueriesCommand(deps());
    expect(info.mock.calls[0][0]).toMatch(/no verified queries yet/);
  });

  it('one line per verdict', () => {
    const fb = { id: 'fb', thread_id: 't', message_id: 'm', rating: 'up' as const, created_at: '' };
    expect(feedbackOutcome({ feedback: fb, verified: null })).toBe('lakescout: feedback recorded.');
    expect(feedbackOutcome({ feedback: fb, verified: pair() })).toBe("lakescout: recorded; pending an admin's approval.");
    expect(Uri.parse('untitled:lakescout-correction-1.sql').path).toBe('lakescout-correction-1.sql');
  });
});
