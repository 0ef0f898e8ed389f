// Backend implementation over Tauri IPC: maps each method to its command name
// and argument object, and the three event channels to one handler.
import { invoke, type InvokeArgs } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { EVENT_NAMES, type Backend } from './backend';
import type { Event as BackendEvent } from '../../bindings/Event';
import { toApiError } from './errors';

async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  try {
    return args === undefined ? await invoke<T>(command) : await invoke<T>(command, args);
  } catch (err) {
    throw toApiError(err);
  }
}

function isBackendEvent(payload: unknown): payload is BackendEvent {
  return (
    typeof payload === 'object' &&
    payload !== null &&
    typeof (payload as { type?: unknown }).type === 'string' &&
    'data' in payload
  );
}

export const tauriBackend: Backend = {
  listAccounts: () => call('list_accounts'),
  listMessages: (query) => call('list_messages', { query }),
  getMessage: (id) => call('get_message', { id }),
  searchMessages: (query) => call('search_messages', { query }),
  listWorkItems: (query) => call('list_work_items', { query }),
  getStatus: () => call('get_status'),
  setSyncEnabled: (enabled) => call('set_sync_enabled', { enabled }),
  syncNow: (accountId) => call<void>('sync_now', { accountId }),

  listFolders: (accountId) => call('list_folders', { accountId }),
  getThread: (threadId) => call('get_thread', { threadId }),
  renderMessage: (id) => call('render_message', { id }),
  allowRemote: (scope) => call('allow_remote', { scope }),
  openLink: (url) => call<void>('open_link', { url }),

  setUnread: (ids, unread) => call<void>('set_unread', { ids, unread }),
  setStarred: (ids, starred) => call<void>('set_starred', { ids, starred }),
  archiveMessages: (ids) => call<void>('archive_messages', { ids }),
  trashMessages: (ids) => call<void>('trash_messages', { ids }),

  getSettings: () => call('get_settings'),
  updateSettings: (settings) => call('update_settings', { settings }),
  addAccount: (account) => call('add_account', { account }),
  reauthenticate: (accountId) => call('reauthenticate', { accountId }),
  removeAccount: (accountId) => call<void>('remove_account', { accountId }),
  setAccountSync: (accountId, enabled) => call('set_account_sync', { accountId, enabled }),
  getDiagnostics: () => call('get_diagnostics'),

  getWorkItem: (id) => call('get_work_item', { id }),
  refreshWorkItem: (id) => call('refresh_work_item', { id }),
  editWorkItem: (id, edit) => call('edit_work_item', { id, edit }),
  resolveWorkItemConflict: (id, choice) => call('resolve_work_item_conflict', { id, choice }),
  linkedWorkItems: (messageId) => call('linked_work_items', { messageId }),

  moveToCategory: (ids, category) => call<void>('move_to_category', { ids, category }),
  explainCategory: (id) => call('explain_category', { id }),

  compose: (request) => call('compose', { request }),
  openDraft: (messageId) => call('open_draft', { messageId }),
  getDraft: (id) => call('get_draft', { id }),
  listDrafts: (accountId) => call('list_drafts', { accountId }),
  saveDraft: (id, edit) => call('save_draft', { id, edit }),
  // The bytes are the raw body (no JSON array of numbers for a 20 MB file); the rest travels as headers.
  attachFile: async (id, file) => {
    try {
      return await invoke('attach_file', file.bytes, {
        headers: {
          'Ember-Draft': String(id),
          'Ember-Filename': encodeURIComponent(file.name),
          'Ember-Content-Type': file.type || 'application/octet-stream',
        },
      });
    } catch (err) {
      throw toApiError(err);
    }
  },
  detachFile: (id, attachmentId) => call('detach_file', { id, attachmentId }),
  sendDraft: (id) => call('send_draft', { id }),
  undoSend: (id) => call('undo_send', { id }),
  discardDraft: (id) => call<void>('discard_draft', { id }),
  suggestContacts: (prefix, limit) => call('suggest_contacts', { prefix, limit }),

  async onEvent(handler) {
    const results = await Promise.allSettled(
      EVENT_NAMES.map((name) =>
        listen<unknown>(name, (e) => {
          if (isBackendEvent(e.payload)) handler(e.payload);
        }),
      ),
    );
    const unlistens: UnlistenFn[] = [];
    let failure: unknown = null;
    for (const r of results) {
      if (r.status === 'fulfilled') unlistens.push(r.value);
      else failure ??= r.reason;
    }
    let active = true;
    const unlistenAll = () => {
      if (!active) return;
      active = false;
      for (const u of unlistens) u();
    };
    if (failure !== null) {
      unlistenAll();
      throw toApiError(failure);
    }
    return unlistenAll;
  },
};
