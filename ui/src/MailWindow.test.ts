// The three panes through MockBackend: reading a thread or a single message,
// the sandboxed frame and remote content, search, categories, keyboard,
// settings and toast actions.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import { backendContext } from './lib/backend/context';
import { MockBackend, type MockSeed } from './lib/backend/mock';
import { remoteImagesBody } from './lib/backend/mock-content';
import type { AppOptions } from './lib/options';
import { account, folder, message, workItem } from './test/fixtures';

function setup(seed: MockSeed = {}, options: Partial<AppOptions> = {}) {
  const backend = new MockBackend({ accounts: [account(1)], ...seed });
  const user = userEvent.setup();
  const view = render(App, {
    context: backendContext(backend),
    props: { options: { searchDebounceMs: 0, refreshDebounceMs: 0, undoMs: 0, ...options } },
  });
  return { backend, user, ...view };
}

const row = (id: number) => screen.getByTestId('message-list').querySelector<HTMLElement>(`[data-message-id="${id}"]`);
const pane = () => screen.getByTestId('reading-pane');

describe('reading pane', () => {
  it('opens a conversation with get_thread, oldest first, and marks it read', async () => {
    const { backend, user } = setup({
      messages: [
        message(1, { threadId: 9, subject: 'Plan', snippet: 'first' }),
        message(2, { threadId: 9, subject: 'Re: Plan', snippet: 'second', unread: true }),
      ],
    });
    await waitFor(() => expect(row(2)).not.toBeNull());
    expect(row(2)).toHaveTextContent('2'); // thread size
    await user.click(row(2) as HTMLElement);
    await within(pane()).findByRole('heading', { name: 'Re: Plan' });
    expect(backend.callsTo('getThread')).toEqual([[9]]);
    const articles = within(pane()).getAllByRole('article');
    expect(articles).toHaveLength(2);
    expect(articles[0]).toHaveTextContent('first'); // older one collapsed to its snippet
    await waitFor(() => expect(backend.callsTo('setUnread')).toEqual([[[2], false]]));
    expect(row(2)).not.toHaveClass('unread');
  });

  it('opens a single message with get_message and lists its attachments', async () => {
    const { backend, user } = setup({ messages: [message(1, { hasAttachments: true })] });
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.click(row(1) as HTMLElement);
    expect(await within(pane()).findByTestId('attachments')).toHaveTextContent('report.pdf');
    expect(backend.callsTo('getMessage')).toEqual([[1]]);
  });

  it('renders HTML in a frame without scripts or same-origin, and shows plain text otherwise', async () => {
    const { user } = setup({
      messages: [message(1), message(2)],
      details: [
        { summary: message(2), to: [], cc: [], folders: [], bodyText: 'Just text', attachments: [], html: false },
      ],
    });
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.click(row(1) as HTMLElement);
    const frame = await within(pane()).findByTestId('message-frame');
    expect(frame.getAttribute('sandbox')).toBe('allow-popups');
    expect(frame.getAttribute('srcdoc')).toContain('Snippet 1');

    await user.click(row(2) as HTMLElement);
    expect(await within(pane()).findByText('Just text')).toBeInTheDocument();
    expect(within(pane()).queryByTestId('message-frame')).toBeNull();
  });

  it('loads remote content for one message, or always for the sender', async () => {
    const { backend, user } = setup({
      messages: [message(1, { from: { name: 'News', address: 'News@Deals.example' } })],
      bodies: { 1: remoteImagesBody() },
    });
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.click(row(1) as HTMLElement);
    expect(await within(pane()).findByText('Remote content blocked (2)')).toBeInTheDocument();
    await user.click(within(pane()).getByTestId('allow-remote-message'));
    await waitFor(() => expect(within(pane()).queryByTestId('remote-banner')).toBeNull());
    expect(within(pane()).getByTestId('message-frame').getAttribute('srcdoc')).toContain('img.deals.example');

    backend.remoteAllowedMessages.clear();
    await user.click(row(1) as HTMLElement);
    await user.click(await within(pane()).findByRole('button', { name: 'Always for News@Deals.example' }));
    await waitFor(() => expect(within(pane()).queryByTestId('remote-banner')).toBeNull());
    expect(backend.callsTo('allowRemote').at(-1)).toEqual([{ kind: 'sender', address: 'News@Deals.example' }]);
    expect(backend.settings.remoteContentSenders).toEqual(['news@deals.example']);
  });

  it('does not load a sender\'s remote content when the From was not authenticated, and says so', async () => {
    const { backend, user } = setup({
      messages: [message(1, { from: { name: 'News', address: 'News@Deals.example' } })],
      bodies: { 1: remoteImagesBody() },
      settings: { remoteContentSenders: ['news@deals.example'] },
    });
    backend.unauthenticatedMessages.add(1);
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.click(row(1) as HTMLElement);
    expect(await within(pane()).findByTestId('remote-sender-unverified')).toHaveTextContent(
      'News@Deals.example is on your always-load list, but their mail service did not confirm this message really comes from them',
    );
    expect(within(pane()).getByTestId('message-frame').getAttribute('srcdoc')).not.toContain('img.deals.example');
    expect(within(pane()).queryByTestId('allow-remote-sender')).toBeNull();
    await user.click(within(pane()).getByTestId('allow-remote-message'));
    await waitFor(() => expect(within(pane()).queryByTestId('remote-banner')).toBeNull());
  });

  it('falls back to plain text when a body will not render, and says why', async () => {
    const { backend, user } = setup({ messages: [message(1, { snippet: 'The words' })] });
    backend.failures.renderMessage = { code: 'internal', message: 'sanitiser crashed' };
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.click(row(1) as HTMLElement);
    expect(await within(pane()).findByRole('alert')).toHaveTextContent('Showing plain text: sanitiser crashed');
    expect(within(pane()).getByText('The words')).toBeInTheDocument();
    expect(within(pane()).queryByTestId('message-frame')).toBeNull();
  });

  it('reply, reply all and forward open the composer on the newest message', async () => {
    const { backend, user } = setup({
      messages: [message(1, { threadId: 4 }), message(2, { threadId: 4, subject: 'Re: Subject 1' })],
    });
    await waitFor(() => expect(row(2)).not.toBeNull());
    await user.click(row(2) as HTMLElement);
    for (const [name, kind] of [
      ['Reply', 'reply'],
      ['Reply all', 'replyAll'],
      ['Forward', 'forward'],
    ] as const) {
      const button = await within(pane()).findByRole('button', { name });
      expect(button).toBeEnabled();
      await user.click(button);
      await waitFor(() => expect(screen.getByTestId('composer')).toHaveAttribute('data-kind', kind));
      expect(backend.callsTo('compose').at(-1)).toEqual([{ kind, messageId: 2, accountId: null }]);
    }
  });
});

