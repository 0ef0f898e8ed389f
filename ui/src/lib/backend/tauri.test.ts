// Checks the Tauri seam: command names and argument shapes the Rust side must
// accept, error normalisation, and the three event channels behind onEvent.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Event as BackendEvent } from '../../bindings/Event';

const invoke = vi.fn();
const listeners = new Map<string, (e: { payload: unknown }) => void>();
const unlisten = vi.fn();
const listen = vi.fn(async (name: string, cb: (e: { payload: unknown }) => void) => {
  listeners.set(name, cb);
  return () => unlisten(name);
});

vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock('@tauri-apps/api/event', () => ({
  listen: (name: string, cb: (e: { payload: unknown }) => void) => listen(name, cb),
}));

const { tauriBackend } = await import('./tauri');

beforeEach(() => {
  invoke.mockReset();
  invoke.mockResolvedValue(undefined);
  listen.mockClear();
  unlisten.mockClear();
  listeners.clear();
});

const SETTINGS = {
  syncIntervalMinutes: 5,
  initialSyncDays: 90,
  initialSyncMaxMessages: 10000,
  categoriesEnabled: true,
  notificationsEnabled: true,
  remoteContentSenders: [],
  foldWorkItemMail: true,
  undoSendSeconds: 5,
  signatures: { '1': 'Ada' },
};
const EDIT = {
  to: [{ name: 'Grace', address: 'grace@example.com' }],
  cc: [],
  bcc: [{ name: null, address: 'me@example.com' }],
  subject: 'Re: lunch',
  bodyHtml: '<p>Yes</p>',
};
const WORK_QUERY = { accountId: null, membership: 'assigned', search: 'state:active', limit: 10 };
const ADD = {
  provider: 'ado',
  clientId: null,
  clientSecret: null,
  organization: 'contoso',
  pat: 'secret',
  baseUrl: null,
  tenant: null,
  deviceCode: false,
} as const;

