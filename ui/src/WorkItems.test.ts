// The work-item pane and the reading pane's work-item strip through
// MockBackend: navigation and keys, filters and search, the detail with its
// sandboxed description and comments, edits, conflicts, offline refreshes,
// links from mail, and the fold setting.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import { backendContext } from './lib/backend/context';
import { MockBackend, type MockSeed } from './lib/backend/mock';
import { account, BASE_DATE, message, workItem } from './test/fixtures';

const STATES = { Bug: ['New', 'Active', 'Resolved', 'Closed'], Task: ['New', 'Active', 'Closed'] };

function seed(): MockSeed {
  return {
    accounts: [account(1), account(3, { provider: 'ado', address: 'contoso/ember', displayName: 'Ember board' })],
    messages: [
      message(1, { subject: 'AB#4101: still blurry', snippet: 'Same as AB#3977 last year' }),
      message(2, { subject: 'Lunch?' }),
    ],
    workItems: [
      workItem(1, {
        accountId: 3,
        itemId: 4101,
        itemType: 'Bug',
        title: 'Tray icon blurry',
        state: 'Active',
        assignedTo: 'Ada Lovelace',
        priority: 1,
        iteration: 'ember\\Sprint 14',
        memberships: ['assigned', 'created'],
        changedDate: BASE_DATE,
        rev: 4,
      }),
      workItem(2, {
        accountId: 3,
        itemId: 4102,
        title: 'Search ignores threads',
        state: 'Active',
        memberships: ['mentioned'],
        rev: 7,
      }),
      workItem(3, { accountId: 3, itemId: 4103, itemType: 'Task', title: 'Validate interval', state: 'New' }),
    ],
    workItemStates: STATES,
    workItemExtras: {
      1: {
        createdBy: 'Grace Hopper',
        description: '<p>The icon is <b>blurry</b>.</p><script>window.parent.__pwned = 1</script>',
        comments: [{ author: 'Grace Hopper', createdAt: BASE_DATE, html: '<p>Seen on <i>KDE</i> too.</p>' }],
        history: [
          { rev: 1, state: 'New', changedBy: 'Grace Hopper', changedAt: BASE_DATE - 86_400_000 },
          { rev: 4, state: 'Active', changedBy: 'Ada Lovelace', changedAt: BASE_DATE },
        ],
        related: [
          { rel: 'related', itemId: 4102 },
          { rel: 'parent', itemId: 3900 },
        ],
      },
      2: {
        conflict: {
          entry: 5,
          edit: { kind: 'setState', state: 'Resolved' },
          seenRev: 6,
          message: 'Jamie changed this item before your change reached Azure DevOps.',
        },
      },
    },
  };
}

function setup(over: MockSeed = {}) {
  const backend = new MockBackend({ ...seed(), ...over });
  const user = userEvent.setup();
  const view = render(App, {
    context: backendContext(backend),
    props: { options: { searchDebounceMs: 0, refreshDebounceMs: 0, undoMs: 0 } },
  });
  return { backend, user, ...view };
}

const list = () => screen.getByTestId('work-item-list');
const workRow = (itemId: number) => list().querySelector<HTMLElement>(`[data-item-id="${itemId}"]`);
const detail = () => screen.getByTestId('work-item-detail');
const mailRow = (id: number) =>
  screen.getByTestId('message-list').querySelector<HTMLElement>(`[data-message-id="${id}"]`);

async function goToWorkItems(user: ReturnType<typeof userEvent.setup>) {
  await waitFor(() => expect(mailRow(1)).not.toBeNull());
  await user.keyboard('gw');
  await waitFor(() => expect(workRow(4101)).not.toBeNull());
}

async function openItem(user: ReturnType<typeof userEvent.setup>, itemId: number) {
  await user.click(workRow(itemId) as HTMLElement);
  await waitFor(() => expect(within(detail()).getByTestId('work-item-title')).toBeInTheDocument());
}

