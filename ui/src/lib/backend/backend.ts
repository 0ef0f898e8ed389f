// The one seam between the UI and the Rust core: a typed method per Tauri
// command, so components never touch `invoke` or event names directly.
import type { Account } from '../../bindings/Account';
import type { Event as BackendEvent } from '../../bindings/Event';
import type { MessageDetail } from '../../bindings/MessageDetail';
import type { MessagePage } from '../../bindings/MessagePage';
import type { MessageQuery } from '../../bindings/MessageQuery';
import type { SearchHit } from '../../bindings/SearchHit';
import type { SearchQuery } from '../../bindings/SearchQuery';
import type { Status } from '../../bindings/Status';
import type { WorkItem } from '../../bindings/WorkItem';
import type { WorkItemQuery } from '../../bindings/WorkItemQuery';

/** Tauri event names whose payload is an `Event`; all three feed `onEvent`. */
export const EVENT_NAMES = ['sync://progress', 'sync://state', 'mail://changed'] as const;

/**
 * Every method's promise rejects with an `ApiError` (never a bare string or Error).
 */
export interface Backend {
  listAccounts(): Promise<Account[]>;
  listMessages(query: MessageQuery): Promise<MessagePage>;
  getMessage(id: number): Promise<MessageDetail>;
  searchMessages(query: SearchQuery): Promise<SearchHit[]>;
  listWorkItems(query: WorkItemQuery): Promise<WorkItem[]>;
  getStatus(): Promise<Status>;
  setSyncEnabled(enabled: boolean): Promise<Status>;
  syncNow(accountId: number | null): Promise<void>;
  /** Subscribes to all backend events; resolves to a single unlisten function. */
  onEvent(handler: (event: BackendEvent) => void): Promise<() => void>;
}
