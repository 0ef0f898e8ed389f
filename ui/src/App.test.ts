// User-visible behaviour of the first screen, driven through MockBackend:
// accounts, message paging, the sync switch, progress, toasts and refetching.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import type { SyncState } from './bindings/SyncState';
import { backendContext } from './lib/backend/context';
import { MockBackend, type MockSeed } from './lib/backend/mock';
import type { AppOptions } from './lib/options';
import { account, message } from './test/fixtures';

function setup(seed: MockSeed = {}, options: Partial<AppOptions> = {}) {
  const backend = new MockBackend(seed);
  const user = userEvent.setup();
  const view = render(App, { context: backendContext(backend), props: { options: { undoMs: 0, ...options } } });
  return { backend, user, ...view };
}

const rows = () => within(screen.getByTestId('message-list')).queryAllByRole('option');
const toggle = () => screen.getByRole('switch', { name: 'Sync enabled' });
const sync = (accountId: number, s: SyncState) => ({ type: 'accountSync', data: { accountId, sync: s } }) as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sidebar', () => {
  it('lists "All inboxes" then every account with address, provider and state', async () => {
    setup({
      accounts: [
        account(1, { displayName: 'Personal', address: 'ada@example.com' }),
        account(2, { displayName: 'Work', address: 'ada@contoso.example', provider: 'graph', state: 'needsReauth' }),
      ],
    });
    const list = screen.getByTestId('account-list');
    await waitFor(() => expect(within(list).getAllByRole('button')).toHaveLength(3));
    const [all, personal, work] = within(list).getAllByRole('button');
    expect(all).toHaveTextContent('All inboxes');
    expect(all).toHaveAttribute('aria-current', 'true');
    expect(personal).toHaveTextContent('Personal');
    expect(personal).toHaveTextContent('ada@example.com');
    expect(personal).toHaveTextContent('Gmail');
    expect(work).toHaveTextContent('Microsoft 365');
    expect(work).toHaveTextContent('Sign-in needed');
  });

  it('says plainly when the accounts are demo data, and only then', async () => {
    setup({ accounts: [account(1, { demo: true })] });
    expect(await screen.findByTestId('demo-banner')).toHaveTextContent(/Demo data/);
  });

  it('warns, and keeps warning, when sign-ins cannot be stored securely', async () => {
    setup({ accounts: [account(1)], insecureStorage: 'no Secret Service on this desktop' });
    expect(await screen.findByTestId('storage-warning')).toHaveTextContent(/last only until you quit/);
  });

  it('shows no demo banner for real accounts', async () => {
    setup({ accounts: [account(1)] });
    await screen.findByRole('button', { name: /Account 1/ });
    expect(screen.queryByTestId('demo-banner')).toBeNull();
  });

  it('says so plainly when there are no accounts', async () => {
    setup();
    expect(await screen.findByText(/No accounts yet/)).toBeInTheDocument();
  });

  it('switches the message list to the chosen account', async () => {
    const { backend, user } = setup({
      accounts: [account(1), account(2, { displayName: 'Second' })],
      messages: [message(1, { accountId: 1 }), message(2, { accountId: 2 })],
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await user.click(await screen.findByRole('button', { name: /Second/ }));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]).toHaveTextContent('Subject 2');
    expect(screen.getByRole('heading', { name: 'Second' })).toBeInTheDocument();
    expect(backend.callsTo('listMessages').at(-1)).toEqual([
      { view: { kind: 'account', accountId: 2 }, before: null, limit: 200, conversations: true },
    ]);
  });
});