describe('categories', () => {
  it('tabs switch the unified inbox to a category view', async () => {
    const { backend, user } = setup({
      messages: [message(1, { category: 'social' }), message(2, { category: 'promotions' })],
    });
    await waitFor(() => expect(row(2)).not.toBeNull());
    await user.click(screen.getByTestId('category-tab-social'));
    await waitFor(() => expect(row(2)).toBeNull());
    expect(row(1)).not.toBeNull();
    expect(screen.getByTestId('category-tab-social')).toHaveAttribute('aria-selected', 'true');
    expect(backend.callsTo('listMessages').at(-1)?.[0]).toMatchObject({ view: { kind: 'category', category: 'social' } });
  });

  it('arrow keys move between tabs', async () => {
    const { user } = setup({ messages: [message(1, { category: 'social' })] });
    await waitFor(() => expect(row(1)).not.toBeNull());
    screen.getByTestId('category-tab-all').focus();
    await user.keyboard('{ArrowRight}');
    await waitFor(() => expect(screen.getByTestId('category-tab-primary')).toHaveAttribute('aria-selected', 'true'));
    await waitFor(() => expect(screen.getByTestId('category-tab-primary')).toHaveFocus());
    await user.keyboard('{End}');
    await waitFor(() => expect(screen.getByTestId('category-tab-forums')).toHaveAttribute('aria-selected', 'true'));
  });

  it('moves a message to another category at once and rolls back with a toast on failure', async () => {
    const { backend, user } = setup({ messages: [message(1, { category: 'primary' })] });
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.click(row(1) as HTMLElement);
    const select = await within(pane()).findByTestId('move-to-category');
    backend.failures.moveToCategory = { code: 'unavailable', message: 'categoriser is loading' };
    await user.selectOptions(select, 'updates');
    await waitFor(() => expect(screen.getByTestId('notifications')).toHaveTextContent('categoriser is loading'));
    expect(row(1)).toHaveAttribute('data-category', 'primary');
    expect(within(pane()).getByTestId('message-category')).toHaveTextContent('Primary');

    delete backend.failures.moveToCategory;
    await user.selectOptions(select, 'updates');
    await waitFor(() => expect(backend.callsTo('moveToCategory')).toHaveLength(2));
    await waitFor(() => expect(row(1)).toHaveAttribute('data-category', 'updates'));
    expect(within(pane()).getByTestId('message-category')).toHaveTextContent('Updates');
  });

  it('explains a category with the nearest labelled examples', async () => {
    const { user } = setup({
      messages: [message(1)],
      explanations: {
        1: {
          category: 'forums',
          confidence: 0.82,
          source: 'model',
          spam: false,
          reason: 'Sent to a mailing list (List-Id) and like 3 forum posts',
          neighbours: [{ subject: 'Weekly digest', from: 'list@forum.example', category: 'forums', similarity: 0.91 }],
        },
      },
    });
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.click(row(1) as HTMLElement);
    await user.click(await within(pane()).findByTestId('why-category'));
    const why = await within(pane()).findByTestId('why-popover');
    await waitFor(() => expect(why).toHaveTextContent('Sent to a mailing list (List-Id) and like 3 forum posts'));
    expect(why).toHaveTextContent('82% sure');
    expect(why).toHaveTextContent('Weekly digest');
    expect(why).toHaveTextContent('91% alike');
  });
});