describe('tauriBackend commands', () => {
  const query = { view: { kind: 'unified' }, before: { date: 5, id: 2 }, limit: 50, conversations: true } as const;

  it.each([
    ['listAccounts', () => tauriBackend.listAccounts(), ['list_accounts']],
    ['listMessages', () => tauriBackend.listMessages(query), ['list_messages', { query }]],
    ['getMessage', () => tauriBackend.getMessage(7), ['get_message', { id: 7 }]],
    [
      'searchMessages',
      () => tauriBackend.searchMessages({ text: 'lunch', limit: 20 }),
      ['search_messages', { query: { text: 'lunch', limit: 20 } }],
    ],
    [
      'listWorkItems',
      () => tauriBackend.listWorkItems(WORK_QUERY),
      ['list_work_items', { query: WORK_QUERY }],
    ],
    ['getWorkItem', () => tauriBackend.getWorkItem(8), ['get_work_item', { id: 8 }]],
    ['refreshWorkItem', () => tauriBackend.refreshWorkItem(8), ['refresh_work_item', { id: 8 }]],
    [
      'editWorkItem (state)',
      () => tauriBackend.editWorkItem(8, { kind: 'setState', state: 'Resolved' }),
      ['edit_work_item', { id: 8, edit: { kind: 'setState', state: 'Resolved' } }],
    ],
    [
      'editWorkItem (unassign)',
      () => tauriBackend.editWorkItem(8, { kind: 'assign', to: null }),
      ['edit_work_item', { id: 8, edit: { kind: 'assign', to: null } }],
    ],
    [
      'resolveWorkItemConflict',
      () => tauriBackend.resolveWorkItemConflict(8, 'reapply'),
      ['resolve_work_item_conflict', { id: 8, choice: 'reapply' }],
    ],
    ['linkedWorkItems', () => tauriBackend.linkedWorkItems(12), ['linked_work_items', { messageId: 12 }]],
    ['getStatus', () => tauriBackend.getStatus(), ['get_status']],
    ['setSyncEnabled', () => tauriBackend.setSyncEnabled(false), ['set_sync_enabled', { enabled: false }]],
    ['syncNow (all)', () => tauriBackend.syncNow(null), ['sync_now', { accountId: null }]],
    ['syncNow (one)', () => tauriBackend.syncNow(3), ['sync_now', { accountId: 3 }]],
    ['listFolders', () => tauriBackend.listFolders(null), ['list_folders', { accountId: null }]],
    ['getThread', () => tauriBackend.getThread(4), ['get_thread', { threadId: 4 }]],
    ['renderMessage', () => tauriBackend.renderMessage(5), ['render_message', { id: 5 }]],
    [
      'allowRemote (message)',
      () => tauriBackend.allowRemote({ kind: 'message', messageId: 5 }),
      ['allow_remote', { scope: { kind: 'message', messageId: 5 } }],
    ],
    [
      'allowRemote (sender)',
      () => tauriBackend.allowRemote({ kind: 'sender', address: 'a@b.c' }),
      ['allow_remote', { scope: { kind: 'sender', address: 'a@b.c' } }],
    ],
    ['openLink', () => tauriBackend.openLink('https://x.example'), ['open_link', { url: 'https://x.example' }]],
    ['setUnread', () => tauriBackend.setUnread([1, 2], true), ['set_unread', { ids: [1, 2], unread: true }]],
    ['setStarred', () => tauriBackend.setStarred([3], false), ['set_starred', { ids: [3], starred: false }]],
    ['archiveMessages', () => tauriBackend.archiveMessages([4]), ['archive_messages', { ids: [4] }]],
    ['trashMessages', () => tauriBackend.trashMessages([5]), ['trash_messages', { ids: [5] }]],
    ['getSettings', () => tauriBackend.getSettings(), ['get_settings']],
    ['getDiagnostics', () => tauriBackend.getDiagnostics(), ['get_diagnostics']],
    [
      'updateSettings',
      () => tauriBackend.updateSettings(SETTINGS),
      ['update_settings', { settings: SETTINGS }],
    ],
    ['addAccount', () => tauriBackend.addAccount(ADD), ['add_account', { account: ADD }]],
    ['reauthenticate', () => tauriBackend.reauthenticate(2), ['reauthenticate', { accountId: 2 }]],
    ['removeAccount', () => tauriBackend.removeAccount(2), ['remove_account', { accountId: 2 }]],
    [
      'setAccountSync',
      () => tauriBackend.setAccountSync(2, false),
      ['set_account_sync', { accountId: 2, enabled: false }],
    ],
    [
      'moveToCategory',
      () => tauriBackend.moveToCategory([6, 7], 'forums'),
      ['move_to_category', { ids: [6, 7], category: 'forums' }],
    ],
    ['explainCategory', () => tauriBackend.explainCategory(6), ['explain_category', { id: 6 }]],
    [
      'compose (reply)',
      () => tauriBackend.compose({ kind: 'reply', messageId: 9, accountId: null }),
      ['compose', { request: { kind: 'reply', messageId: 9, accountId: null } }],
    ],
    [
      'compose (new)',
      () => tauriBackend.compose({ kind: 'new', messageId: null, accountId: 2 }),
      ['compose', { request: { kind: 'new', messageId: null, accountId: 2 } }],
    ],
    ['openDraft', () => tauriBackend.openDraft(12), ['open_draft', { messageId: 12 }]],
    ['getDraft', () => tauriBackend.getDraft(3), ['get_draft', { id: 3 }]],
    ['listDrafts (all)', () => tauriBackend.listDrafts(null), ['list_drafts', { accountId: null }]],
    ['listDrafts (one)', () => tauriBackend.listDrafts(1), ['list_drafts', { accountId: 1 }]],
    ['saveDraft', () => tauriBackend.saveDraft(3, EDIT), ['save_draft', { id: 3, edit: EDIT }]],
    ['detachFile', () => tauriBackend.detachFile(3, 40), ['detach_file', { id: 3, attachmentId: 40 }]],
    ['sendDraft', () => tauriBackend.sendDraft(3), ['send_draft', { id: 3 }]],
    ['undoSend', () => tauriBackend.undoSend(3), ['undo_send', { id: 3 }]],
    ['discardDraft', () => tauriBackend.discardDraft(3), ['discard_draft', { id: 3 }]],
    [
      'suggestContacts',
      () => tauriBackend.suggestContacts('gra', 8),
      ['suggest_contacts', { prefix: 'gra', limit: 8 }],
    ],
  ] as const)('%s invokes %j', async (_name, run, expected) => {
    await run();
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke.mock.calls[0]).toEqual(expected);
  });

  it('attachFile sends the bytes as the raw body and the rest as headers', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    await tauriBackend.attachFile(3, { name: 'Grüße ☕.pdf', type: 'application/pdf', bytes });
    expect(invoke).toHaveBeenCalledTimes(1);
    const [command, body, options] = invoke.mock.calls[0] as [string, unknown, { headers: Record<string, string> }];
    expect(command).toBe('attach_file');
    expect(body).toBe(bytes);
    expect(options.headers).toEqual({
      'Ember-Draft': '3',
      'Ember-Filename': 'Gr%C3%BC%C3%9Fe%20%E2%98%95.pdf',
      'Ember-Content-Type': 'application/pdf',
    });
  });

  it('attachFile names a type for a file without one, and passes tooLarge through', async () => {
    invoke.mockRejectedValueOnce({ code: 'tooLarge', message: 'big.zip is 4.0 MB; this account sends files of at most 3 MB' });
    await expect(
      tauriBackend.attachFile(3, { name: 'big.zip', type: '', bytes: new Uint8Array(4) }),
    ).rejects.toEqual({ code: 'tooLarge', message: 'big.zip is 4.0 MB; this account sends files of at most 3 MB' });
    const options = invoke.mock.calls[0]?.[2] as { headers: Record<string, string> };
    expect(options.headers['Ember-Content-Type']).toBe('application/octet-stream');
  });

  it('resolves with what the command returned', async () => {
    invoke.mockResolvedValueOnce([{ id: 1 }]);
    await expect(tauriBackend.listAccounts()).resolves.toEqual([{ id: 1 }]);
  });

  it('passes an ApiError from Rust through unchanged', async () => {
    invoke.mockRejectedValueOnce({ code: 'notFound', message: 'no such message' });
    await expect(tauriBackend.getMessage(1)).rejects.toEqual({ code: 'notFound', message: 'no such message' });
  });

  it.each([
    ['a string', 'boom', 'boom'],
    ['an Error', new Error('kaput'), 'kaput'],
    ['an unknown code', { code: 'weird', message: 'x' }, '{"code":"weird","message":"x"}'],
  ])('normalises %s into an internal ApiError', async (_what, rejection, message) => {
    invoke.mockRejectedValueOnce(rejection);
    await expect(tauriBackend.getStatus()).rejects.toEqual({ code: 'internal', message });
  });
});

