// Writing mail through MockBackend: c/r/a/f open the composer as the right
// kind, recipient chips with suggestions, Ctrl+Enter sends what was typed,
// Esc saves and closes, the Undo toast calls undo_send and reopens the draft,
// refusals (no recipient, a file past the limit, a bounce) show where the user
// can act on them, and a message of the Drafts folder opens in the composer.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import type { DraftEdit } from './bindings/DraftEdit';
import { backendContext } from './lib/backend/context';
import { MockBackend, type MockSeed } from './lib/backend/mock';
import type { AppOptions } from './lib/options';
import { account, folder, message } from './test/fixtures';

const FAST: Partial<AppOptions> = {
  searchDebounceMs: 0,
  refreshDebounceMs: 0,
  undoMs: 0,
  draftSaveMs: 10,
  outboxPollMs: 40,
  sendGraceMs: 40,
  suggestDelayMs: 0,
  toastMs: 60_000,
};

function setup(seed: MockSeed = {}, options: Partial<AppOptions> = {}) {
  const backend = new MockBackend({
    accounts: [account(1, { address: 'me@example.com', displayName: 'Me' })],
    messages: [
      message(1, { subject: 'Lunch', from: { name: 'Grace Hopper', address: 'grace@example.com' } }),
      message(2, { subject: 'Numbers', from: { name: 'Alan Turing', address: 'alan@example.org' } }),
    ],
    ...seed,
  });
  const user = userEvent.setup();
  const view = render(App, { context: backendContext(backend), props: { options: { ...FAST, ...options } } });
  return { backend, user, ...view };
}

const row = (id: number) => screen.getByTestId('message-list').querySelector<HTMLElement>(`[data-message-id="${id}"]`);
const composer = () => screen.getByTestId('composer');
const chips = (field: string) =>
  within(screen.getByTestId(field))
    .queryAllByTestId('recipient-chip')
    .map((c) => c.getAttribute('data-address'));
const lastSave = (backend: MockBackend) => backend.callsTo('saveDraft').at(-1)?.[1] as DraftEdit | undefined;

async function openNew(user: ReturnType<typeof userEvent.setup>) {
  await waitFor(() => expect(row(1)).not.toBeNull());
  await user.keyboard('c');
  await screen.findByTestId('composer');
  // A new message starts in To.
  await waitFor(() => expect(screen.getByTestId('composer-to-input')).toHaveFocus());
}

describe('opening the composer', () => {
  it('c, r, a and f open it as a new message, reply, reply all and forward of the selected one', async () => {
    const { backend, user } = setup();
    await waitFor(() => expect(row(2)).not.toBeNull());
    await user.keyboard('j'); // selects the newest: message 2
    for (const [key, kind, messageId] of [
      ['r', 'reply', 2],
      ['a', 'replyAll', 2],
      ['f', 'forward', 2],
      ['c', 'new', null],
    ] as const) {
      await user.keyboard(key);
      await waitFor(() => expect(composer()).toHaveAttribute('data-kind', kind));
      expect(backend.callsTo('compose').at(-1)).toEqual([{ kind, messageId, accountId: null }]);
      // Esc saves and closes; the next key opens the next one.
      await user.keyboard('{Escape}');
      await waitFor(() => expect(screen.queryByTestId('composer')).toBeNull());
    }
    expect(backend.callsTo('compose')).toHaveLength(4);
    // Opened and closed untouched: nothing is left in Drafts.
    expect(backend.callsTo('discardDraft')).toHaveLength(4);
    expect(backend.drafts.size).toBe(0);
  });

  it('a reply has the sender in To, Re: in the subject, and the original quoted apart in a sandboxed frame', async () => {
    const { user } = setup();
    await waitFor(() => expect(row(1)).not.toBeNull());
    await user.click(row(1) as HTMLElement);
    await user.click(await within(screen.getByTestId('reading-pane')).findByRole('button', { name: 'Reply' }));
    await screen.findByTestId('composer');
    expect(chips('composer-to')).toEqual(['grace@example.com']);
    expect(screen.getByTestId('composer-subject')).toHaveValue('Re: Lunch');
    const frame = screen.getByTestId('composer-quote-frame');
    expect(frame.getAttribute('sandbox')).toBe('allow-popups');
    expect(frame.getAttribute('srcdoc')).toContain('Grace Hopper &lt;grace@example.com&gt; wrote:');
    expect(frame.getAttribute('srcdoc')).toContain("script-src 'none'");
    // The quote is not in the editor: the user writes above it.
    expect(screen.getByTestId('composer-body').innerHTML).not.toContain('wrote:');
    // With a recipient, the caret goes to the body.
    await waitFor(() => expect(screen.getByTestId('composer-body')).toHaveFocus());
  });

  it('a message of the Drafts folder opens in the composer, not the reading pane', async () => {
    const { backend, user } = setup({
      folderList: [folder(7, { name: 'Drafts', role: 'drafts', total: 1 })],
      folders: { 7: [2] },
    });
    await user.click(await screen.findByRole('button', { name: /Drafts/ }));
    await waitFor(() => expect(row(2)).not.toBeNull());
    await user.click(row(2) as HTMLElement);
    await waitFor(() => expect(composer()).toHaveAttribute('data-kind', 'new'));
    expect(backend.callsTo('openDraft')).toEqual([[2]]);
    expect(backend.callsTo('getMessage')).toEqual([]);
    expect(screen.getByTestId('composer-subject')).toHaveValue('Numbers');
  });
});