describe('search', () => {
  it('sends the text as typed and highlights the matched spans', async () => {
    const { backend, user } = setup({ messages: [message(1, { subject: 'Lunch plans' }), message(2)] });
    await waitFor(() => expect(row(2)).not.toBeNull());
    await user.type(screen.getByTestId('search-input'), 'from:me lunch');
    await screen.findByRole('heading', { name: 'Search results' });
    await waitFor(() => expect(row(2)).toBeNull());
    const mark = (row(1) as HTMLElement).querySelector('mark');
    expect(mark).toHaveTextContent('Lunch');
    expect(backend.callsTo('searchMessages').at(-1)).toEqual([{ text: 'from:me lunch', limit: 200 }]);

    await user.keyboard('{Enter}');
    expect(screen.getByTestId('message-list')).toHaveFocus();
    expect(row(1)).toHaveAttribute('aria-selected', 'true');

    await user.click(screen.getByTestId('search-input'));
    await user.keyboard('{Escape}');
    await waitFor(() => expect(row(2)).not.toBeNull());
  });

  it('shows why a query cannot be parsed', async () => {
    const { user } = setup({ messages: [message(1)] });
    await user.type(screen.getByTestId('search-input'), 'after:soon');
    expect(await screen.findByTestId('search-error')).toHaveTextContent('after: expects a date like 2024-05-01');
    expect(screen.getByTestId('search-input')).toHaveAttribute('aria-invalid', 'true');
  });
});

