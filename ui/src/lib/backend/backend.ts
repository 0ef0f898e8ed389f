// The one seam between the UI and the Rust core: a typed method per Tauri
// command, so components never touch `invoke` or event names directly.
import type { Account } from '../../bindings/Account';
import type { Category } from '../../bindings/Category';
import type { Diagnostics } from '../../bindings/Diagnostics';
import type { SearchQuery } from '../../bindings/SearchQuery';
import type { ConflictChoice } from '../../bindings/ConflictChoice';
import type { LinkedWorkItem } from '../../bindings/LinkedWorkItem';
import type { WorkItem } from '../../bindings/WorkItem';
import type { WorkItemDetail } from '../../bindings/WorkItemDetail';
import type { WorkItemEdit } from '../../bindings/WorkItemEdit';
import type { WorkItemQuery } from '../../bindings/WorkItemQuery';
import type { AddAccount } from '../../bindings/AddAccount';
import type { CategoryExplanation } from '../../bindings/CategoryExplanation';
import type { ComposeRequest } from '../../bindings/ComposeRequest';
import type { Contact } from '../../bindings/Contact';
import type { Draft } from '../../bindings/Draft';
import type { DraftEdit } from '../../bindings/DraftEdit';
import type { Event as BackendEvent } from '../../bindings/Event';
import type { Folder } from '../../bindings/Folder';
import type { MessageDetail } from '../../bindings/MessageDetail';
import type { MessagePage } from '../../bindings/MessagePage';
import type { MessageQuery } from '../../bindings/MessageQuery';
import type { RemoteScope } from '../../bindings/RemoteScope';
import type { RenderedBody } from '../../bindings/RenderedBody';
import type { SearchHit } from '../../bindings/SearchHit';
import type { Settings } from '../../bindings/Settings';
import type { Status } from '../../bindings/Status';

/** Tauri event names whose payload is an `Event`; all three feed `onEvent`. */
export const EVENT_NAMES = ['sync://progress', 'sync://state', 'mail://changed'] as const;

/** A file for attach_file: its name, MIME type and bytes. */
export interface AttachedFile {
  name: string;
  type: string;
  bytes: Uint8Array;
}

/**
 * Every method's promise rejects with an `ApiError` (never a bare string or Error).
 */
export interface Backend {
  listAccounts(): Promise<Account[]>;
  listMessages(query: MessageQuery): Promise<MessagePage>;
  getMessage(id: number): Promise<MessageDetail>;
  /** The box's text goes to Rust as typed; Rust parses the operators. */
  searchMessages(query: SearchQuery): Promise<SearchHit[]>;
  /** Rejects `invalidQuery` with a sentence when the search text cannot be parsed. */
  listWorkItems(query: WorkItemQuery): Promise<WorkItem[]>;
  getStatus(): Promise<Status>;
  setSyncEnabled(enabled: boolean): Promise<Status>;
  syncNow(accountId: number | null): Promise<void>;

  // Reading pane
  listFolders(accountId: number | null): Promise<Folder[]>;
  /** A conversation, oldest first. */
  getThread(threadId: number): Promise<MessageDetail[]>;
  renderMessage(id: number): Promise<RenderedBody>;
  /** For a message scope, that message re-rendered; for a sender scope, null. */
  allowRemote(scope: RemoteScope): Promise<RenderedBody | null>;
  /** Opens http, https and mailto links in the system browser; rejects `refusedLink` otherwise. */
  openLink(url: string): Promise<void>;

  // Mail actions
  setUnread(ids: number[], unread: boolean): Promise<void>;
  setStarred(ids: number[], starred: boolean): Promise<void>;
  archiveMessages(ids: number[]): Promise<void>;
  trashMessages(ids: number[]): Promise<void>;

  // Settings and accounts
  getSettings(): Promise<Settings>;
  /** Rejects `invalidSetting` with a sentence naming the field. */
  updateSettings(settings: Settings): Promise<Settings>;
  addAccount(account: AddAccount): Promise<Account>;
  reauthenticate(accountId: number): Promise<Account>;
  removeAccount(accountId: number): Promise<void>;
  setAccountSync(accountId: number, enabled: boolean): Promise<Account>;
  /** The health report (`ember doctor`): checks a few seconds at most; `report` is the shareable text. */
  getDiagnostics(): Promise<Diagnostics>;

  // Work items
  /** One item as last synced (`id` is the local row id, `WorkItem.id`). */
  getWorkItem(id: number): Promise<WorkItemDetail>;
  /** The item read from Azure DevOps now, with comments and history; rejects `unavailable` offline. */
  refreshWorkItem(id: number): Promise<WorkItemDetail>;
  /** Applied locally at once and queued; rejects `invalidInput` with a sentence (e.g. a state the type lacks). */
  editWorkItem(id: number, edit: WorkItemEdit): Promise<WorkItem>;
  /** Re-applies or drops the edit that met someone else's change. */
  resolveWorkItemConflict(id: number, choice: ConflictChoice): Promise<WorkItemDetail>;
  /** The work items a message refers to, with their live state. */
  linkedWorkItems(messageId: number): Promise<LinkedWorkItem[]>;

  // Categories
  moveToCategory(ids: number[], category: Category): Promise<void>;
  explainCategory(id: number): Promise<CategoryExplanation>;

  // Writing mail
  /** Opens the composer on a new draft: a new message, or a reply, reply-all or forward of a stored message. */
  compose(request: ComposeRequest): Promise<Draft>;
  /** A message of the Drafts folder (e.g. written on another device), as a draft to go on writing. */
  openDraft(messageId: number): Promise<Draft>;
  getDraft(id: number): Promise<Draft>;
  /** Drafts not yet sent (editing, queued, sending or failed), of one account or all. */
  listDrafts(accountId: number | null): Promise<Draft[]>;
  /** Saves what the composer holds; rejects `conflict` once the draft is queued or sent. */
  saveDraft(id: number, edit: DraftEdit): Promise<Draft>;
  /** Attaches a file (its bytes go as the raw request body); rejects `tooLarge` past the provider's limit. */
  attachFile(id: number, file: AttachedFile): Promise<Draft>;
  detachFile(id: number, attachmentId: number): Promise<Draft>;
  /** Queues the draft, leaving at `sendAt`; rejects `invalidInput` (no recipient, a bad address) or `tooLarge`. */
  sendDraft(id: number): Promise<Draft>;
  /** Takes a queued draft back into `editing`; rejects `conflict` once it has left. */
  undoSend(id: number): Promise<Draft>;
  /** Deletes the draft here and in the provider's Drafts. */
  discardDraft(id: number): Promise<void>;
  /** Addresses for To, Cc and Bcc, best first. */
  suggestContacts(prefix: string, limit: number): Promise<Contact[]>;

  /** Subscribes to all backend events; resolves to a single unlisten function. */
  onEvent(handler: (event: BackendEvent) => void): Promise<() => void>;
}
