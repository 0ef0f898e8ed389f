// The work-item list: filters and search make the query, a refused query
// shows its sentence and keeps the rows, stale answers are dropped, and
// dataChanged refetches only while the pane is shown.
import { describe, expect, it } from 'vitest';
import { workItem } from '../../test/fixtures';
import { MockBackend } from '../backend/mock';
import { WorkItemListStore } from './workItems.svelte';

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup() {
  const backend = new MockBackend({
    workItems: [
      workItem(1, { state: 'Active', itemType: 'Bug', memberships: ['assigned'], title: 'Tray icon blurry' }),
      workItem(2, { state: 'New', itemType: 'Task', memberships: ['mentioned'], title: 'Write notes' }),
      workItem(3, { state: 'Active', itemType: 'Task', memberships: ['assigned', 'created'], assignedTo: 'Grace Hopper' }),
    ],
  });
  const store = new WorkItemListStore(backend, { searchDebounceMs: 0, refreshDebounceMs: 0 });
  return { backend, store };
}

const ids = (store: WorkItemListStore) => store.items.map((w) => w.id);

describe('WorkItemListStore', () => {
  it('loads when the pane is shown, newest first, grouped by state', async () => {
    const { backend, store } = setup();
    const stop = store.activate();
    await tick();
    expect(ids(store)).toEqual([3, 2, 1]);
    expect(store.groups.map((g) => [g.state, g.items.map((w) => w.id)])).toEqual([
      ['New', [2]],
      ['Active', [3, 1]],
    ]);
    expect(backend.callsTo('listWorkItems')).toEqual([[{ accountId: null, membership: null, search: null, limit: 500 }]]);
    stop();
  });

  it('filters by membership and searches with the text as typed', async () => {
    const { backend, store } = setup();
    await store.setMembership('assigned');
    expect(ids(store)).toEqual([3, 1]);
    store.setText('type:task');
    expect(store.searching).toBe(true);
    await tick();
    await tick();
    expect(ids(store)).toEqual([3]);
    expect(store.searching).toBe(false);
    expect(backend.callsTo('listWorkItems').at(-1)).toEqual([
      { accountId: null, membership: 'assigned', search: 'type:task', limit: 500 },
    ]);
    store.setText('');
    await tick();
    expect(ids(store)).toEqual([3, 1]);
    expect(backend.callsTo('listWorkItems').at(-1)?.[0]).toMatchObject({ search: null });
  });

  it('shows why a query is refused and keeps the rows it had; the next good query clears it', async () => {
    const { store } = setup();
    await store.refresh();
    store.setText('from:grace');
    await tick();
    await tick();
    expect(store.queryError).toEqual({
      code: 'invalidQuery',
      message: 'unknown operator from: for work items (known: type:, state:, assigned:)',
    });
    expect(store.error).toBeNull();
    expect(ids(store)).toEqual([3, 2, 1]);
    store.setText('assigned:grace');
    await tick();
    await tick();
    expect(store.queryError).toBeNull();
    expect(ids(store)).toEqual([3]);
  });

  it('shows other failures as the list error, with its code', async () => {
    const { backend, store } = setup();
    backend.failures.listWorkItems = { code: 'storage', message: 'database is locked' };
    await store.refresh();
    expect(store.error).toEqual({ code: 'storage', message: 'database is locked' });
    expect(store.loaded).toBe(true);
    delete backend.failures.listWorkItems;
    await store.refresh();
    expect(store.error).toBeNull();
  });

  it('drops an answer that a newer query overtook', async () => {
    const { backend, store } = setup();
    const first = store.setMembership('mentioned');
    const second = store.setMembership('created');
    await Promise.all([first, second]);
    expect(store.membership).toBe('created');
    expect(ids(store)).toEqual([3]);
    expect(backend.callsTo('listWorkItems')).toHaveLength(2);
  });

  it('refetches on dataChanged while shown, not after', async () => {
    const { backend, store } = setup();
    const unsubscribe = store.start();
    const hide = store.activate();
    await tick();
    backend.workItems.push(workItem(4, { state: 'Resolved' }));
    backend.emit({ type: 'dataChanged', data: { accountId: 3 } });
    await tick();
    await tick();
    expect(ids(store)).toEqual([4, 3, 2, 1]);
    hide();
    const calls = backend.callsTo('listWorkItems').length;
    backend.emit({ type: 'dataChanged', data: { accountId: null } });
    await tick();
    expect(backend.callsTo('listWorkItems')).toHaveLength(calls);
    unsubscribe();
  });

  it('shows a newer version of an item in place', async () => {
    const { store } = setup();
    await store.refresh();
    store.upsert(workItem(1, { state: 'Resolved', pendingEdits: 1 }));
    expect(store.items.find((w) => w.id === 1)).toMatchObject({ state: 'Resolved', pendingEdits: 1 });
    expect(ids(store)).toEqual([3, 2, 1]);
    store.upsert(workItem(9));
    expect(ids(store)).toEqual([3, 2, 1]);
  });
});
