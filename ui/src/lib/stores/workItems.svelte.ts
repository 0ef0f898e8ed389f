// The work-item pane's list: the membership filter and the search box's text
// make one list_work_items query (search debounced, stale answers dropped);
// a query Rust cannot parse shows its sentence instead of failing the list.
// It loads while the pane is shown and refetches (debounced) on dataChanged.
import type { ApiError } from '../../bindings/ApiError';
import type { WorkItem } from '../../bindings/WorkItem';
import type { Backend } from '../backend/backend';
import { toApiError } from '../backend/errors';
import { debounce } from '../debounce';
import { groupByState, workItemQuery, WORK_ITEM_LIMIT, type Membership, type StateGroup } from '../workItems';
import { subscribe } from './subscribe';

export interface WorkItemListOptions {
  searchDebounceMs: number;
  refreshDebounceMs: number;
}

export class WorkItemListStore {
  /** Most recently changed first, as the service answers. */
  items = $state.raw<WorkItem[]>([]);
  membership = $state<Membership>(null);
  text = $state('');
  loaded = $state(false);
  loading = $state(false);
  /** The list could not be loaded. */
  error = $state<ApiError | null>(null);
  /** The search text was refused (code invalidQuery): its sentence shows under the box. */
  queryError = $state<ApiError | null>(null);
  /** Grouped by state, groups in process order. */
  groups: StateGroup[] = $derived(groupByState(this.items));

  private active = false;
  private generation = 0;
  private readonly searchSoon;
  private readonly refreshSoon;

  constructor(
    private readonly backend: Backend,
    options: WorkItemListOptions,
  ) {
    this.searchSoon = debounce(() => void this.refresh(), options.searchDebounceMs);
    this.refreshSoon = debounce(() => void this.refresh(), options.refreshDebounceMs);
  }

  /** Whether a search is typed (the box shows it and the list is filtered by it). */
  get searching(): boolean {
    return this.loading && this.text.trim() !== '';
  }

  /** Subscribes to dataChanged (acted on while the pane is shown); returns the unsubscribe. */
  start(): () => void {
    const stop = subscribe(
      this.backend,
      (e) => {
        if (this.active && e.type === 'dataChanged') this.refreshSoon();
      },
      () => {},
    );
    return () => {
      stop();
      this.refreshSoon.cancel();
      this.searchSoon.cancel();
    };
  }

  /** The pane is shown: load now; returns what to call when it goes away. */
  activate(): () => void {
    this.active = true;
    void this.refresh();
    return () => {
      this.active = false;
      this.refreshSoon.cancel();
    };
  }

  setMembership(membership: Membership): Promise<void> {
    this.membership = membership;
    this.searchSoon.cancel();
    return this.refresh();
  }

  setText(text: string): void {
    const changed = text.trim() !== this.text.trim();
    this.text = text;
    if (!changed) return;
    this.loading = true;
    if (text.trim() === '') {
      this.searchSoon.cancel();
      void this.refresh();
    } else {
      this.searchSoon();
    }
  }

  async refresh(): Promise<void> {
    const generation = ++this.generation;
    this.loading = true;
    try {
      const items = await this.backend.listWorkItems(
        workItemQuery({ membership: this.membership, text: this.text }, WORK_ITEM_LIMIT),
      );
      if (generation !== this.generation) return;
      this.items = items;
      this.error = null;
      this.queryError = null;
    } catch (err) {
      if (generation !== this.generation) return;
      const e = toApiError(err);
      if (e.code === 'invalidQuery') {
        // Keep the last good rows: the user is still typing.
        this.queryError = e;
      } else {
        this.error = e;
        this.queryError = null;
      }
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.loaded = true;
      }
    }
  }

  /** Shows an item as an edit or a refresh returned it, where it is in the list. */
  upsert(item: WorkItem): void {
    if (!this.items.some((w) => w.id === item.id)) return;
    this.items = this.items.map((w) => (w.id === item.id ? item : w));
  }
}
