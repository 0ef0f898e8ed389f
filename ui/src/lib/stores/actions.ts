// Mail actions (read/unread, star, archive, delete, move to category) applied
// optimistically to every place a row shows — list, search results, reading
// pane — then sent to the backend; a failure rolls them back with a toast.
// Archive and delete wait `undoMs` behind an "Undo" toast before they are
// sent (the backend has no inverse command); only the latest one is undoable,
// and flush() sends whatever is waiting (on a new action, unmount, pagehide).
import type { Category } from '../../bindings/Category';
import type { Backend } from '../backend/backend';
import type { MessageSummary } from '../../bindings/MessageSummary';
import { toApiError } from '../backend/errors';
import type { NotificationStore } from './notifications.svelte';

type Change = (m: MessageSummary) => MessageSummary;

/** Something that shows rows and can change them at once. */
export interface RowHolder {
  patch(ids: number[], change: Change): () => void;
  remove?(ids: number[]): () => void;
  /** The backend has applied a removal: stop holding those rows back. */
  settled?(ids: number[]): void;
}

/** An archive or delete waiting behind its Undo toast. */
interface Waiting {
  commit: () => void;
  cancel: () => void;
}

export const UNDO_KEY = 'undo';

export class MailActions {
  private waiting: Waiting | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly notifications: NotificationStore,
    private readonly holders: RowHolder[],
    private readonly undoMs = 0,
  ) {}

  /** Sends the archive or delete waiting behind the Undo toast now. */
  flush(): void {
    this.waiting?.commit();
  }

  /** Takes back the archive or delete waiting behind the Undo toast. */
  undo(): void {
    this.waiting?.cancel();
  }

  setUnread(ids: number[], unread: boolean): Promise<void> {
    return this.run(
      unread ? 'Could not mark as unread' : 'Could not mark as read',
      () => this.patchAll(ids, (m) => ({ ...m, unread })),
      () => this.backend.setUnread(ids, unread),
    );
  }

  setStarred(ids: number[], starred: boolean): Promise<void> {
    return this.run(
      starred ? 'Could not star' : 'Could not remove the star',
      () => this.patchAll(ids, (m) => ({ ...m, starred })),
      () => this.backend.setStarred(ids, starred),
    );
  }

  /**
   * Takes the rows away at once; `messageIds` (default: the rows) may resolve
   * later, e.g. to every message of the conversations the rows stand for.
   */
  archive(rowIds: number[], messageIds: number[] | Promise<number[]> = rowIds): Promise<void> {
    return this.removeUndoably('Archived', 'Could not archive', rowIds, async () =>
      this.backend.archiveMessages(await messageIds),
    );
  }

  trash(rowIds: number[], messageIds: number[] | Promise<number[]> = rowIds): Promise<void> {
    return this.removeUndoably('Deleted', 'Could not delete', rowIds, async () =>
      this.backend.trashMessages(await messageIds),
    );
  }

  /** A user's correction: shown at once, and it teaches the categoriser. */
  moveToCategory(ids: number[], category: Category): Promise<void> {
    return this.run(
      'Could not move to another category',
      () => this.patchAll(ids, (m) => ({ ...m, category, categoryConfidence: 1 })),
      () => this.backend.moveToCategory(ids, category),
    );
  }

  private patchAll(ids: number[], change: Change): () => void {
    const undo = this.holders.map((h) => h.patch(ids, change));
    return () => undo.forEach((u) => u());
  }

  private removeAll(ids: number[]): () => void {
    const undo = this.holders.map((h) => h.remove?.(ids));
    return () => undo.forEach((u) => u?.());
  }

  /** Resolves once the removal was sent (or undone). */
  private removeUndoably(done: string, failure: string, rowIds: number[], send: () => Promise<void>): Promise<void> {
    this.flush();
    const rollback = this.removeAll(rowIds);
    const sendAndSettle = async () => {
      await this.run(failure, () => rollback, send);
      this.holders.forEach((h) => h.settled?.(rowIds));
    };
    if (this.undoMs <= 0) return sendAndSettle();
    return new Promise((resolve) => {
      const finish = (then: () => Promise<void> | void) => {
        clearTimeout(timer);
        if (this.waiting === waiting) this.waiting = null;
        this.notifications.dismiss(UNDO_KEY);
        void Promise.resolve(then()).then(() => resolve());
      };
      const waiting: Waiting = {
        commit: () => finish(sendAndSettle),
        cancel: () =>
          finish(() => {
            rollback();
            this.holders.forEach((h) => h.settled?.(rowIds));
          }),
      };
      const timer = setTimeout(waiting.commit, this.undoMs);
      this.waiting = waiting;
      this.notifications.show({
        key: UNDO_KEY,
        kind: 'info',
        title: done,
        message: rowIds.length === 1 ? '1 conversation' : `${rowIds.length} conversations`,
        persistent: true,
        action: { label: 'Undo', run: () => waiting.cancel() },
      });
    });
  }

  private async run(failure: string, apply: () => () => void, send: () => Promise<void>): Promise<void> {
    const rollback = apply();
    try {
      await send();
    } catch (err) {
      rollback();
      const e = toApiError(err);
      this.notifications.show({ key: `action:${failure}`, kind: 'error', title: failure, message: e.message, code: e.code });
    }
  }
}