describe('keyboard', () => {
  it('j/k select, Enter opens, s stars, e archives; keys in the search box are text', async () => {
    const { backend, user } = setup({ messages: [message(1), message(2), message(3)] });
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.keyboard('jjjk');
    expect(row(2)).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{Enter}');
    await within(pane()).findByRole('heading', { name: 'Subject 2' });
    await user.keyboard('s');
    await waitFor(() => expect(backend.callsTo('setStarred')).toEqual([[[2], true]]));
    await user.keyboard('e');
    await waitFor(() => expect(row(2)).toBeNull());
    expect(backend.callsTo('archiveMessages')).toEqual([[[2]]]);
    expect(row(1)).toHaveAttribute('aria-selected', 'true');

    await user.click(screen.getByTestId('search-input'));
    await user.keyboard('e');
    expect(backend.callsTo('archiveMessages')).toHaveLength(1);
  });

  it('e archives every message of a conversation, opened or not', async () => {
    const { backend, user } = setup({
      messages: [message(1, { threadId: 4 }), message(2, { threadId: 4 }), message(3, { threadId: 4 }), message(5)],
    });
    await waitFor(() => expect(row(3)).not.toBeNull());
    await user.keyboard('jje');
    await waitFor(() => expect(row(3)).toBeNull());
    await waitFor(() => expect(backend.callsTo('archiveMessages')).toEqual([[[1, 2, 3]]]));
  });

  it('archive waits behind an Undo toast; Undo (or z) brings the row back and sends nothing', async () => {
    const { backend, user } = setup({ messages: [message(1), message(2), message(3)] }, { undoMs: 10_000 });
    await waitFor(() => expect(row(3)).not.toBeNull());
    await user.keyboard('je');
    await waitFor(() => expect(row(3)).toBeNull());
    const area = screen.getByTestId('notifications');
    await user.click(within(area).getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(row(3)).not.toBeNull());
    expect(within(area).queryByRole('button', { name: 'Undo' })).toBeNull();

    await user.keyboard('k'); // the selection had moved on to the next row
    expect(row(3)).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('e');
    await waitFor(() => expect(row(3)).toBeNull());
    await user.keyboard('z');
    await waitFor(() => expect(row(3)).not.toBeNull());
    expect(backend.callsTo('archiveMessages')).toEqual([]);
  });

  it('a second removal sends the first, and a refetch meanwhile keeps the row away', async () => {
    const { backend, user } = setup({ messages: [message(1), message(2), message(3)] }, { undoMs: 10_000 });
    await waitFor(() => expect(row(3)).not.toBeNull());
    await user.keyboard('je');
    await waitFor(() => expect(row(3)).toBeNull());
    backend.emit({ type: 'dataChanged', data: { accountId: null } });
    await waitFor(() => expect(backend.callsTo('listMessages').length).toBeGreaterThan(1));
    expect(row(3)).toBeNull();
    await user.keyboard('#');
    await waitFor(() => expect(backend.callsTo('archiveMessages')).toEqual([[[3]]]));
    expect(backend.callsTo('trashMessages')).toEqual([]);
  });

  it('? shows the help overlay and Escape closes it; g w opens work items', async () => {
    const { user } = setup({ messages: [message(1)] });
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.keyboard('?');
    const help = await screen.findByTestId('help-overlay');
    expect(help).toHaveTextContent('f Forward');
    expect(help).toHaveTextContent('c New message');
    expect(help).not.toHaveTextContent('not available');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('help-overlay')).toBeNull());
    await user.keyboard('gw');
    expect(await screen.findByTestId('work-items')).toBeInTheDocument();
  });
});

