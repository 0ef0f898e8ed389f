// Mail actions (read/unread, star, archive, delete, move to category) applied
// optimistically to every place a row shows — list, search results, reading
// pane — then sent to the backend; a failure rolls them back with a toast.
import type { Category } from '../../bindings/Category';
import type { Backend } from '../backend/backend';
import type { MessageSummary } from '../backend/contract';
import { toApiError } from '../backend/errors';
import type { NotificationStore } from './notifications.svelte';

type Change = (m: MessageSummary) => MessageSummary;

/** Something that shows rows and can change them at once. */
export interface RowHolder {
  patch(ids: number[], change: Change): () => void;
  remove?(ids: number[]): () => void;
}

export class MailActions {
  constructor(
    private readonly backend: Backend,
    private readonly notifications: NotificationStore,
    private readonly holders: RowHolder[],
  ) {}

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
    return this.run(
      'Could not archive',
      () => this.removeAll(rowIds),
      async () => this.backend.archiveMessages(await messageIds),
    );
  }

  trash(rowIds: number[], messageIds: number[] | Promise<number[]> = rowIds): Promise<void> {
    return this.run(
      'Could not delete',
      () => this.removeAll(rowIds),
      async () => this.backend.trashMessages(await messageIds),
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
