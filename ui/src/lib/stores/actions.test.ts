// Mail actions show at once everywhere the row is, and undo themselves with a
// toast when the backend refuses.
import { describe, expect, it } from 'vitest';
import { message } from '../../test/fixtures';
import { MockBackend } from '../backend/mock';
import { MailActions } from './actions';
import { MessageListStore } from './messages.svelte';
import { NotificationStore } from './notifications.svelte';
import { SearchStore } from './search.svelte';

async function setup() {
  const backend = new MockBackend({ messages: [message(1), message(2, { category: 'primary' })] });
  const list = new MessageListStore(backend, { pageSize: 10, refreshDebounceMs: 0 });
  const search = new SearchStore(backend, 0);
  const notifications = new NotificationStore(1000);
  await list.setView({ kind: 'unified' });
  return { backend, list, notifications, actions: new MailActions(backend, notifications, [list, search]) };
}

describe('MailActions', () => {
  it('moves to a category at once and tells the backend', async () => {
    const { backend, list, actions } = await setup();
    const done = actions.moveToCategory([2], 'forums');
    expect(list.messages.find((m) => m.id === 2)?.category).toBe('forums');
    await done;
    expect(backend.callsTo('moveToCategory')).toEqual([[[2], 'forums']]);
  });

  it('rolls back and explains when the backend refuses', async () => {
    const { backend, list, notifications, actions } = await setup();
    backend.failures.moveToCategory = { code: 'unavailable', message: 'categoriser is loading' };
    await actions.moveToCategory([2], 'forums');
    expect(list.messages.find((m) => m.id === 2)?.category).toBe('primary');
    expect(notifications.toasts.map((t) => [t.title, t.message])).toEqual([
      ['Could not move to another category', 'categoriser is loading'],
    ]);

    backend.failures.archiveMessages = { code: 'storage', message: 'disk full' };
    await actions.archive([1]);
    expect(list.messages.map((m) => m.id)).toEqual([2, 1]);
    notifications.dispose();
  });

  it('stars, marks unread and archives', async () => {
    const { backend, list, actions } = await setup();
    await actions.setStarred([1], true);
    await actions.setUnread([1], true);
    expect(list.messages.find((m) => m.id === 1)).toMatchObject({ starred: true, unread: true });
    await actions.trash([1]);
    expect(list.messages.map((m) => m.id)).toEqual([2]);
    expect(backend.calls.map((c) => c.method)).toEqual(['listMessages', 'setStarred', 'setUnread', 'trashMessages']);
  });
});
