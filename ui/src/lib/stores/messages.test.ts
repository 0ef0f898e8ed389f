// The list store's paging, optimistic edits and refresh of a long list.
import { describe, expect, it } from 'vitest';
import { message } from '../../test/fixtures';
import { MockBackend } from '../backend/mock';
import { MAX_REFETCH, MessageListStore } from './messages.svelte';

const ids = (store: MessageListStore) => store.messages.map((m) => m.id);

describe('MessageListStore', () => {
  it('patches and removes rows at once and can undo both', async () => {
    const store = new MessageListStore(new MockBackend({ messages: [1, 2, 3].map((i) => message(i)) }), {
      pageSize: 10,
      refreshDebounceMs: 0,
    });
    await store.setView({ kind: 'unified' });
    const undoStar = store.patch([2], (m) => ({ ...m, starred: true }));
    expect(store.messages.find((m) => m.id === 2)?.starred).toBe(true);
    undoStar();
    expect(store.messages.find((m) => m.id === 2)?.starred).toBe(false);

    const undoRemove = store.remove([3, 1]);
    expect(ids(store)).toEqual([2]);
    undoRemove();
    expect(ids(store)).toEqual([3, 2, 1]);
  });

  it('asks for one row per conversation', async () => {
    const backend = new MockBackend({
      messages: [message(1, { threadId: 7 }), message(2, { threadId: 7 }), message(3)],
    });
    const store = new MessageListStore(backend, { pageSize: 10, refreshDebounceMs: 0 });
    await store.setView({ kind: 'unified' });
    expect(ids(store)).toEqual([3, 2]);
    expect(store.messages[1]?.threadSize).toBe(2);
    expect(backend.callsTo('listMessages')[0]?.[0]).toMatchObject({ conversations: true });
  });

  it('refreshes the head of a long list without dropping the rows scrolled past', async () => {
    const count = MAX_REFETCH + 300;
    const backend = new MockBackend({ messages: Array.from({ length: count }, (_, i) => message(i + 1)) });
    const store = new MessageListStore(backend, { pageSize: 200, refreshDebounceMs: 0 });
    await store.setView({ kind: 'unified' });
    while (store.next) await store.loadMore();
    expect(store.messages).toHaveLength(count);

    backend.messages.push(message(count + 1, { subject: 'New' }));
    const target = backend.messages.find((m) => m.id === 5);
    if (target) target.starred = true; // far down the list: stays as loaded until scrolled again
    await store.refresh();
    expect(store.messages).toHaveLength(count + 1);
    expect(store.messages[0]?.subject).toBe('New');
    expect(new Set(ids(store)).size).toBe(count + 1);
    expect(store.next).toBeNull();
  });
});
