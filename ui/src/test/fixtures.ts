// Small builders for test data so each test states only what it cares about.
import type { Account } from '../bindings/Account';
import type { Folder } from '../bindings/Folder';
import type { MessageSummary } from '../bindings/MessageSummary';
import type { WorkItem } from '../bindings/WorkItem';

export function account(id: number, over: Partial<Account> = {}): Account {
  return {
    id,
    provider: 'gmail',
    address: `user${id}@example.com`,
    displayName: `Account ${id}`,
    syncEnabled: true,
    state: 'active',
    demo: false,
    ...over,
  };
}

export const BASE_DATE = Date.UTC(2025, 0, 15, 12, 0, 0);

export function message(id: number, over: Partial<MessageSummary> = {}): MessageSummary {
  return {
    id,
    accountId: 1,
    threadId: null,
    subject: `Subject ${id}`,
    from: { name: `Sender ${id}`, address: `sender${id}@example.com` },
    date: BASE_DATE + id * 60_000,
    snippet: `Snippet ${id}`,
    unread: false,
    starred: false,
    hasAttachments: false,
    category: null,
    categoryConfidence: null,
    threadSize: 1,
    spam: false,
    ...over,
  };
}

export function folder(id: number, over: Partial<Folder> = {}): Folder {
  return { id, accountId: 1, name: `Folder ${id}`, parentId: null, role: 'other', unread: 0, total: 0, ...over };
}

/** A work item; `itemId` is 4000 + id unless given. */
export function workItem(id: number, over: Partial<WorkItem> = {}): WorkItem {
  const itemId = over.itemId ?? 4000 + id;
  return {
    id,
    accountId: 1,
    organization: 'contoso',
    project: 'ember',
    itemId,
    rev: 1,
    itemType: 'Bug',
    title: `Item ${id}`,
    state: 'New',
    assignedTo: null,
    priority: null,
    iteration: null,
    changedDate: BASE_DATE + id * 60_000,
    url: `https://dev.azure.com/contoso/ember/_workitems/edit/${itemId}`,
    memberships: [],
    conflict: false,
    pendingEdits: 0,
    ...over,
  };
}
