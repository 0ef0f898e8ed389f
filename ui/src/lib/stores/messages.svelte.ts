// One mailbox view's conversation list: first page, keyset pages as the list
// scrolls, a debounced refetch when the backend says data changed, and
// optimistic row patches (with their rollback) for mail actions.
import type { MailView } from '../../bindings/MailView';
import type { PageCursor } from '../../bindings/PageCursor';
import type { Backend } from '../backend/backend';
import type { ApiError } from '../../bindings/ApiError';
import type { MessageSummary } from '../../bindings/MessageSummary';
import { toApiError } from '../backend/errors';
import { debounce } from '../debounce';
import { compareNewestFirst } from '../order';
import { subscribe } from './subscribe';
import { idSet } from '../ids';

/** Upper bound on rows asked for when refetching an already-extended list. */
export const MAX_REFETCH = 500;

export interface MessageListOptions {
  pageSize: number;
  refreshDebounceMs: number;
}

/** Undoes an optimistic change. */
export type Rollback = () => void;

export class MessageListStore {
  /** Raw (not deeply reactive): rows are replaced, never mutated, so 100,000 stay cheap. */
  messages = $state.raw<MessageSummary[]>([]);
  next = $state<PageCursor | null>(null);
  loading = $state(false);
  loadingMore = $state(false);
  loaded = $state(false);
  error = $state<ApiError | null>(null);

  private view: MailView = { kind: 'unified' };
  /** Rows removed optimistically whose removal the backend has not applied yet: kept out of refetches. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  private held = new Set<number>();
  /** Bumped on every reload so late answers for an old view/page are dropped. */
  private generation = 0;
  private readonly refreshSoon;

  constructor(
    private readonly backend: Backend,
    private readonly options: MessageListOptions,
  ) {
    this.refreshSoon = debounce(() => void this.refresh(), options.refreshDebounceMs);
  }

  /** Subscribes to dataChanged / newMail; returns the unsubscribe. */
  start(): () => void {
    const stop = subscribe(
      this.backend,
      (e) => {
        if (e.type !== 'dataChanged' && e.type !== 'newMail') return;
        const view = this.view;
        const other = e.data.accountId !== null && view.kind === 'account' && view.accountId !== e.data.accountId;
        if (!other) this.refreshSoon();
      },
      () => {},
    );
    return () => {
      stop();
      this.refreshSoon.cancel();
    };
  }

  setView(view: MailView): Promise<void> {
    this.view = $state.snapshot(view);
    this.messages = [];
    this.next = null;
    this.loaded = false;
    return this.load(this.options.pageSize);
  }

  /**
   * Reloads from the top, as many rows as are shown now (at least one page, at
   * most MAX_REFETCH). Rows loaded beyond that are kept below the fresh head,
   * so a refresh deep in a long list neither truncates it nor jumps the scroll.
   */
  refresh(): Promise<void> {
    const limit = Math.min(Math.max(this.messages.length, this.options.pageSize), MAX_REFETCH);
    const keepTail = this.messages.length > limit;
    return this.load(limit, keepTail);
  }

  async loadMore(): Promise<void> {
    const before = this.next;
    if (!before || this.loading || this.loadingMore) return;
    const generation = this.generation;
    this.loadingMore = true;
    try {
      const page = await this.backend.listMessages({
        view: this.view,
        before,
        limit: this.options.pageSize,
        conversations: true,
      });
      if (generation !== this.generation) return;
      this.messages = append(this.messages, this.visible(page.messages));
      this.next = page.next;
      this.error = null;
    } catch (err) {
      if (generation === this.generation) this.error = toApiError(err);
    } finally {
      if (generation === this.generation) this.loadingMore = false;
    }
  }

  /** Applies `change` to the rows with these ids now; returns how to undo it. */
  patch(ids: number[], change: (m: MessageSummary) => MessageSummary): Rollback {
    const wanted = idSet(ids);
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- rollback snapshot, never rendered
    const before = new Map<number, MessageSummary>();
    this.messages = this.messages.map((m) => {
      if (!wanted.has(m.id)) return m;
      before.set(m.id, m);
      return change(m);
    });
    return () => {
      this.messages = this.messages.map((m) => before.get(m.id) ?? m);
    };
  }

  /** Takes the rows with these ids out of the list now; returns how to put them back. */
  remove(ids: number[]): Rollback {
    const wanted = idSet(ids);
    ids.forEach((id) => this.held.add(id));
    const taken = this.messages.filter((m) => wanted.has(m.id));
    this.messages = this.messages.filter((m) => !wanted.has(m.id));
    return () => {
      ids.forEach((id) => this.held.delete(id));
      const present = idSet(this.messages.map((m) => m.id));
      this.messages = [...this.messages, ...taken.filter((m) => !present.has(m.id))].sort(compareNewestFirst);
    };
  }

  settled(ids: number[]): void {
    ids.forEach((id) => this.held.delete(id));
  }

  private visible(rows: MessageSummary[]): MessageSummary[] {
    return this.held.size === 0 ? rows : rows.filter((m) => !this.held.has(m.id));
  }

  private async load(limit: number, keepTail = false): Promise<void> {
    const generation = ++this.generation;
    const previous = { messages: this.messages, next: this.next };
    this.loading = true;
    this.loadingMore = false;
    try {
      const page = await this.backend.listMessages({ view: this.view, before: null, limit, conversations: true });
      if (generation !== this.generation) return;
      const head = this.visible([...page.messages].sort(compareNewestFirst));
      const last = head.at(-1);
      if (keepTail && last && page.next) {
        const tail = previous.messages.filter((m) => compareNewestFirst(last, m) < 0);
        this.messages = append(head, tail);
        this.next = previous.next;
      } else {
        this.messages = head;
        this.next = page.next;
      }
      this.loaded = true;
      this.error = null;
    } catch (err) {
      if (generation === this.generation) this.error = toApiError(err);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }
}

/** Adds a keyset page: a plain append when it is strictly older (the usual case), else merge. */
function append(rows: MessageSummary[], page: MessageSummary[]): MessageSummary[] {
  const last = rows.at(-1);
  const first = page[0];
  if (!last || !first || compareNewestFirst(last, first) < 0) return rows.concat(page);
  const seen = idSet(rows.map((m) => m.id));
  return [...rows, ...page.filter((m) => !seen.has(m.id))].sort(compareNewestFirst);
}
