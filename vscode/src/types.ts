/**
 * The lakescout API contract as the extension names it. Every type is one of the schemas of the server's
 * OpenAPI document (`openapi.json`, compiled to `api-types.ts` by `npm run api-types`), except what the
 * document leaves untyped: the server-sent events of `/v1/chat/stream` and the `scan_estimate` object.
 */
import type { components, operations } from './api-types';

type Schemas = components['schemas'];

/** An answer; one the client assembles from streamed tokens (a stream without `answer`) has no thread or message id. */
export type ChatAnswer = Omit<Schemas['AgentAnswer'], 'thread_id' | 'message_id'> & { thread_id?: string; message_id?: string };
export type ToolCall = Schemas['ToolCallInfo'];
export type TableSummary = Schemas['TableEntry'];
export type TableList = Schemas['TableList'];
export type TableRecord = Schemas['TableRecord'];
export type ColumnInfo = Schemas['Column'];
export type PartitionSpec = Schemas['PartitionSpec'];
export type TableTotals = Schemas['TableTotals'];
export type SqlIssue = Schemas['Issue'];
export type ValidationResult = Schemas['ValidateResponse'];
export type QueryResult = Schemas['RunResponse'];
export type ErrorBody = Schemas['ErrorBody'];
export type FeedbackRequest = Schemas['FeedbackRequest'];
export type FeedbackResponse = Schemas['FeedbackResponse'];
export type VerifiedQuery = Schemas['VerifiedQuery'];
export type VerifiedList = Schemas['VerifiedList'];
/** The filters of `GET /v1/verified`. */
export type VerifiedFilters = NonNullable<operations['list_verified_v1_verified_get']['parameters']['query']>;

/** What `scan_estimate` holds (an untyped object in the document): an estimate per table the query reads. */
export interface ScanEstimate {
  tables?: Record<string, { files?: number | null; bytes?: number | null }>;
}

/** The events of `/v1/chat/stream` as the client yields them (`error` is thrown, `done` ends the stream). */
export type StreamEvent =
  | { type: 'token'; text: string }
  | { type: 'tool_start'; name: string; args: unknown }
  | { type: 'tool_end'; name: string; summary: string }
  | { type: 'answer'; answer: ChatAnswer };

/** `namespace.table`: TableRecord.name is the bare table name, TableEntry.name is already qualified. */
export function qualifiedName(rec: Pick<TableRecord, 'name'> & { namespace?: string }): string {
  return rec.namespace ? `${rec.namespace}.${rec.name}` : rec.name;
}
