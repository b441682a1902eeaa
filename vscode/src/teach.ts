/**
 * Teaching lakescout from VS Code: thumbs up/down on an `@lake` answer and "Correct this SQL" become
 * `POST /v1/feedback` (a correction opens the answer's SQL in an editor and sends the edited SQL as
 * `corrected_sql`, with an optional note), and "lakescout: Verified queries" lists `GET /v1/verified`.
 * The server's verdict is one line of plain text in a notification.
 */
import * as vscode from 'vscode';
import type { LakescoutClient } from './client';
import { showError } from './commands';
import { LakescoutError } from './errors';
import { plainNotice } from './render';
import type { FeedbackRequest, FeedbackResponse, VerifiedQuery } from './types';

/** The answer a rating is about: what `@lake` keeps in its ChatResult metadata. */
export interface RatedAnswer {
  thread_id: string;
  message_id: string;
  sql?: string;
}

export interface TeachDeps {
  client: LakescoutClient;
  output: vscode.OutputChannel;
}

export const CORRECT_SQL_TITLE = 'Correct this SQL';
export const HELPFUL_TITLE = '$(thumbsup) Helpful';
export const UNHELPFUL_TITLE = '$(thumbsdown) Not helpful';
const SEND_CORRECTION_TITLE = 'Send SQL correction';

/** The rateable answer in a chat result's metadata (or a command argument); undefined for anything else. */
export function ratedAnswer(value: unknown): RatedAnswer | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { thread_id, message_id, sql } = value as Record<string, unknown>;
  if (typeof thread_id !== 'string' || !thread_id || typeof message_id !== 'string' || !message_id) return undefined;
  return { thread_id, message_id, sql: typeof sql === 'string' && sql.trim() ? sql : undefined };
}

/** The server's verdict on a rating, in one line. */
export function feedbackOutcome(res: FeedbackResponse): string {
  switch (res.verified?.status) {
    case 'verified':
      return 'lakescout: verified; similar questions will be answered with this SQL.';
    case 'pending':
      return "lakescout: recorded; pending an admin's approval.";
    default:
      return 'lakescout: feedback recorded.';
  }
}

/**
 * Post one rating and show the verdict, with `actions` as the notification's buttons. A refusal by the SQL
 * gate shows the gate's message as plain text. Returns the response (none when nothing was recorded) and the
 * button picked.
 */
export async function sendFeedback(deps: TeachDeps, body: FeedbackRequest, actions: string[] = []): Promise<{ res?: FeedbackResponse; pick?: string }> {
  try {
    const res = await deps.client.feedback(body);
    deps.output.appendLine(`feedback: ${body.rating} on ${body.message_id}${body.corrected_sql ? ' with corrected SQL' : ''} -> ${res.verified?.status ?? 'no SQL'}`);
    const pick = await vscode.window.showInformationMessage(feedbackOutcome(res), ...actions);
    return { res, pick };
  } catch (e) {
    if (e instanceof LakescoutError && e.code === 'sql_refused') {
      const reason = e.serverMessage ?? e.message;
      deps.output.appendLine(`feedback refused: ${reason}`);
      await vscode.window.showWarningMessage(plainNotice(`lakescout: ${reason}`));
    } else {
      await showError(e, deps);
    }
    return {};
  }
}

/**
 * Thumbs up/down on `@lake` answers: the buttons under an answer (`lakescout.rateAnswer`) and VS Code's own
 * vote buttons (`ChatParticipant.onDidReceiveFeedback`; VS Code shows those only when a default chat agent
 * such as Copilot is installed). One rating per answer and direction is sent: VS Code may report a vote
 * twice (a thumbs down, then its reason), and both kinds of button may be pressed.
 */
export class AnswerRatings {
  private readonly sent = new Map<string, 'up' | 'down'>();

  constructor(
    private readonly deps: TeachDeps,
    private readonly corrections: SqlCorrections,
  ) {}

  /** Rate an answer; a thumbs down on an answer with SQL offers to correct it. False when nothing was sent. */
  async rate(arg: unknown, rating: unknown): Promise<boolean> {
    const answer = ratedAnswer(arg);
    if (!answer || (rating !== 'up' && rating !== 'down')) return false; // a /describe, a hint or a failed turn
    if (this.sent.get(answer.message_id) === rating) return false;
    this.sent.set(answer.message_id, rating);
    const offerCorrection = rating === 'down' && answer.sql ? [CORRECT_SQL_TITLE] : [];
    const { res, pick } = await sendFeedback(this.deps, { thread_id: answer.thread_id, message_id: answer.message_id, rating }, offerCorrection);
    if (!res) this.sent.delete(answer.message_id);
    if (pick === CORRECT_SQL_TITLE) await this.corrections.open(answer);
    return res !== undefined;
  }

  /** VS Code's vote on a chat result, whose metadata names the answer. */
  onChatFeedback(e: vscode.ChatResultFeedback): Promise<boolean> {
    return this.rate(e.result.metadata, e.kind === vscode.ChatResultFeedbackKind.Helpful ? 'up' : 'down');
  }
}

