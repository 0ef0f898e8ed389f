// The open work item: the stored detail at once, then refresh_work_item in the
// background (comments and history from Azure DevOps), replacing it when it
// answers — or, offline, a quiet note while the stored detail stays. Edits go
// through edit_work_item (applied locally at once, queued); the returned item
// replaces the shown one, and a refused edit shows Rust's sentence. A
// conflicting edit is re-applied or dropped with resolve_work_item_conflict.
import type { ApiError } from '../../bindings/ApiError';
import type { ConflictChoice } from '../../bindings/ConflictChoice';
import type { WorkItem } from '../../bindings/WorkItem';
import type { WorkItemDetail } from '../../bindings/WorkItemDetail';
import type { WorkItemEdit } from '../../bindings/WorkItemEdit';
import type { Backend } from '../backend/backend';
import { toApiError } from '../backend/errors';
import { debounce } from '../debounce';
import { editFailure } from '../workItems';
import { subscribe } from './subscribe';

/** What is being changed, or was refused. */
export type EditKind = WorkItemEdit['kind'] | 'resolve';

export interface EditError {
  kind: EditKind;
  /** "Couldn't change the state". */
  title: string;
  /** Rust's sentence. */
  message: string;
  code: ApiError['code'];
}

/** A comment sent in this session that Azure DevOps has not accepted yet. */
export interface PendingComment {
  text: string;
  at: number;
}

export class WorkItemDetailStore {
  detail = $state.raw<WorkItemDetail | null>(null);
  /** The local row id of the open item. */
  openId = $state<number | null>(null);
  loading = $state(false);
  /** The item could not be opened at all. */
  error = $state<ApiError | null>(null);
  /** Reading the item from Azure DevOps is under way. */
  refreshing = $state(false);
  /** Why the shown detail may be behind Azure DevOps (offline …); quiet, not an error. */
  refreshNote = $state<string | null>(null);
  /** The edit being sent. */
  busy = $state<EditKind | null>(null);
  editError = $state<EditError | null>(null);
  pendingComments = $state.raw<PendingComment[]>([]);

  private generation = 0;
  /** The pane is shown; while it is not, dataChanged only marks the detail stale. */
  private active = false;
  private stale = false;
  /** Bumped by every edit, so a refresh begun before it cannot show the item as it was. */
  private edits = 0;
  private readonly reloadSoon;

  constructor(
    private readonly backend: Backend,
    refreshDebounceMs: number,
    /** Told about every newer version of an item (the list shows it too). */
    private readonly onItem: (item: WorkItem) => void = () => {},
  ) {
    this.reloadSoon = debounce(() => void this.reload(), refreshDebounceMs);
  }

  /** Subscribes to dataChanged (re-reads the stored detail while shown); returns the unsubscribe. */
  start(): () => void {
    const stop = subscribe(
      this.backend,
      (e) => {
        if (e.type !== 'dataChanged' || this.openId === null) return;
        if (this.active) this.reloadSoon();
        else this.stale = true;
      },
      () => {},
    );
    return () => {
      stop();
      this.reloadSoon.cancel();
    };
  }

  /** The pane is shown: catch up on changes missed while hidden; returns what to call when it goes. */
  activate(): () => void {
    this.active = true;
    if (this.stale && this.openId !== null && !this.loading) void this.reload();
    this.stale = false;
    return () => {
      this.active = false;
      this.reloadSoon.cancel();
    };
  }

  /** Shows the stored detail of item `id`, then asks Azure DevOps for the latest in the background. */
  async open(id: number): Promise<void> {
    const generation = ++this.generation;
    const same = this.openId === id;
    this.openId = id;
    this.loading = true;
    this.error = null;
    this.editError = null;
    this.refreshNote = null;
    if (!same) {
      this.detail = null;
      this.pendingComments = [];
    }
    try {
      const detail = await this.backend.getWorkItem(id);
      if (generation !== this.generation) return;
      this.show(detail);
    } catch (err) {
      if (generation === this.generation) {
        this.detail = null;
        this.error = toApiError(err);
      }
      return;
    } finally {
      if (generation === this.generation) this.loading = false;
    }
    await this.refresh();
  }

  /** Reads the open item from Azure DevOps now; offline, the stored detail stays with a note. */
  async refresh(): Promise<void> {
    const id = this.openId;
    if (id === null) return;
    const generation = this.generation;
    const edits = this.edits;
    this.refreshing = true;
    try {
      const detail = await this.backend.refreshWorkItem(id);
      if (generation !== this.generation) return;
      this.refreshNote = null;
      // An edit made meanwhile is newer than this answer: read the store again instead.
      if (edits === this.edits) this.show(detail);
      else await this.reload();
    } catch (err) {
      if (generation !== this.generation) return;
      const e = toApiError(err);
      this.refreshNote =
        e.code === 'unavailable'
          ? `Offline: showing the item as last synced. ${e.message}`
          : `Couldn't update from Azure DevOps: ${e.message}`;
    } finally {
      if (generation === this.generation) this.refreshing = false;
    }
  }

  /** Re-reads the stored detail (after dataChanged), keeping what is shown on failure. */
  async reload(): Promise<void> {
    const id = this.openId;
    if (id === null) return;
    const generation = this.generation;
    try {
      const detail = await this.backend.getWorkItem(id);
      if (generation === this.generation) this.show(detail);
    } catch {
      // The shown detail stays; the next change or open tries again.
    }
  }

  close(): void {
    this.generation += 1;
    this.openId = null;
    this.detail = null;
    this.error = null;
    this.editError = null;
    this.refreshNote = null;
    this.loading = false;
    this.refreshing = false;
    this.pendingComments = [];
  }

  /** Sends one edit; resolves to whether it was accepted (queued). */
  async edit(edit: WorkItemEdit): Promise<boolean> {
    const id = this.openId;
    if (id === null) return false;
    const generation = this.generation;
    this.edits += 1;
    this.busy = edit.kind;
    this.editError = null;
    try {
      const item = await this.backend.editWorkItem(id, edit);
      this.onItem(item);
      if (generation !== this.generation) return true;
      if (this.detail) this.detail = { ...this.detail, item };
      if (edit.kind === 'comment') {
        this.pendingComments = [...this.pendingComments, { text: edit.text.trim(), at: Date.now() }];
      }
      return true;
    } catch (err) {
      if (generation === this.generation) this.fail(edit.kind, err);
      return false;
    } finally {
      if (generation === this.generation) this.busy = null;
    }
  }

  /** Re-applies the conflicting edit on the item as it is now, or drops it. */
  async resolve(choice: ConflictChoice): Promise<boolean> {
    const id = this.openId;
    if (id === null) return false;
    const generation = this.generation;
    this.edits += 1;
    this.busy = 'resolve';
    this.editError = null;
    try {
      const detail = await this.backend.resolveWorkItemConflict(id, choice);
      this.onItem(detail.item);
      if (generation === this.generation) this.show(detail);
      return true;
    } catch (err) {
      if (generation === this.generation) this.fail('resolve', err);
      return false;
    } finally {
      if (generation === this.generation) this.busy = null;
    }
  }

  dismissError(): void {
    this.editError = null;
  }

  private show(detail: WorkItemDetail): void {
    this.detail = detail;
    this.onItem(detail.item);
    // Sent comments show from the service once nothing of the user's waits any more.
    if (detail.item.pendingEdits === 0 && !detail.item.conflict) this.pendingComments = [];
  }

  private fail(kind: EditKind, err: unknown): void {
    const e = toApiError(err);
    this.editError = { kind, title: editFailure(kind), message: e.message, code: e.code };
  }
}
