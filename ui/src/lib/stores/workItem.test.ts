// The open work item: stored detail first, Azure DevOps' answer after (or a
// quiet note offline), edits applied and reported, refused edits explained,
// conflicts re-applied or dropped.
import { describe, expect, it, vi } from 'vitest';
import type { WorkItem } from '../../bindings/WorkItem';
import { workItem } from '../../test/fixtures';
import { MockBackend, type MockSeed } from '../backend/mock';
import { WorkItemDetailStore } from './workItem.svelte';


function setup(seed: MockSeed = {}) {
  const backend = new MockBackend({
    workItems: [
      workItem(1, { itemType: 'Bug', state: 'Active', rev: 4, assignedTo: 'Ada Lovelace', priority: 2 }),
      workItem(2, { itemType: 'Epic', state: 'New' }),
    ],
    workItemStates: { Bug: ['New', 'Active', 'Resolved', 'Closed'] },
    workItemExtras: {
      1: {
        createdBy: 'Grace Hopper',
        description: '<p>It is <b>blurry</b>.</p>',
        comments: [{ author: 'Grace Hopper', createdAt: 1, html: '<p>Seen it too.</p>' }],
        remote: { comments: [{ author: 'Alan Turing', createdAt: 2, html: '<p>And on Wayland.</p>' }] },
      },
    },
    ...seed,
  });
  const seen: WorkItem[] = [];
  const store = new WorkItemDetailStore(backend, 0, (item) => seen.push(item));
  return { backend, store, seen };
}