/** SQL corrections in progress: each one an untitled `lakescout-correction-N.sql` editor tied to its answer. */
export class SqlCorrections {
  private readonly pending = new Map<string, RatedAnswer>();
  private count = 0;

  constructor(private readonly deps: TeachDeps) {}

  /** "Correct this SQL": the answer's SQL in a new editor, to edit and send with "Send SQL correction". */
  async open(arg: unknown): Promise<vscode.TextDocument | undefined> {
    const answer = ratedAnswer(arg);
    if (!answer?.sql) {
      await vscode.window.showWarningMessage('lakescout: this answer has no SQL to correct.');
      return undefined;
    }
    const uri = vscode.Uri.from({ scheme: 'untitled', path: `lakescout-correction-${++this.count}.sql` });
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((eb) => eb.insert(new vscode.Position(0, 0), answer.sql!.replace(/\s*$/, '\n')));
    this.pending.set(doc.uri.toString(), answer);
    const pick = await vscode.window.showInformationMessage(
      `lakescout: edit the SQL, then press "${SEND_CORRECTION_TITLE}" (here or in the editor's title bar).`,
      SEND_CORRECTION_TITLE,
    );
    if (pick === SEND_CORRECTION_TITLE) await this.send(doc);
    return doc;
  }

  /** "Send SQL correction": the editor's SQL as `corrected_sql` on its answer, with an optional note. */
  async send(document: vscode.TextDocument | undefined = vscode.window.activeTextEditor?.document): Promise<FeedbackResponse | undefined> {
    const answer = document && this.pending.get(document.uri.toString());
    if (!document || !answer) {
      await vscode.window.showWarningMessage(`lakescout: open a correction first: "${CORRECT_SQL_TITLE}" under an @lake answer.`);
      return undefined;
    }
    const sql = document.getText().trim();
    if (!sql) {
      await vscode.window.showWarningMessage('lakescout: the correction is empty; write the SQL the answer should have given.');
      return undefined;
    }
    const note = await vscode.window.showInputBox({
      title: `lakescout: ${SEND_CORRECTION_TITLE}`,
      prompt: 'An optional note: what was wrong with the answer (Enter to send without one, Escape to cancel)',
      placeHolder: 'amount, not a row count',
      ignoreFocusOut: true,
    });
    if (note === undefined) return undefined;
    const body: FeedbackRequest = { thread_id: answer.thread_id, message_id: answer.message_id, rating: 'down', corrected_sql: sql };
    if (note.trim()) body.note = note.trim();
    const { res } = await sendFeedback(this.deps, body);
    if (res) this.pending.delete(document.uri.toString()); // a refused one stays open to fix and send again
    return res;
  }
}

/** One verified query as a quick-pick item: stale ones marked, with the validator's reason and suggestion. */
export function verifiedItem(q: VerifiedQuery): vscode.QuickPickItem & { query: VerifiedQuery } {
  const when = q.created_at.slice(0, 10);
  const tables = (q.tables ?? []).map((t) => t.table).join(', ');
  const stale = q.status === 'stale' ? [q.stale_reason, q.suggestion && `suggestion: ${q.suggestion}`].filter(Boolean).join(' · ') : '';
  return {
    label: `${q.status === 'stale' ? '$(warning) STALE ' : ''}${noIcons(q.question)}`,
    description: [q.status, when, q.author ?? undefined].filter(Boolean).join(' · '),
    detail: stale || tables || undefined,
    query: q,
  };
}

/** Text for a quick-pick label, whose `$(name)` sequences would otherwise render as icons. */
function noIcons(s: string): string {
  return s.replace(/\$\(/g, '$\u200b(');
}

/** "lakescout: Verified queries": pick one to open its SQL in a new editor. */
export async function showVerifiedQueriesCommand(deps: TeachDeps): Promise<void> {
  let queries: VerifiedQuery[];
  try {
    queries = await deps.client.listVerified();
  } catch (e) {
    await showError(e, deps);
    return;
  }
  if (!queries.length) {
    await vscode.window.showInformationMessage('lakescout: no verified queries yet. Rate an @lake answer or correct its SQL to teach one.');
    return;
  }
  const pick = await vscode.window.showQuickPick(queries.map(verifiedItem), {
    title: `lakescout: Verified queries (${queries.length})`,
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!pick) return;
  const doc = await vscode.workspace.openTextDocument({ language: 'sql', content: `-- ${pick.query.question.replace(/\r?\n|\r/g, ' ')}\n${pick.query.sql.replace(/\s*$/, '\n')}` });
  await vscode.window.showTextDocument(doc);
}

export function registerTeachCommands(deps: TeachDeps, corrections: SqlCorrections, ratings: AnswerRatings): vscode.Disposable[] {
  const reg = vscode.commands.registerCommand;
  return [
    reg('lakescout.rateAnswer', (answer?: unknown, rating?: unknown) => ratings.rate(answer, rating)),
    reg('lakescout.correctSql', (answer?: unknown) => corrections.open(answer)),
    reg('lakescout.sendSqlCorrection', () => corrections.send()),
    reg('lakescout.showVerifiedQueries', () => showVerifiedQueriesCommand(deps)),
  ];
}
