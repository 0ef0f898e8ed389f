// One mailbox view's message list: first page, keyset "Load more", and a
// debounced refetch (keeping what is loaded) when the backend says data changed.
import type { ApiError } from '../../bindings/ApiError';
import type { MailView } from '../../bindings/MailView';
import type { MessageSummary } from '../../bindings/MessageSummary';
import type { PageCursor } from '../../bindings/PageCursor';
import type { Backend } from '../backend/backend';
import { toApiError } from '../backend/errors';
import { debounce } from '../debounce';
import { compareNewestFirst } from '../order';
import { subscribe } from './subscribe';

/** Upper bound on rows asked for when refetching an already-extended list. */
export const MAX_REFETCH = 500;

export interface MessageListOptions {
  pageSize: number;
  refreshDebounceMs: number;
}

export class MessageListStore {
  messages = $state<MessageSummary[]>([]);
  next = $state<PageCursor | null>(null);
  loading = $state(false);
  loadingMore = $state(false);
  loaded = $state(false);
  error = $state<ApiError | null>(null);

  private view: MailView = { kind: 'unified' };
  /** Bumped on every reload so late answers for an old view/page are dropped. */
  private generation = 0;
  private readonly refreshSoon;

  constructor(
    private readonly backend: Backend,
    private readonly options: MessageListOptions,
  ) {
    this.refreshSoon = debounce(() => void this.refresh(), options.refreshDebounceMs);
  }

  /** Subscribes to dataChanged; returns the unsubscribe. */
  start(): () => void {
    const stop = subscribe(
      this.backend,
      (e) => {
        if (e.type !== 'dataChanged') return;
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

  /** Reloads from the top, as many rows as are shown now (at least one page). */
  refresh(): Promise<void> {
    const limit = Math.min(Math.max(this.messages.length, this.options.pageSize), MAX_REFETCH);
    return this.load(limit);
  }

  async loadMore(): Promise<void> {
    const before = this.next;
    if (!before || this.loading || this.loadingMore) return;
    const generation = this.generation;
    this.loadingMore = true;
    try {
      const page = await this.backend.listMessages({ view: this.view, before, limit: this.options.pageSize, conversations: false });
      if (generation !== this.generation) return;
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local lookup, never rendered
      const seen = new Set(this.messages.map((m) => m.id));
      this.messages = [...this.messages, ...page.messages.filter((m) => !seen.has(m.id))].sort(compareNewestFirst);
      this.next = page.next;
      this.error = null;
    } catch (err) {
      if (generation === this.generation) this.error = toApiError(err);
    } finally {
      if (generation === this.generation) this.loadingMore = false;
    }
  }

  private async load(limit: number): Promise<void> {
    const generation = ++this.generation;
    this.loading = true;
    this.loadingMore = false;
    try {
      const page = await this.backend.listMessages({ view: this.view, before: null, limit, conversations: false });
      if (generation !== this.generation) return;
      this.messages = [...page.messages].sort(compareNewestFirst);
      this.next = page.next;
      this.loaded = true;
      this.error = null;
    } catch (err) {
      if (generation === this.generation) this.error = toApiError(err);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }
}
