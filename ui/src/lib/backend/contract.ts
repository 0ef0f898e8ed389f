// Provisional types from /work/contract.md (session 2) that ts-rs has not
// generated into src/bindings/ yet. Shapes are exactly the contract's; the lead
// swaps each for its generated binding at merge (delete the alias, fix imports).
import type { ApiError as GeneratedApiError } from '../../bindings/ApiError';
import type { Category } from '../../bindings/Category';
import type { ErrorCode as GeneratedErrorCode } from '../../bindings/ErrorCode';
import type { Event as GeneratedEvent } from '../../bindings/Event';
import type { MessageDetail as GeneratedMessageDetail } from '../../bindings/MessageDetail';
import type { MessageQuery as GeneratedMessageQuery } from '../../bindings/MessageQuery';
import type { MessageSummary as GeneratedMessageSummary } from '../../bindings/MessageSummary';
import type { PageCursor } from '../../bindings/PageCursor';
import type { Status as GeneratedStatus } from '../../bindings/Status';

export type FolderRole =
  | 'inbox'
  | 'sent'
  | 'drafts'
  | 'trash'
  | 'spam'
  | 'archive'
  | 'starred'
  | 'important'
  | 'label'
  | 'other';

export interface Folder {
  id: number;
  accountId: number;
  name: string;
  role: FolderRole;
  unread: number;
  total: number;
}

/** MessageSummary gains threadSize (messages in its conversation, 1 when alone) and spam. */
export type MessageSummary = GeneratedMessageSummary & { threadSize: number; spam: boolean };

/** conversations: true gives one row per thread (its newest message). */
export type MessageQuery = GeneratedMessageQuery & { conversations: boolean };

export interface MessagePage {
  messages: MessageSummary[];
  next: PageCursor | null;
}

/** MessageDetail gains html: true when a sanitised HTML body exists (then call render_message). */
export type MessageDetail = Omit<GeneratedMessageDetail, 'summary'> & { summary: MessageSummary; html: boolean };

export interface RenderedBody {
  /** A whole sanitised HTML document for <iframe srcdoc>. */
  html: string;
  /** How many remote references were replaced by placeholders. */
  remoteBlocked: number;
  /** Whether remote content was allowed for this render. */
  remoteAllowed: boolean;
}

export type RemoteScope = { kind: 'message'; messageId: number } | { kind: 'sender'; address: string };

/** UTF-16 code-unit offsets, end exclusive. */
export interface Span {
  start: number;
  end: number;
}

export interface SearchHit {
  message: MessageSummary;
  subjectMatches: Span[];
  snippetMatches: Span[];
}

export interface Settings {
  /** 1..=1440, default 5 */
  syncIntervalMinutes: number;
  /** 1..=3650, default 90 */
  initialSyncDays: number;
  /** 100..=1_000_000, default 10000 */
  initialSyncMaxMessages: number;
  categoriesEnabled: boolean;
  notificationsEnabled: boolean;
  /** Lower-cased addresses allowed to load remote content. */
  remoteContentSenders: string[];
}

export type CategorySource = 'model' | 'provider' | 'user';

export interface Neighbour {
  subject: string;
  from: string;
  category: Category;
  similarity: number;
}

export interface CategoryExplanation {
  category: Category | null;
  confidence: number | null;
  source: CategorySource | null;
  spam: boolean;
  /** Nearest labelled examples. */
  neighbours: Neighbour[];
  /** One sentence, e.g. "Sent to a mailing list (List-Id) and like 3 forum posts". */
  reason: string;
}

export interface ClassifierStatus {
  available: boolean;
  message: string;
  pending: number;
}

export type Status = GeneratedStatus & { classifier: ClassifierStatus };

export type AccountProvider = 'gmail' | 'graph' | 'ado';

export interface AddAccount {
  provider: AccountProvider;
  clientId: string | null;
  clientSecret: string | null;
  organization: string | null;
  pat: string | null;
  baseUrl: string | null;
}

/** Codes the contract's new commands reject with. */
export type ErrorCode = GeneratedErrorCode | 'invalidQuery' | 'refusedLink' | 'invalidSetting';

export type ApiError = Omit<GeneratedApiError, 'code'> & { code: ErrorCode };

/** Event gains newMail on `mail://changed`, published after a sync stored new messages. */
export type Event =
  | GeneratedEvent
  | { type: 'newMail'; data: { accountId: number; count: number; primary: MessageSummary[] } };