describe('settings', () => {
  it('runs the health report only when asked, says what to do under each unhealthy line, and copies the shareable text', async () => {
    const { backend, user } = setup({
      accounts: [account(1, { address: 'ada.lovelace@example.com', state: 'needsReauth' }), account(2)],
      insecureStorage: 'no Secret Service on this desktop',
    });
    await user.click(screen.getByTestId('open-settings'));
    const dialog = await screen.findByTestId('settings-dialog');
    const panel = within(dialog).getByTestId('diagnostics');
    expect(backend.callsTo('getDiagnostics')).toEqual([]);
    await user.click(within(panel).getByTestId('run-diagnostics'));
    expect(await within(panel).findByTestId('diagnostics-summary')).toHaveTextContent(
      '2 problems: what to do is under each.',
    );
    const reauth = within(panel)
      .getAllByTestId('diagnostics-check')
      .find((li) => li.textContent?.includes('account 1'));
    expect(reauth).toHaveTextContent('Problem');
    expect(reauth).toHaveTextContent('Sign in again');
    await user.click(within(panel).getByTestId('copy-diagnostics'));
    expect(await within(panel).findByTestId('diagnostics-copied')).toHaveTextContent('Copied');
    const copied = await navigator.clipboard.readText();
    expect(copied).toMatch(/^Fireside Ember diagnostics/);
    expect(copied).toContain('FAIL account 1');
    expect(copied).toContain('a…@example.com');
    expect(copied).not.toContain('ada.lovelace');
  });

  it('shows why the health report could not be made', async () => {
    const { backend, user } = setup();
    backend.failures.getDiagnostics = { code: 'storage', message: 'the database is locked' };
    await user.click(screen.getByTestId('open-settings'));
    const dialog = await screen.findByTestId('settings-dialog');
    await user.click(within(dialog).getByTestId('run-diagnostics'));
    expect(await within(dialog).findByText("Couldn't check: the database is locked")).toBeInTheDocument();
  });

  it('validates as you type and shows the backend sentence when it disagrees', async () => {
    const { backend, user } = setup();
    await user.click(screen.getByTestId('open-settings'));
    const dialog = await screen.findByTestId('settings-dialog');
    const days = await within(dialog).findByTestId('setting-initialSyncDays');
    await user.clear(days);
    await user.type(days, '4000');
    expect(within(dialog).getByText(`Between 1 and ${(3650).toLocaleString()} days`)).toBeInTheDocument();
    expect(within(dialog).getByTestId('settings-save')).toBeDisabled();

    await user.clear(days);
    await user.type(days, '30');
    backend.failures.updateSettings = { code: 'invalidSetting', message: 'Initial sync window is too long for this account' };
    await user.click(within(dialog).getByTestId('settings-save'));
    expect(await within(dialog).findByTestId('settings-error')).toHaveTextContent('too long for this account');
  });

  it('adds a Gmail account only with a client id, and removes an account after confirmation', async () => {
    const { backend, user } = setup();
    await user.click(screen.getByTestId('open-settings'));
    const dialog = await screen.findByTestId('settings-dialog');
    await user.click(within(dialog).getByTestId('add-account'));
    await user.click(within(dialog).getByTestId('add-account-submit'));
    expect(within(dialog).getByText('Enter the OAuth client id')).toBeInTheDocument();
    expect(backend.callsTo('addAccount')).toEqual([]);
    await user.type(within(dialog).getByTestId('add-client-id'), 'client-123');
    await user.click(within(dialog).getByTestId('add-account-submit'));
    await waitFor(() =>
      expect(backend.callsTo('addAccount')).toEqual([
        [
          {
            provider: 'gmail',
            clientId: 'client-123',
            clientSecret: null,
            organization: null,
            pat: null,
            baseUrl: null,
            tenant: null,
            deviceCode: false,
          },
        ],
      ]),
    );

    await user.click(within(dialog).getByTestId('remove-account-1'));
    expect(backend.callsTo('removeAccount')).toEqual([]);
    await user.click(within(dialog).getByTestId('confirm-remove-1'));
    await waitFor(() => expect(backend.callsTo('removeAccount')).toEqual([[1]]));
  });

  it('adds Microsoft 365 with the tenant when given (null when empty), never the device-code flow, and shows a failed sign-in’s sentence', async () => {
    const { backend, user } = setup();
    await user.click(screen.getByTestId('open-settings'));
    const dialog = await screen.findByTestId('settings-dialog');
    await user.click(within(dialog).getByTestId('add-account'));
    expect(within(dialog).queryByTestId('add-tenant')).toBeNull();
    await user.click(within(dialog).getByTestId('provider-graph'));
    const tenant = within(dialog).getByRole('textbox', { name: /Tenant/ });
    expect(tenant).toHaveAttribute('placeholder', 'common');
    await user.type(within(dialog).getByTestId('add-client-id'), 'app-1');
    backend.failures.addAccount = { code: 'signInFailed', message: 'Microsoft sign-in was cancelled' };
    await user.click(within(dialog).getByTestId('add-account-submit'));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(/^Microsoft sign-in was cancelled$/);
    delete backend.failures.addAccount;
    await user.click(within(dialog).getByTestId('add-account-submit'));
    await user.click(await within(dialog).findByTestId('add-account'));
    await user.click(within(dialog).getByTestId('provider-graph'));
    await user.type(within(dialog).getByTestId('add-client-id'), 'app-2');
    await user.type(within(dialog).getByTestId('add-tenant'), ' contoso.onmicrosoft.com ');
    await user.click(within(dialog).getByTestId('add-account-submit'));
    const sent = {
      provider: 'graph',
      clientSecret: null,
      organization: null,
      pat: null,
      baseUrl: null,
      deviceCode: false,
    };
    await waitFor(() =>
      expect(backend.callsTo('addAccount')).toEqual([
        [{ ...sent, clientId: 'app-1', tenant: null }],
        [{ ...sent, clientId: 'app-1', tenant: null }],
        [{ ...sent, clientId: 'app-2', tenant: 'contoso.onmicrosoft.com' }],
      ]),
    );
  });

  it('turns one account’s sync off', async () => {
    const { backend, user } = setup();
    await user.click(screen.getByTestId('open-settings'));
    const toggle = await screen.findByTestId('account-sync-1');
    await user.click(toggle);
    await waitFor(() => expect(backend.callsTo('setAccountSync')).toEqual([[1, false]]));
  });
});