describe('recipients', () => {
  it('suggests contacts as you type; arrows and Enter pick one, Tab another, Backspace removes the last chip', async () => {
    const { backend, user } = setup();
    await openNew(user);
    await user.keyboard('a');
    const options = await screen.findAllByTestId('recipient-suggestion');
    expect(backend.callsTo('suggestContacts').at(-1)).toEqual(['a', 8]);
    expect(options.map((o) => o.textContent)).toEqual([expect.stringContaining('alan@example.org')]);
    await user.keyboard('{ArrowDown}{Enter}');
    expect(chips('composer-to')).toEqual(['alan@example.org']);
    expect(screen.getByTestId('composer-to-input')).toHaveValue('');
    // Tab picks the highlighted suggestion too.
    await user.keyboard('gr');
    await waitFor(() => expect(backend.callsTo('suggestContacts').at(-1)).toEqual(['gr', 8]));
    await screen.findByRole('option', { name: /grace@example.com/ });
    await user.keyboard('{Tab}');
    expect(chips('composer-to')).toEqual(['alan@example.org', 'grace@example.com']);
    await user.keyboard('{Backspace}');
    expect(chips('composer-to')).toEqual(['alan@example.org']);
    // Typed addresses end with Enter or a comma; a wrong one is marked.
    await user.keyboard('kim@example.net,not-an-address{Enter}');
    expect(chips('composer-to')).toEqual(['alan@example.org', 'kim@example.net', 'not-an-address']);
    const bad = within(screen.getByTestId('composer-to')).getAllByTestId('recipient-chip')[2];
    expect(bad).toHaveClass('invalid');
    await waitFor(() => expect(lastSave(backend)?.to.map((a) => a.address)).toEqual(chips('composer-to')));
  });

  it('a pasted list becomes one chip per address, names kept', async () => {
    const { user } = setup();
    await openNew(user);
    await user.click(screen.getByTestId('composer-show-cc'));
    await user.click(screen.getByTestId('composer-cc-input'));
    await user.paste('"Lee, Sam" <sam@example.com>; kim@example.net\nalan@example.org');
    expect(chips('composer-cc')).toEqual(['sam@example.com', 'kim@example.net', 'alan@example.org']);
    expect(within(screen.getByTestId('composer-cc')).getAllByTestId('recipient-chip')[0]).toHaveTextContent('Lee, Sam');
  });
});

