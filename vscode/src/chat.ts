/**
 * The `@lake` chat participant. Answers come only from the lakescout API (`/v1/chat/stream`), never from
 * VS Code's language models. One lakescout thread per chat session: the thread id travels in
 * `ChatResult.metadata.thread_id` and is read back from `context.history` on the next turn. The metadata also
 * names the answer (`message_id`) so the chat's thumbs up/down and "Correct this SQL" can rate it (teach.ts).
 */
import * as vscode from 'vscode';
import type { LakescoutClient } from './client';
import { tableUri } from './docs';
import { LakescoutError } from './errors';
import { CORRECT_SQL_TITLE, HELPFUL_TITLE, UNHELPFUL_TITLE, type RatedAnswer } from './teach';
import { answerContainsSql, codeBlock, inertProse, renderTableRecord, toolLabel } from './render';
import { qualifiedName, type ChatAnswer } from './types';

export const PARTICIPANT_ID = 'lakescout.lake';

export interface LakeChatMetadata {
  thread_id?: string;
  message_id?: string;
  sql?: string;
  tables_cited?: string[];
}

/**
 * Markdown for the chat view that can only show text and formatting: not trusted (no command links),
 * no raw HTML, no theme icons.
 */
export function untrustedMarkdown(md: string): vscode.MarkdownString {
  const out = new vscode.MarkdownString(md);
  out.isTrusted = false;
  out.supportHtml = false;
  out.supportThemeIcons = false;
  return out;
}

export interface ChatDeps {
  client: LakescoutClient;
  log?: (line: string) => void;
}

/** The thread id of the latest earlier `@lake` turn in this chat session, if any. */
export function threadIdFromHistory(history: ReadonlyArray<unknown>): string | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const turn = history[i] as { participant?: string; result?: vscode.ChatResult; response?: unknown };
    if (!turn || typeof turn !== 'object' || !('result' in turn) || !('response' in turn)) continue; // a request turn
    if (turn.participant && turn.participant !== PARTICIPANT_ID) continue;
    const id = (turn.result?.metadata as LakeChatMetadata | undefined)?.thread_id;
    if (typeof id === 'string' && id) return id;
  }
  return undefined;
}

export function createChatHandler(deps: ChatDeps): vscode.ChatRequestHandler {
  return async (request, context, stream, token) => {
    const previousThread = threadIdFromHistory(context.history);
    const ctl = new AbortController();
    const sub = token.onCancellationRequested(() => ctl.abort());
    try {
      if (request.command === 'describe') {
        return await describe(deps, request.prompt, stream, ctl.signal, previousThread);
      }
      const prompt = request.prompt.trim();
      if (!prompt) {
        stream.markdown('Ask me about the tables in your data lake, e.g. _which table has refunds by region?_');
        return { metadata: { thread_id: previousThread } satisfies LakeChatMetadata };
      }
      return await answer(deps, prompt, previousThread, stream, ctl.signal);
    } catch (e) {
      return reportError(deps, e, stream, previousThread, token.isCancellationRequested);
    } finally {
      sub.dispose();
    }
  };
}

async function answer(
  deps: ChatDeps,
  prompt: string,
  threadId: string | undefined,
  stream: vscode.ChatResponseStream,
  signal: AbortSignal,
): Promise<vscode.ChatResult> {
  stream.progress('Asking lakescout…');
  let streamedText = '';
  let final: ChatAnswer | undefined;
  let thread = threadId;
  const events = deps.client.chatStream(prompt, threadId, { signal });
  try {
    for await (const ev of events) {
      switch (ev.type) {
        case 'token':
          streamedText += ev.text;
          stream.markdown(untrustedMarkdown(ev.text));
          break;
        case 'tool_start':
          stream.progress(`Running ${toolLabel(ev.name, ev.args)}…`);
          break;
        case 'tool_end':
          stream.progress(ev.summary ? `${ev.name}: ${ev.summary}` : `${ev.name} finished`);
          break;
        case 'answer':
          final = ev.answer;
          break;
      }
    }
  } catch (e) {
    // Keep whatever thread id we learned so a retry continues the same conversation.
    if (e instanceof LakescoutError) (e as LakescoutError & { threadId?: string }).threadId = thread;
    throw e;
  }
  if (!final) throw new LakescoutError('stream_broken', 'The answer was cut off. Please retry.');
  thread = final.thread_id || thread;
  const sql = final.sql ?? undefined;
  const cited = final.tables_cited ?? [];

  if (!streamedText.trim() && final.answer.trim()) {
    stream.markdown(untrustedMarkdown(inertProse(final.answer)));
    streamedText = final.answer;
  }
  renderSqlAndTables(final, streamedText, stream);
  renderRatingButtons(final, stream);
  deps.log?.(`chat: thread=${thread ?? '-'} tables=${cited.join(',') || '-'} sql=${sql ? 'yes' : 'no'}`);
  const metadata: LakeChatMetadata = { thread_id: thread, message_id: final.message_id, sql, tables_cited: cited };
  return { metadata };
}