describe('notification actions', () => {
  it('offers Retry for a failed sync and Re-authenticate for a signed-out account', async () => {
    const { backend, user } = setup({ accounts: [account(1), account(2)] });
    await screen.findByRole('button', { name: /Account 2/ });
    backend.emit({ type: 'accountSync', data: { accountId: 1, sync: { state: 'error', code: 'unreachable', message: 'offline' } } });
    backend.emit({ type: 'accountSync', data: { accountId: 2, sync: { state: 'needsReauth', message: 'Token revoked' } } });
    const area = screen.getByTestId('notifications');
    await user.click(await within(area).findByRole('button', { name: 'Retry' }));
    expect(backend.callsTo('syncNow')).toEqual([[1]]);
    await user.click(within(area).getByRole('button', { name: 'Re-authenticate' }));
    await waitFor(() => expect(backend.callsTo('reauthenticate')).toEqual([[2]]));
    await waitFor(() => expect(area).not.toHaveTextContent('Token revoked'));
  });

  it('keeps one toast per account: a new failure replaces the previous one', async () => {
    const { backend } = setup();
    await screen.findByRole('button', { name: /Account 1/ });
    backend.emit({ type: 'accountSync', data: { accountId: 1, sync: { state: 'error', code: 'unreachable', message: 'offline' } } });
    backend.emit({ type: 'accountSync', data: { accountId: 1, sync: { state: 'needsReauth', message: 'Token revoked' } } });
    const area = screen.getByTestId('notifications');
    await waitFor(() => expect(area).toHaveTextContent('Token revoked'));
    expect(area).not.toHaveTextContent('offline');
    expect(within(area).getAllByRole('listitem')).toHaveLength(1);
  });

  it('announces new mail', async () => {
    const { backend } = setup();
    await screen.findByRole('button', { name: /Account 1/ });
    backend.emit({ type: 'newMail', data: { accountId: 1, count: 2, primary: [message(5, { subject: 'Hello' })] } });
    await waitFor(() => expect(screen.getByTestId('notifications')).toHaveTextContent('Account 1: 2 new messages'));
    expect(screen.getByTestId('notifications')).toHaveTextContent('Sender 5: Hello');
  });
});