describe('sending', () => {
  it('Ctrl+Enter saves what was typed and sends it; the toast says Sending… then Sent', async () => {
    const { backend, user } = setup({ settings: { undoSendSeconds: 0 } });
    await openNew(user);
    // Typed in full, Enter still takes the suggestion: the address with its name.
    await user.keyboard('grace@example.com{Enter}');
    await user.click(screen.getByTestId('composer-subject'));
    await user.keyboard('Plans');
    await user.click(screen.getByTestId('composer-body'));
    await user.keyboard('See you at noon');
    await user.keyboard('{Control>}{Enter}{/Control}');
    await waitFor(() => expect(backend.callsTo('sendDraft')).toHaveLength(1));
    const edit = lastSave(backend);
    expect(edit?.to).toEqual([{ name: 'Grace Hopper', address: 'grace@example.com' }]);
    expect(edit?.subject).toBe('Plans');
    expect(edit?.bodyHtml).toContain('See you at noon');
    // Saved before it was sent.
    const order = backend.calls.map((c) => c.method).filter((m) => m === 'saveDraft' || m === 'sendDraft');
    expect(order.at(-1)).toBe('sendDraft');
    await waitFor(() => expect(screen.queryByTestId('composer')).toBeNull());
    const notes = screen.getByTestId('notifications');
    await within(notes).findByText('Sent');
    expect(backend.sentDrafts.map((d) => d.subject)).toEqual(['Plans']);
  });

  it('a refusal (no recipient) stays in the open composer', async () => {
    const { backend, user } = setup();
    await openNew(user);
    await user.click(screen.getByTestId('composer-send'));
    expect(await screen.findByTestId('composer-error')).toHaveTextContent('add at least one recipient');
    expect(composer()).toBeInTheDocument();
    expect(backend.drafts.get(1)?.state).toBe('editing');
  });

  it('Undo on the Sending… toast calls undo_send and reopens the draft', async () => {
    const { backend, user } = setup({ settings: { undoSendSeconds: 30 } });
    backend.autoSendDrafts = false;
    await openNew(user);
    await user.keyboard('grace@example.com{Enter}');
    await user.click(screen.getByTestId('composer-subject'));
    await user.keyboard('Oops');
    await user.keyboard('{Control>}{Enter}{/Control}');
    const notes = screen.getByTestId('notifications');
    await within(notes).findByText('Sending…');
    expect(backend.drafts.get(1)?.state).toBe('queued');
    await user.click(within(notes).getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(backend.callsTo('undoSend')).toEqual([[1]]));
    await waitFor(() => expect(composer()).toHaveAttribute('data-draft-id', '1'));
    expect(screen.getByTestId('composer-subject')).toHaveValue('Oops');
    expect(backend.drafts.get(1)?.state).toBe('editing');
    expect(within(notes).queryByText('Sending…')).toBeNull();
  });

  it('still queued after the undo window shows "Queued (offline)"', async () => {
    const { backend, user } = setup({ settings: { undoSendSeconds: 0 } });
    backend.autoSendDrafts = false;
    await openNew(user);
    await user.keyboard('grace@example.com{Enter}{Control>}{Enter}{/Control}');
    await within(screen.getByTestId('notifications')).findByText('Queued (offline)');
    backend.sendDueDrafts();
    await within(screen.getByTestId('notifications')).findByText('Sent');
  });

  it('a refused message shows the reason with Open, which brings it back to the composer', async () => {
    const { backend, user } = setup({ settings: { undoSendSeconds: 0 } });
    await openNew(user);
    await user.keyboard('nobody@bounce.example{Enter}{Control>}{Enter}{/Control}');
    const notes = screen.getByTestId('notifications');
    await within(notes).findByText('Not sent');
    expect(notes).toHaveTextContent('no such user');
    expect(backend.drafts.get(1)?.state).toBe('failed');
    await user.click(within(notes).getByRole('button', { name: 'Open' }));
    await waitFor(() => expect(composer()).toHaveAttribute('data-draft-id', '1'));
    expect(screen.getByTestId('composer-error')).toHaveTextContent('no such user');
  });
});