describe('WorkItemDetailStore', () => {
  it('shows the stored detail at once, then what Azure DevOps answers', async () => {
    const { backend, store } = setup();
    let answer!: () => void;
    const refresh = backend.refreshWorkItem.bind(backend);
    backend.refreshWorkItem = vi.fn(async (id: number) => {
      await new Promise<void>((r) => (answer = r));
      return refresh(id);
    });
    const opening = store.open(1);
    await vi.waitFor(() => expect(store.refreshing).toBe(true));
    expect(store.detail?.item.id).toBe(1);
    expect(store.detail?.comments.map((c) => c.author)).toEqual(['Grace Hopper']);
    expect(store.detail?.description?.html).toContain('<b>blurry</b>');
    expect(store.loading).toBe(false);
    answer();
    await opening;
    expect(store.refreshing).toBe(false);
    expect(store.detail?.comments.map((c) => c.author)).toEqual(['Grace Hopper', 'Alan Turing']);
    expect(backend.callsTo('getWorkItem')).toEqual([[1]]);
  });

  it('keeps the stored detail with a quiet note when Azure DevOps cannot be reached', async () => {
    const { backend, store } = setup();
    backend.failures.refreshWorkItem = { code: 'unavailable', message: 'No network.' };
    await store.open(1);
    expect(store.detail?.item.id).toBe(1);
    expect(store.error).toBeNull();
    expect(store.refreshNote).toBe('Offline: showing the item as last synced. No network.');
    backend.failures.refreshWorkItem = { code: 'internal', message: 'HTTP 500' };
    await store.refresh();
    expect(store.refreshNote).toBe("Couldn't update from Azure DevOps: HTTP 500");
    delete backend.failures.refreshWorkItem;
    await store.refresh();
    expect(store.refreshNote).toBeNull();
  });

  it('says so when the item cannot be opened at all', async () => {
    const { store } = setup();
    await store.open(99);
    expect(store.detail).toBeNull();
    expect(store.error).toEqual({ code: 'notFound', message: 'work item 99 not found' });
  });

  it('applies an edit at once, counts it pending, and tells the list', async () => {
    const { backend, store, seen } = setup();
    await store.open(1);
    expect(await store.edit({ kind: 'setState', state: 'resolved' })).toBe(true);
    expect(store.detail?.item).toMatchObject({ state: 'Resolved', pendingEdits: 1 });
    expect(seen.at(-1)).toMatchObject({ id: 1, state: 'Resolved' });
    expect(backend.callsTo('editWorkItem')).toEqual([[1, { kind: 'setState', state: 'resolved' }]]);

    await store.edit({ kind: 'assign', to: null });
    await store.edit({ kind: 'setPriority', priority: 1 });
    expect(store.detail?.item).toMatchObject({ assignedTo: null, priority: 1, pendingEdits: 3 });
    expect(store.busy).toBeNull();
  });

  it('shows a sent comment as pending until Azure DevOps has it', async () => {
    const { backend, store } = setup();
    await store.open(1);
    await store.edit({ kind: 'comment', text: '  Fixed in 0.4.  ' });
    expect(store.pendingComments.map((c) => c.text)).toEqual(['Fixed in 0.4.']);
    backend.sendWorkItemEdits();
    await store.reload();
    expect(store.pendingComments).toEqual([]);
    expect(store.detail?.comments.at(-1)).toMatchObject({ author: 'Ada Lovelace', html: '<p>Fixed in 0.4.</p>' });
    expect(store.detail?.item.pendingEdits).toBe(0);
  });

  it("shows Rust's sentence when an edit is refused, and changes nothing", async () => {
    const { store, seen } = setup();
    await store.open(1);
    const before = seen.length;
    expect(await store.edit({ kind: 'setState', state: 'Done' })).toBe(false);
    expect(store.editError).toEqual({
      kind: 'setState',
      title: "Couldn't change the state",
      message: 'A Bug cannot be Done; it can be: New, Active, Resolved, Closed.',
      code: 'invalidInput',
    });
    expect(store.detail?.item.state).toBe('Active');
    expect(seen).toHaveLength(before);
    await store.edit({ kind: 'comment', text: '   ' });
    expect(store.editError).toMatchObject({ title: "Couldn't add the comment", message: 'A comment needs some text.' });
    await store.edit({ kind: 'setPriority', priority: 2 });
    expect(store.editError).toBeNull();
  });

  it('re-applies a conflicting edit on the item as it is now', async () => {
    const conflict = { entry: 7, edit: { kind: 'setState', state: 'Resolved' }, seenRev: 3, message: 'Jamie changed it first.' } as const;
    const { backend, store } = setup({ workItemExtras: { 1: { conflict } } });
    await store.open(1);
    expect(store.detail?.conflict).toEqual(conflict);
    expect(store.detail?.item.conflict).toBe(true);
    expect(await store.resolve('reapply')).toBe(true);
    expect(backend.callsTo('resolveWorkItemConflict')).toEqual([[1, 'reapply']]);
    expect(store.detail?.conflict).toBeNull();
    expect(store.detail?.item).toMatchObject({ state: 'Resolved', conflict: false, pendingEdits: 1 });
  });

  it('drops a conflicting edit, keeping their version', async () => {
    const conflict = { entry: 7, edit: { kind: 'setState', state: 'Resolved' }, seenRev: 3, message: 'Jamie changed it first.' } as const;
    const { store } = setup({ workItemExtras: { 1: { conflict } } });
    await store.open(1);
    await store.resolve('drop');
    expect(store.detail?.conflict).toBeNull();
    expect(store.detail?.item).toMatchObject({ state: 'Active', conflict: false, pendingEdits: 0 });
    expect(await store.resolve('drop')).toBe(false);
    expect(store.editError).toMatchObject({ kind: 'resolve', title: "Couldn't settle the conflict", code: 'notFound' });
  });

  it('does not let a refresh begun before an edit show the item as it was', async () => {
    const { backend, store } = setup();
    let answer!: () => void;
    const refresh = backend.refreshWorkItem.bind(backend);
    const stale = await backend.getWorkItem(1);
    backend.refreshWorkItem = vi.fn(async (id: number) => {
      await refresh(id);
      await new Promise<void>((r) => (answer = r));
      return stale;
    });
    const opening = store.open(1);
    await vi.waitFor(() => expect(answer).toBeDefined());
    await store.edit({ kind: 'setState', state: 'Closed' });
    answer();
    await opening;
    expect(store.detail?.item.state).toBe('Closed');
  });

  it('drops answers for an item no longer open', async () => {
    const { store } = setup();
    const first = store.open(1);
    const second = store.open(2);
    await Promise.all([first, second]);
    expect(store.detail?.item.id).toBe(2);
    expect(store.detail?.allowedStates).toEqual([]);
  });

  it('re-reads the stored detail on dataChanged while shown, and catches up when shown again', async () => {
    const { backend, store } = setup();
    const stop = store.start();
    const hide = store.activate();
    await store.open(1);
    const item = backend.workItems.find((w) => w.id === 1);
    if (item) item.title = 'Renamed elsewhere';
    backend.emit({ type: 'dataChanged', data: { accountId: 1 } });
    await vi.waitFor(() => expect(store.detail?.item.title).toBe('Renamed elsewhere'));

    hide();
    const reads = backend.callsTo('getWorkItem').length;
    if (item) item.title = 'Renamed again';
    backend.emit({ type: 'dataChanged', data: { accountId: 1 } });
    await new Promise((r) => setTimeout(r, 10));
    expect(backend.callsTo('getWorkItem')).toHaveLength(reads);
    store.activate();
    await vi.waitFor(() => expect(store.detail?.item.title).toBe('Renamed again'));
    stop();
  });
});
