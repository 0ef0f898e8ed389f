// The reading pane's "Work items" strip: the items the open conversation's
// messages refer to (linked_work_items, merged, strongest reference first),
// each with its live state. The states an item may take come from
// get_work_item when the user reaches for its state control; a change goes
// through edit_work_item like the work-item pane's. Refetched on dataChanged.
import type { LinkedWorkItem } from '../../bindings/LinkedWorkItem';
import type { WorkItem } from '../../bindings/WorkItem';
import type { Backend } from '../backend/backend';
import { toApiError } from '../backend/errors';
import { debounce } from '../debounce';
import { itemLabel, mergeLinks } from '../workItems';
import { subscribe } from './subscribe';

export class LinkedWorkItemsStore {
  links = $state.raw<LinkedWorkItem[]>([]);
  /** States each synced item (by local id) may take, once asked for. */
  allowed = $state<Record<number, string[]>>({});
  /** Local ids whose state change is being sent. */
  busy = $state<Record<number, boolean>>({});
  /** The last failure, as a sentence. */
  error = $state<string | null>(null);

  private messageIds: number[] = [];
  private generation = 0;
  /** Local ids whose allowed states are being fetched. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  private asking = new Set<number>();
  private readonly reloadSoon;

  constructor(
    private readonly backend: Backend,
    refreshDebounceMs: number,
    /** Told about every newer version of an item (the work-item list shows it too). */
    private readonly onItem: (item: WorkItem) => void = () => {},
  ) {
    this.reloadSoon = debounce(() => void this.reload(), refreshDebounceMs);
  }

  start(): () => void {
    const stop = subscribe(
      this.backend,
      (e) => {
        if (e.type === 'dataChanged' && this.messageIds.length > 0) this.reloadSoon();
      },
      () => {},
    );
    return () => {
      stop();
      this.reloadSoon.cancel();
    };
  }

  /** The items these messages (an open conversation) refer to. */
  load(messageIds: number[]): Promise<void> {
    const same = messageIds.length === this.messageIds.length && messageIds.every((id, i) => id === this.messageIds[i]);
    if (same) return Promise.resolve();
    this.messageIds = [...messageIds];
    this.links = [];
    this.allowed = {};
    this.asking.clear();
    this.error = null;
    return this.reload();
  }

  clear(): void {
    this.generation += 1;
    this.messageIds = [];
    this.links = [];
    this.allowed = {};
    this.asking.clear();
    this.error = null;
  }

  async reload(): Promise<void> {
    const ids = this.messageIds;
    if (ids.length === 0) return;
    const generation = ++this.generation;
    try {
      const lists = await Promise.all(ids.map((id) => this.backend.linkedWorkItems(id)));
      if (generation !== this.generation) return;
      this.links = mergeLinks(lists);
    } catch (err) {
      if (generation === this.generation) this.error = `Couldn't look up linked work items: ${toApiError(err).message}`;
    }
  }

  /** Fetches the states `item` may take (once), so its state control can offer them. */
  async loadStates(item: WorkItem): Promise<void> {
    if (this.allowed[item.id] || this.asking.has(item.id)) return;
    this.asking.add(item.id);
    const generation = this.generation;
    try {
      const detail = await this.backend.getWorkItem(item.id);
      if (generation !== this.generation) return;
      this.allowed[item.id] = detail.allowedStates;
      this.replace(detail.item);
    } catch (err) {
      if (generation === this.generation) this.error = `Couldn't load the states of ${itemLabel(item)}: ${toApiError(err).message}`;
    } finally {
      this.asking.delete(item.id);
    }
  }

  /** Moves `item` to `state`; resolves to whether it was accepted. */
  async setState(item: WorkItem, state: string): Promise<boolean> {
    if (state === item.state) return true;
    const generation = this.generation;
    this.busy[item.id] = true;
    this.error = null;
    try {
      const updated = await this.backend.editWorkItem(item.id, { kind: 'setState', state });
      this.onItem(updated);
      if (generation === this.generation) this.replace(updated);
      return true;
    } catch (err) {
      if (generation === this.generation) {
        this.error = `Couldn't change the state of ${itemLabel(item)}: ${toApiError(err).message}`;
      }
      return false;
    } finally {
      delete this.busy[item.id];
    }
  }

  private replace(item: WorkItem): void {
    this.links = this.links.map((l) => (l.item?.id === item.id ? { ...l, item } : l));
  }
}