describe('work items', () => {
  it('lists work items and opens one in the system browser', async () => {
    const { backend, user } = setup({
      workItems: [workItem(1, { itemId: 4100, title: 'Tray icon blurry', state: 'Active', changedDate: Date.now() })],
    });
    await user.click(await screen.findByTestId('nav-work-items'));
    const list = await screen.findByTestId('work-items');
    const row = await within(list).findByRole('option', { name: /Tray icon blurry/ });
    expect(row).toHaveTextContent('4100');
    await user.click(row);
    const detail = screen.getByTestId('work-item-detail');
    await user.click(await within(detail).findByRole('button', { name: 'Open in browser' }));
    expect(backend.callsTo('openLink')).toEqual([['https://dev.azure.com/contoso/ember/_workitems/edit/4100']]);
  });
});

describe('folders', () => {
  it('lists folders per account with unread counts and opens a folder view', async () => {
    const { backend, user } = setup({
      messages: [message(1), message(2)],
      folderList: [{ id: 11, accountId: 1, name: 'Receipts', parentId: null, role: 'label', unread: 3, total: 1 }],
      folders: { 11: [2] },
    });
    const folder = await screen.findByTestId('folder-11');
    expect(folder).toHaveTextContent('Receipts');
    expect(folder).toHaveTextContent('3');
    await user.click(folder);
    await waitFor(() => expect(row(1)).toBeNull());
    expect(row(2)).not.toBeNull();
    expect(screen.getByRole('heading', { name: 'Receipts', level: 2 })).toBeInTheDocument();
    expect(backend.callsTo('listFolders')).toEqual([[null]]);
  });

  it('shows Microsoft 365 folders as a tree: subfolders under their parent, indented, with their level', async () => {
    const { user } = setup({
      accounts: [account(1, { provider: 'graph' }), account(2)],
      messages: [message(1), message(2)],
      folderList: [
        folder(21, { name: 'Inbox', role: 'inbox' }),
        folder(22, { name: 'Sent', role: 'sent' }),
        folder(23, { name: 'Projects', parentId: 21, unread: 4 }),
        folder(24, { name: 'Ember', parentId: 23 }),
        folder(25, { name: 'Orphan', parentId: 99 }),
        folder(31, { accountId: 2, name: 'Receipts', role: 'label' }),
      ],
      folders: { 23: [2] },
    });
    await screen.findByTestId('folder-24');
    const ids = screen
      .getAllByTestId(/^folder-/)
      .map((b) => [b.dataset.testid, b.closest('li')?.getAttribute('aria-level')]);
    expect(ids).toEqual([
      ['folder-21', '1'],
      ['folder-23', '2'],
      ['folder-24', '3'],
      ['folder-22', '1'],
      ['folder-25', '1'],
      ['folder-31', '1'],
    ]);
    const projects = screen.getByTestId('folder-23');
    expect(projects).toHaveTextContent('Projects');
    expect(within(projects).getByLabelText('4 unread')).toBeInTheDocument();
    projects.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(row(1)).toBeNull());
    expect(row(2)).not.toBeNull();
    expect(screen.getByRole('heading', { name: 'Projects', level: 2 })).toBeInTheDocument();
  });
});