/**
 * SQL as a code block with Insert/Run buttons (and "Correct this SQL" when the server can be told which answer
 * it was), and cited tables as references.
 */
export function renderSqlAndTables(final: ChatAnswer, shownText: string, stream: vscode.ChatResponseStream): void {
  if (final.sql) {
    if (!answerContainsSql(shownText, final.sql)) {
      stream.markdown(untrustedMarkdown('\n\n' + codeBlock(final.sql)));
    }
    stream.button({ command: 'lakescout.insertSql', title: 'Insert SQL into editor', arguments: [final.sql] });
    stream.button({ command: 'lakescout.runSql', title: 'Run SQL', arguments: [final.sql] });
    const answer = ratedAnswerOf(final);
    if (answer) stream.button({ command: 'lakescout.correctSql', title: CORRECT_SQL_TITLE, arguments: [answer] });
  }
  for (const name of final.tables_cited ?? []) {
    stream.reference(tableUri(name));
  }
}

/** Thumbs up / thumbs down under an answer the server can be told about (it has a thread and message id). */
function renderRatingButtons(final: ChatAnswer, stream: vscode.ChatResponseStream): void {
  const answer = ratedAnswerOf(final);
  if (!answer) return;
  stream.button({ command: 'lakescout.rateAnswer', title: HELPFUL_TITLE, arguments: [answer, 'up'] });
  stream.button({ command: 'lakescout.rateAnswer', title: UNHELPFUL_TITLE, arguments: [answer, 'down'] });
}

function ratedAnswerOf(final: ChatAnswer): RatedAnswer | undefined {
  if (!final.thread_id || !final.message_id) return undefined;
  return { thread_id: final.thread_id, message_id: final.message_id, ...(final.sql ? { sql: final.sql } : {}) };
}

async function describe(
  deps: ChatDeps,
  prompt: string,
  stream: vscode.ChatResponseStream,
  signal: AbortSignal,
  threadId: string | undefined,
): Promise<vscode.ChatResult> {
  const name = prompt.trim().split(/\s+/)[0]?.replace(/^[`"']+|[`"';,]+$/g, '');
  if (!name) {
    stream.markdown('Usage: `/describe namespace.table`');
    return { metadata: { thread_id: threadId } satisfies LakeChatMetadata };
  }
  stream.progress(`Describing ${name}…`);
  const rec = await deps.client.getTable(name, { signal });
  const table = qualifiedName(rec);
  stream.markdown(untrustedMarkdown(renderTableRecord(rec)));
  stream.reference(tableUri(table));
  return { metadata: { thread_id: threadId, tables_cited: [table] } satisfies LakeChatMetadata };
}

function reportError(
  deps: ChatDeps,
  e: unknown,
  stream: vscode.ChatResponseStream,
  previousThread: string | undefined,
  cancelled: boolean,
): vscode.ChatResult {
  const thread = (e as { threadId?: string })?.threadId ?? previousThread;
  const metadata: LakeChatMetadata = { thread_id: thread };
  if (cancelled || (e instanceof LakescoutError && e.kind === 'cancelled')) {
    return { metadata };
  }
  const message = e instanceof Error ? e.message : String(e);
  deps.log?.(`chat error: ${message}`);
  if (e instanceof LakescoutError && e.kind === 'unauthorized') {
    stream.button({ command: 'lakescout.setApiKey', title: 'Set API key' });
  }
  return { errorDetails: { message }, metadata };
}