describe('tauriBackend.onEvent', () => {
  it('listens on all three channels and forwards payloads', async () => {
    const seen: BackendEvent[] = [];
    const stop = await tauriBackend.onEvent((e) => seen.push(e));
    expect([...listeners.keys()].sort()).toEqual(['mail://changed', 'sync://progress', 'sync://state']);

    const progress: BackendEvent = {
      type: 'accountSync',
      data: { accountId: 1, sync: { state: 'syncing', phase: 'headers', done: 1, total: 4, rate: null } },
    };
    const changed: BackendEvent = { type: 'dataChanged', data: { accountId: null } };
    listeners.get('sync://progress')?.({ payload: progress });
    listeners.get('mail://changed')?.({ payload: changed });
    listeners.get('sync://state')?.({ payload: 'not an event' });
    expect(seen).toEqual([progress, changed]);

    stop();
    stop();
    expect(unlisten).toHaveBeenCalledTimes(3);
  });

  it('cleans up and rejects if one channel cannot be listened to', async () => {
    listen.mockImplementationOnce(async () => {
      throw 'event.listen not allowed';
    });
    await expect(tauriBackend.onEvent(() => {})).rejects.toEqual({
      code: 'internal',
      message: 'event.listen not allowed',
    });
    expect(unlisten).toHaveBeenCalledTimes(2);
  });
});