describe('message list', () => {
  it('shows newest first with sender, subject, snippet and dates; unread marked', async () => {
    setup({
      accounts: [account(1)],
      messages: [message(1), message(3, { unread: true }), message(2, { from: { name: null, address: 'x@y.z' } })],
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(rows().map((r) => r.querySelector('.subject')?.textContent)).toEqual([
      'Subject 3',
      'Subject 2',
      'Subject 1',
    ]);
    const [newest, middle] = rows();
    expect(newest).toHaveTextContent('Sender 3');
    expect(newest).toHaveTextContent('Snippet 3');
    expect(newest).toHaveClass('unread');
    expect(newest).toHaveTextContent('Unread');
    expect(middle).not.toHaveClass('unread');
    expect(middle).toHaveTextContent('x@y.z');
    const time = newest?.querySelector('time');
    expect(time).toHaveAttribute('datetime', new Date(message(3).date).toISOString());
    expect(time?.getAttribute('title')).toMatch(/2025/);
  });

  it('loads the next keyset page as the end of the list comes into view', async () => {
    const { backend } = setup({ messages: [1, 2, 3, 4, 5].map((id) => message(id)) }, { pageSize: 2 });
    await waitFor(() => expect(rows()).toHaveLength(5));
    expect(backend.callsTo('listMessages')[1]).toEqual([
      { view: { kind: 'unified' }, before: { date: message(4).date, id: 4 }, limit: 2, conversations: true },
    ]);
    expect(backend.callsTo('listMessages')).toHaveLength(3);
    expect(rows().at(-1)).toHaveTextContent('Subject 1');
  });

  it('has an empty state', async () => {
    setup({ accounts: [account(1)] });
    expect(await screen.findByText('No messages in this view yet.')).toBeInTheDocument();
  });

  it('refetches once after a burst of dataChanged events, keeping loaded rows', async () => {
    const { backend } = setup({ messages: [1, 2, 3].map((id) => message(id)) }, { pageSize: 2, refreshDebounceMs: 30 });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const before = backend.callsTo('listMessages').length;
    backend.messages.push(message(9, { subject: 'Fresh mail' }));
    for (let i = 0; i < 3; i++) backend.emit({ type: 'dataChanged', data: { accountId: 1 } });
    await waitFor(() => expect(rows()[0]).toHaveTextContent('Fresh mail'));
    await sleep(60);
    const refetches = backend.callsTo('listMessages').slice(before).filter(([q]) => (q as { before: unknown }).before === null);
    expect(refetches).toEqual([[{ view: { kind: 'unified' }, before: null, limit: 3, conversations: true }]]);
  });

  it('shows a load error with a retry', async () => {
    const { backend, user } = setup({ messages: [message(1)] });
    backend.failures.listMessages = { code: 'storage', message: 'database is locked' };
    expect(await screen.findByRole('alert')).toHaveTextContent('database is locked');
    delete backend.failures.listMessages;
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('sync switch', () => {
  it('mirrors status, calls setSyncEnabled on change, and follows syncEnabledChanged', async () => {
    const { backend, user } = setup({ syncEnabled: true });
    await waitFor(() => expect(toggle()).toBeEnabled());
    expect(toggle()).toBeChecked();

    await user.click(toggle());
    expect(toggle()).not.toBeChecked();
    await waitFor(() => expect(backend.callsTo('setSyncEnabled')).toEqual([[false]]));

    // e.g. the tray menu turned it back on
    backend.emit({ type: 'syncEnabledChanged', data: { enabled: true } });
    await waitFor(() => expect(toggle()).toBeChecked());
  });

  it('flips back and explains when the change fails', async () => {
    const { backend, user } = setup({ syncEnabled: false });
    backend.failures.setSyncEnabled = { code: 'unavailable', message: 'sync engine is restarting' };
    await waitFor(() => expect(toggle()).toBeEnabled());
    await user.click(toggle());
    const area = screen.getByTestId('notifications');
    await waitFor(() => expect(area).toHaveTextContent('sync engine is restarting'));
    expect(area).toHaveTextContent('unavailable');
    expect(toggle()).not.toBeChecked();
  });

  it('"Sync now" asks for a sync of every account', async () => {
    const { backend, user } = setup();
    const button = screen.getByRole('button', { name: 'Sync now' });
    await waitFor(() => expect(button).toBeEnabled());
    await user.click(button);
    expect(backend.callsTo('syncNow')).toEqual([[null]]);
  });
});

describe('notifications', () => {
  it('shows a progress bar while an account syncs and removes it when idle', async () => {
    const { backend } = setup({ accounts: [account(1, { displayName: 'Personal' })] });
    const area = screen.getByTestId('notifications');
    expect(area).toHaveAttribute('aria-live', 'polite');
    await screen.findByRole('button', { name: /Personal/ });

    backend.emit(sync(1, { state: 'syncing', phase: 'headers', done: 3, total: 10, rate: 12.4 }));
    const bar = await within(area).findByRole('progressbar', { name: 'Personal: Fetching headers' });
    expect(bar).toHaveAttribute('value', '3');
    expect(bar).toHaveAttribute('max', '10');
    expect(area).toHaveTextContent('3/10');
    expect(area).toHaveTextContent('12/s');

    backend.emit(sync(1, { state: 'syncing', phase: 'bodies', done: 2, total: null, rate: null }));
    const indeterminate = await within(area).findByRole('progressbar', { name: 'Personal: Downloading messages' });
    expect(indeterminate).not.toHaveAttribute('value');

    backend.emit(sync(1, { state: 'idle', lastSyncedAt: Date.now() }));
    await waitFor(() => expect(within(area).queryByRole('progressbar')).not.toBeInTheDocument());
  });

  it('shows an error toast with message and code, collapses repeats, and can be dismissed', async () => {
    const { backend, user } = setup({ accounts: [account(1, { displayName: 'Personal' })] });
    const area = screen.getByTestId('notifications');
    await screen.findByRole('button', { name: /Personal/ });

    backend.emit(sync(1, { state: 'error', code: 'server_error', message: 'Gmail answered 503' }));
    await waitFor(() => expect(area).toHaveTextContent('Gmail answered 503'));
    expect(area).toHaveTextContent('server_error');

    backend.emit(sync(1, { state: 'error', code: 'unreachable', message: 'connection reset' }));
    await waitFor(() => expect(area).toHaveTextContent('connection reset'));
    expect(within(area).getAllByRole('listitem')).toHaveLength(1);
    expect(area).toHaveTextContent('×2');

    await user.click(within(area).getByRole('button', { name: /Dismiss/ }));
    expect(within(area).queryAllByRole('listitem')).toHaveLength(0);
  });

  it('lets error toasts collapse on their own but keeps sign-in toasts', async () => {
    const { backend } = setup(
      { accounts: [account(1, { displayName: 'One' }), account(2, { displayName: 'Two' })] },
      { toastMs: 40 },
    );
    const area = screen.getByTestId('notifications');
    await screen.findByRole('button', { name: /Two/ });

    backend.emit(sync(1, { state: 'error', code: 'storage', message: 'disk full' }));
    backend.emit(sync(2, { state: 'needsReauth', message: 'Token expired' }));
    await waitFor(() => expect(area).toHaveTextContent('disk full'));
    expect(area).toHaveTextContent('Token expired');

    await waitFor(() => expect(area).not.toHaveTextContent('disk full'));
    await sleep(80);
    expect(area).toHaveTextContent('Two: sign in again');

    backend.emit(sync(2, { state: 'syncing', phase: 'connecting', done: 0, total: null, rate: null }));
    await waitFor(() => expect(area).not.toHaveTextContent('Token expired'));
  });

  it('shows accounts already failing at startup', async () => {
    setup({
      accounts: [account(1, { displayName: 'Work' })],
      syncStates: { 1: { state: 'needsReauth', message: 'Consent revoked' } },
    });
    const area = screen.getByTestId('notifications');
    await waitFor(() => expect(area).toHaveTextContent('Consent revoked'));
  });
});

describe('lifecycle', () => {
  it('unsubscribes from backend events when the app is destroyed', async () => {
    const { backend, unmount } = setup({ messages: [message(1)] });
    await waitFor(() => expect(rows()).toHaveLength(1));
    // status, message list, folders, work-item list, open work item, linked items and the outbox each listen
    await waitFor(() => expect(backend.listenerCount).toBe(7));
    unmount();
    expect(backend.listenerCount).toBe(0);
  });
});