describe('saving and attachments', () => {
  it('Esc saves what was typed and closes', async () => {
    const { backend, user } = setup({}, { draftSaveMs: 60_000 });
    await openNew(user);
    await user.click(screen.getByTestId('composer-subject'));
    await user.keyboard('Half written');
    expect(backend.callsTo('saveDraft')).toEqual([]);
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('composer')).toBeNull());
    expect(lastSave(backend)?.subject).toBe('Half written');
    expect(backend.drafts.get(1)?.subject).toBe('Half written');
  });

  it('saves by itself once typing stops', async () => {
    const { backend, user } = setup();
    await openNew(user);
    await user.click(screen.getByTestId('composer-subject'));
    await user.keyboard('Draft');
    await waitFor(() => expect(backend.drafts.get(1)?.subject).toBe('Draft'));
    expect(composer()).toBeInTheDocument();
  });

  it('lists attached files with their size; a file past the limit shows tooLarge; Remove detaches', async () => {
    const { backend, user } = setup({
      accounts: [account(1, { provider: 'graph', address: 'me@contoso.example' })],
    });
    await openNew(user);
    const input = screen.getByTestId('composer-file-input') as HTMLInputElement;
    const small = new File([new Uint8Array(2048)], 'notes.txt', { type: 'text/plain' });
    const big = new File([new Uint8Array(4 * 1024 * 1024)], 'big.bin', { type: 'application/octet-stream' });
    await user.upload(input, [small, big]);
    expect(await screen.findByTestId('composer-error')).toHaveTextContent(
      'big.bin is 4.0 MB; this account sends files of at most 3 MB',
    );
    const listed = screen.getAllByTestId('composer-attachment');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toHaveTextContent('notes.txt');
    expect(listed[0]).toHaveTextContent('2 KB');
    expect(backend.callsTo('attachFile').map((a) => a[1])).toEqual([
      { name: 'notes.txt', type: 'text/plain', size: 2048 },
      { name: 'big.bin', type: 'application/octet-stream', size: 4 * 1024 * 1024 },
    ]);
    await user.click(screen.getByRole('button', { name: 'Remove notes.txt' }));
    await waitFor(() => expect(screen.queryAllByTestId('composer-attachment')).toHaveLength(0));
    expect(backend.drafts.get(1)?.attachments).toEqual([]);
  });

  it('files dropped on the composer are attached', async () => {
    const { backend, user } = setup();
    await openNew(user);
    const file = new File(['hello'], 'dropped.txt', { type: 'text/plain' });
    const dataTransfer = { files: [file], types: ['Files'], dropEffect: 'none' };
    await fireEvent.dragOver(composer(), { dataTransfer });
    await fireEvent.drop(composer(), { dataTransfer });
    expect(await screen.findByTestId('composer-attachment')).toHaveTextContent('dropped.txt');
    expect(backend.drafts.get(1)?.attachments.map((a) => a.filename)).toEqual(['dropped.txt']);
  });

  it('Discard deletes the draft', async () => {
    const { backend, user } = setup();
    await openNew(user);
    await user.click(screen.getByTestId('composer-discard'));
    await waitFor(() => expect(screen.queryByTestId('composer')).toBeNull());
    expect(backend.callsTo('discardDraft')).toEqual([[1]]);
    expect(backend.drafts.size).toBe(0);
  });
});

describe('settings', () => {
  it('saves the undo window and a plain-text signature per mail account, which new drafts carry', async () => {
    const { backend, user } = setup({
      accounts: [account(1, { address: 'me@example.com' }), account(2, { provider: 'ado', address: 'contoso' })],
    });
    await user.click(screen.getByTestId('open-settings'));
    const undo = await screen.findByTestId('setting-undoSendSeconds');
    await user.clear(undo);
    await user.type(undo, '61');
    expect(screen.getByTestId('settings-general')).toHaveTextContent('Between 0 and 60 seconds');
    await user.clear(undo);
    await user.type(undo, '10');
    expect(screen.queryByTestId('setting-signature-2')).toBeNull(); // no signature for Azure DevOps
    await user.type(screen.getByTestId('setting-signature-1'), 'Ada{Enter}<Fireside>');
    await user.click(screen.getByTestId('settings-save'));
    await waitFor(() => expect(backend.settings.undoSendSeconds).toBe(10));
    expect(backend.settings.signatures).toEqual({ '1': 'Ada\n<Fireside>' });
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('settings-dialog')).toBeNull());
    await user.keyboard('c');
    await screen.findByTestId('composer');
    await waitFor(() =>
      expect(screen.getByTestId('composer-body').innerHTML).toContain('-- <br>Ada<br>&lt;Fireside&gt;'),
    );
  });
});