describe('work-item list', () => {
  it('g w shows the items grouped by state with counts; each row has its fields', async () => {
    const { user } = setup();
    await goToWorkItems(user);
    const groups = within(list()).getAllByTestId('work-item-group');
    expect(groups.map((g) => g.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['New 1', 'Active 2']);
    const row = workRow(4101) as HTMLElement;
    expect(row).toHaveAttribute('role', 'option');
    expect(row).toHaveTextContent('Tray icon blurry');
    expect(row).toHaveTextContent('Ada Lovelace');
    expect(row).toHaveTextContent('P1');
    expect(row).toHaveTextContent('Sprint 14');
    expect(row.querySelector('[title="Bug"]')).not.toBeNull();
    expect(row.querySelector('time')).toHaveAttribute('datetime', new Date(BASE_DATE).toISOString());
    expect(row.querySelector('time')?.getAttribute('title')).toMatch(/2025/);
    expect(workRow(4102)).toHaveTextContent('Conflict');
    expect(screen.getByTestId('search-input')).toHaveAccessibleName('Search work items');
    expect(screen.getByTestId('nav-work-items')).toHaveAttribute('aria-current', 'true');
  });

  it('j/k move through the items across groups, Enter opens', async () => {
    const { backend, user } = setup();
    await goToWorkItems(user);
    await user.keyboard('jj');
    expect(workRow(4102)).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('jjk'); // stops at the last item
    expect(workRow(4102)).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('j{Enter}');
    await waitFor(() => expect(within(detail()).getByTestId('work-item-title')).toHaveTextContent('Tray icon blurry'));
    expect(backend.callsTo('getWorkItem')).toEqual([[1]]);
    await waitFor(() => expect(backend.callsTo('refreshWorkItem')).toEqual([[1]]));
  });

  it('filters by membership and searches with the same box as mail', async () => {
    const { backend, user } = setup();
    await goToWorkItems(user);
    await user.click(screen.getByTestId('work-filter-mentioned'));
    await waitFor(() => expect(workRow(4101)).toBeNull());
    expect(workRow(4102)).not.toBeNull();
    expect(screen.getByTestId('work-filter-mentioned')).toHaveAttribute('aria-selected', 'true');

    await user.click(screen.getByTestId('work-filter-all'));
    await user.type(screen.getByTestId('search-input'), 'type:task');
    await waitFor(() => expect(workRow(4101)).toBeNull());
    expect(workRow(4103)).not.toBeNull();
    expect(backend.callsTo('listWorkItems').at(-1)).toEqual([
      { accountId: null, membership: null, search: 'type:task', limit: 500 },
    ]);

    await user.clear(screen.getByTestId('search-input'));
    await user.type(screen.getByTestId('search-input'), 'from:grace');
    expect(await screen.findByTestId('search-error')).toHaveTextContent(
      'unknown operator from: for work items (known: type:, state:, assigned:)',
    );
    await user.keyboard('{Escape}');
    await waitFor(() => expect(workRow(4101)).not.toBeNull());
    expect(screen.queryByTestId('search-error')).toBeNull();
  });

  it('says when nothing matches, and follows dataChanged', async () => {
    const { backend, user } = setup();
    await goToWorkItems(user);
    await user.click(screen.getByTestId('work-filter-followed'));
    expect(await screen.findByTestId('work-items-empty')).toHaveTextContent('No work items match.');
    const item = backend.workItems.find((w) => w.id === 3);
    item?.memberships.push('followed');
    backend.emit({ type: 'dataChanged', data: { accountId: 3 } });
    await waitFor(() => expect(workRow(4103)).not.toBeNull());
  });
});

describe('work-item detail', () => {
  it('shows the fields, the description and comments in sandboxed frames, history and related items', async () => {
    const { user } = setup();
    await goToWorkItems(user);
    await openItem(user, 4101);
    const pane = detail();
    const description = await within(pane).findByTestId('work-item-description');
    expect(description.tagName).toBe('IFRAME');
    expect(description.getAttribute('sandbox')).toBe('allow-popups');
    expect(description.getAttribute('srcdoc')).toContain('<b>blurry</b>');
    // Work item HTML never enters the app's own DOM.
    expect(document.querySelector('b')).toBeNull();
    expect(pane.querySelector('script')).toBeNull();
    const comment = within(pane).getByTestId('work-item-comment-frame');
    expect(comment.getAttribute('sandbox')).toBe('allow-popups');
    expect(comment.getAttribute('srcdoc')).toContain("script-src 'none'");
    expect(comment.getAttribute('srcdoc')).toContain('Seen on <i>KDE</i> too.');
    expect(within(pane).getByTestId('work-item-fields')).toHaveTextContent('Grace Hopper');
    const history = within(within(pane).getByTestId('work-item-history')).getAllByRole('listitem');
    expect(history.map((h) => h.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      expect.stringMatching(/^New Grace Hopper · .* · revision 1$/),
      expect.stringMatching(/^New → to Active Ada Lovelace · .* · revision 4$/),
    ]);
    const related = within(pane).getByTestId('work-item-related');
    expect(related).toHaveTextContent('3900');
    expect(related).toHaveTextContent('not synced');
    expect(within(pane).getByTestId('work-item-mail')).toHaveTextContent('AB#4101: still blurry');

    await user.click(within(related).getByRole('button', { name: /Search ignores threads/ }));
    await waitFor(() => expect(within(detail()).getByTestId('work-item-title')).toHaveTextContent('Search ignores threads'));
    expect(workRow(4102)).toHaveAttribute('aria-selected', 'true');
  });

  it('opens its mail in the mail view', async () => {
    const { backend, user } = setup();
    await goToWorkItems(user);
    await openItem(user, 4101);
    await user.click(within(within(detail()).getByTestId('work-item-mail')).getByRole('button', { name: /still blurry/ }));
    const reading = await screen.findByTestId('reading-pane');
    await within(reading).findByRole('heading', { name: 'AB#4101: still blurry' });
    expect(backend.callsTo('getMessage')).toEqual([[1]]);
    expect(mailRow(1)).toHaveAttribute('aria-selected', 'true');
  });

  it('keeps the stored detail with a quiet note when offline', async () => {
    const { backend, user } = setup();
    backend.failures.refreshWorkItem = { code: 'unavailable', message: 'Azure DevOps cannot be reached.' };
    await goToWorkItems(user);
    await openItem(user, 4101);
    await waitFor(() =>
      expect(within(detail()).getByTestId('work-item-status')).toHaveTextContent(
        'Offline: showing the item as last synced. Azure DevOps cannot be reached.',
      ),
    );
    expect(within(detail()).queryByRole('alert')).toBeNull();
    expect(within(detail()).getByTestId('work-item-title')).toHaveTextContent('Tray icon blurry');
  });

  it('changes state, assignee and priority, shows them pending, and explains a refusal', async () => {
    const { backend, user } = setup();
    await goToWorkItems(user);
    await openItem(user, 4101);
    const pane = detail();
    const state = within(pane).getByTestId<HTMLSelectElement>('work-item-state');
    expect([...state.options].map((o) => o.value)).toEqual(['New', 'Active', 'Resolved', 'Closed']);
    await user.selectOptions(state, 'Resolved');
    await waitFor(() => expect(within(pane).getByTestId('pending-badge')).toHaveTextContent('1 edit pending'));
    expect(backend.callsTo('editWorkItem')).toEqual([[1, { kind: 'setState', state: 'Resolved' }]]);
    await waitFor(() => expect(workRow(4101)).toHaveAttribute('data-state', 'Resolved'));
    expect(workRow(4101)).toHaveTextContent('Pending');

    const assignee = within(pane).getByTestId('work-item-assignee');
    await user.clear(assignee);
    expect(within(pane).getByTestId('work-item-assign')).toHaveTextContent('Unassign');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(backend.callsTo('editWorkItem').at(-1)).toEqual([1, { kind: 'assign', to: null }]));
    await user.type(assignee, 'Grace Hopper{Enter}');
    await waitFor(() =>
      expect(backend.callsTo('editWorkItem').at(-1)).toEqual([1, { kind: 'assign', to: 'Grace Hopper' }]),
    );

    await user.selectOptions(within(pane).getByTestId('work-item-priority'), '3');
    await waitFor(() => expect(backend.callsTo('editWorkItem').at(-1)).toEqual([1, { kind: 'setPriority', priority: 3 }]));
    await waitFor(() => expect(within(pane).getByTestId('pending-badge')).toHaveTextContent('4 edits pending'));

    backend.failures.editWorkItem = { code: 'invalidInput', message: 'A Bug cannot be Closed right now.' };
    await user.selectOptions(within(pane).getByTestId('work-item-state'), 'Closed');
    expect(await within(pane).findByTestId('work-item-error')).toHaveTextContent(
      "Couldn't change the state. A Bug cannot be Closed right now.",
    );
    await waitFor(() => expect(within(pane).getByTestId<HTMLSelectElement>('work-item-state').value).toBe('Resolved'));
  });

  it('disables the state with a hint when the type’s states are unknown', async () => {
    const { user } = setup({ workItemStates: {} });
    await goToWorkItems(user);
    await openItem(user, 4101);
    const state = within(detail()).getByTestId('work-item-state');
    expect(state).toBeDisabled();
    expect(state).toHaveAccessibleDescription(/are not known yet/);
  });

  it('adds a comment with Ctrl+Enter and shows it pending until Azure DevOps has it', async () => {
    const { backend, user } = setup();
    await goToWorkItems(user);
    await openItem(user, 4101);
    const input = within(detail()).getByTestId('comment-input');
    await user.click(input);
    await user.keyboard('Fixed in 0.4{Control>}{Enter}{/Control}');
    await waitFor(() => expect(backend.callsTo('editWorkItem')).toEqual([[1, { kind: 'comment', text: 'Fixed in 0.4' }]]));
    expect(await within(detail()).findByTestId('work-item-pending-comment')).toHaveTextContent('Fixed in 0.4');
    expect(input).toHaveValue('');
    backend.sendWorkItemEdits();
    await waitFor(() => expect(within(detail()).queryByTestId('work-item-pending-comment')).toBeNull());
    const frames = within(detail()).getAllByTestId('work-item-comment-frame');
    expect(frames.at(-1)?.getAttribute('srcdoc')).toContain('<p>Fixed in 0.4</p>');
  });

  it('offers to re-apply or drop a conflicting edit', async () => {
    const { backend, user } = setup();
    await goToWorkItems(user);
    await openItem(user, 4102);
    const banner = await within(detail()).findByTestId('conflict-banner');
    expect(banner).toHaveAttribute('role', 'alert');
    expect(banner).toHaveTextContent('Jamie changed this item before your change reached Azure DevOps.');
    expect(banner).toHaveTextContent('You wanted to set the state to Resolved (you saw revision 6; it is now at 7).');
    await user.click(within(banner).getByRole('button', { name: 'Re-apply my change' }));
    await waitFor(() => expect(within(detail()).queryByTestId('conflict-banner')).toBeNull());
    expect(backend.callsTo('resolveWorkItemConflict')).toEqual([[2, 'reapply']]);
    expect(within(detail()).getByTestId<HTMLSelectElement>('work-item-state').value).toBe('Resolved');
    await waitFor(() => expect(workRow(4102)).not.toHaveTextContent('Conflict'));
  });
});

