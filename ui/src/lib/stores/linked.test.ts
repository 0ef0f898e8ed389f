// The reading pane's work-item strip: links of a conversation, states fetched
// on demand, a state change from the strip, and its failures.
import { describe, expect, it } from 'vitest';
import type { WorkItem } from '../../bindings/WorkItem';
import { message, workItem } from '../../test/fixtures';
import { MockBackend } from '../backend/mock';
import { LinkedWorkItemsStore } from './linked.svelte';

function setup() {
  const backend = new MockBackend({
    messages: [
      message(1, { subject: 'About AB#4101', snippet: 'and AB#3977' }),
      message(2, { subject: 'Re: About AB#4101', snippet: 'see https://dev.azure.com/contoso/ember/_workitems/edit/4101' }),
      message(3, { subject: 'Lunch?' }),
    ],
    workItems: [workItem(1, { itemId: 4101, state: 'Active' })],
    workItemStates: { Bug: ['New', 'Active', 'Resolved', 'Closed'] },
  });
  const seen: WorkItem[] = [];
  const store = new LinkedWorkItemsStore(backend, 0, (item) => seen.push(item));
  return { backend, store, seen };
}

const synced = (store: LinkedWorkItemsStore) => store.links.find((l) => l.itemId === 4101)?.item as WorkItem;

describe('LinkedWorkItemsStore', () => {
  it('lists the items a conversation refers to, once each, strongest reference first', async () => {
    const { backend, store } = setup();
    await store.load([1, 2]);
    expect(store.links.map((l) => [l.itemId, l.source, l.item?.state ?? null])).toEqual([
      [4101, 'url', 'Active'],
      [3977, 'mention', null],
    ]);
    expect(backend.callsTo('linkedWorkItems')).toEqual([[1], [2]]);
    await store.load([1, 2]);
    expect(backend.callsTo('linkedWorkItems')).toHaveLength(2);
    await store.load([3]);
    expect(store.links).toEqual([]);
  });

  it('fetches the allowed states once, on demand', async () => {
    const { backend, store } = setup();
    await store.load([1]);
    const item = synced(store);
    expect(store.allowed[item.id]).toBeUndefined();
    await Promise.all([store.loadStates(item), store.loadStates(item)]);
    await store.loadStates(item);
    expect(store.allowed[item.id]).toEqual(['New', 'Active', 'Resolved', 'Closed']);
    expect(backend.callsTo('getWorkItem')).toEqual([[1]]);
  });

  it('changes an item’s state from the strip and tells the list', async () => {
    const { backend, store, seen } = setup();
    await store.load([1]);
    const item = synced(store);
    expect(await store.setState(item, 'Resolved')).toBe(true);
    expect(synced(store)).toMatchObject({ state: 'Resolved', pendingEdits: 1 });
    expect(seen.at(-1)).toMatchObject({ state: 'Resolved' });
    expect(backend.callsTo('editWorkItem')).toEqual([[1, { kind: 'setState', state: 'Resolved' }]]);
    expect(store.busy).toEqual({});
  });

  it('explains a refused change and keeps the state', async () => {
    const { store } = setup();
    await store.load([1]);
    const item = synced(store);
    expect(await store.setState(item, 'Done')).toBe(false);
    expect(store.error).toBe(
      "Couldn't change the state of Bug 4101: A Bug cannot be Done; it can be: New, Active, Resolved, Closed.",
    );
    expect(synced(store).state).toBe('Active');
  });

  it('says when the links cannot be looked up, and refetches on dataChanged', async () => {
    const { backend, store } = setup();
    const stop = store.start();
    backend.failures.linkedWorkItems = { code: 'storage', message: 'disk full' };
    await store.load([1]);
    expect(store.error).toBe("Couldn't look up linked work items: disk full");
    delete backend.failures.linkedWorkItems;
    backend.emit({ type: 'dataChanged', data: { accountId: null } });
    await new Promise((r) => setTimeout(r, 10));
    expect(store.links).toHaveLength(2);
    store.clear();
    expect(store.links).toEqual([]);
    stop();
  });
});