describe('reading pane', () => {
  it('shows the work items a message refers to, changes one’s state and opens it in the pane', async () => {
    const { backend, user } = setup();
    await waitFor(() => expect(mailRow(1)).not.toBeNull());
    await user.click(mailRow(1) as HTMLElement);
    const strip = await screen.findByTestId('work-item-strip');
    await waitFor(() => expect(within(strip).getAllByTestId('linked-work-item')).toHaveLength(2));
    const [unsynced, synced] = within(strip).getAllByTestId('linked-work-item');
    expect(synced).toHaveTextContent('4101');
    expect(synced).toHaveTextContent('Tray icon blurry');
    expect(unsynced).toHaveTextContent('AB#3977');
    expect(unsynced).toHaveTextContent('not synced');
    expect(backend.callsTo('linkedWorkItems')).toEqual([[1]]);

    const select = within(synced as HTMLElement).getByRole('combobox', { name: 'State of Bug 4101' });
    expect(select).toHaveValue('Active');
    await user.click(select);
    await waitFor(() => expect(within(select).getAllByRole('option')).toHaveLength(4));
    expect(backend.callsTo('getWorkItem')).toEqual([[1]]);
    await user.selectOptions(select, 'Resolved');
    await waitFor(() => expect(backend.callsTo('editWorkItem')).toEqual([[1, { kind: 'setState', state: 'Resolved' }]]));
    await waitFor(() => expect(synced).toHaveTextContent('Pending'));

    await user.click(within(synced as HTMLElement).getByTestId('linked-open'));
    await waitFor(() => expect(within(detail()).getByTestId('work-item-title')).toHaveTextContent('Tray icon blurry'));
    expect(screen.getByTestId('nav-work-items')).toHaveAttribute('aria-current', 'true');
    expect(workRow(4101)).toHaveAttribute('aria-selected', 'true');
  });

  it('shows nothing for mail without links', async () => {
    const { user } = setup();
    await waitFor(() => expect(mailRow(2)).not.toBeNull());
    await user.click(mailRow(2) as HTMLElement);
    await within(screen.getByTestId('reading-pane')).findByRole('heading', { name: 'Lunch?' });
    expect(screen.queryByTestId('work-item-strip')).toBeNull();
  });
});

describe('settings', () => {
  it('folds Azure DevOps notifications under their item, or not', async () => {
    const notice = message(3, {
      subject: 'Bug 4101 - Tray icon blurry',
      from: { name: 'Azure DevOps', address: 'azuredevops@microsoft.com' },
    });
    const { backend, user } = setup({ messages: [...seed().messages!, notice] });
    await waitFor(() => expect(mailRow(2)).not.toBeNull());
    expect(mailRow(3)).toBeNull();
    await user.click(screen.getByTestId('open-settings'));
    const dialog = await screen.findByTestId('settings-dialog');
    const fold = await within(dialog).findByRole('checkbox', { name: 'Fold Azure DevOps notifications under their work item' });
    expect(fold).toBeChecked();
    await user.click(fold);
    await user.click(within(dialog).getByTestId('settings-save'));
    await waitFor(() => expect(backend.settings.foldWorkItemMail).toBe(false));
    await waitFor(() => expect(mailRow(3)).not.toBeNull());
  });
});
