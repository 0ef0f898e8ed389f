// Demo data for `npm run dev` and the browser tests in a plain browser (no
// Tauri): a MockBackend with three accounts, folders (nested for Microsoft
// 365), threads, work items, a
// newsletter with blocked remote images, a deliberately hostile message, and a
// fake sync run behind "Sync now". `messages` scales the mailbox (e.g. 100,000).
import type { Account } from '../../bindings/Account';
import type { Category } from '../../bindings/Category';
import type { SyncPhase } from '../../bindings/SyncPhase';
import type { WorkItem } from '../../bindings/WorkItem';
import type { Folder } from '../../bindings/Folder';
import type { MessageSummary } from '../../bindings/MessageSummary';
import { MockBackend } from './mock';
import { hostileBody, remoteImagesBody, type MockBody } from './mock-content';

const accounts: Account[] = [
  { id: 1, provider: 'gmail', address: 'ada@example.com', displayName: 'Ada (personal)', syncEnabled: true, state: 'active', demo: true },
  { id: 2, provider: 'graph', address: 'ada@contoso.example', displayName: 'Contoso', syncEnabled: true, state: 'needsReauth', demo: true },
  { id: 3, provider: 'ado', address: 'contoso/ember', displayName: 'Ember board', syncEnabled: true, state: 'active', demo: true },
];

const senders = [
  { name: 'Grace Hopper', address: 'grace@example.com' },
  { name: null, address: 'noreply@builds.example' },
  { name: 'Alan Turing', address: 'alan@example.org' },
  { name: 'Katherine Johnson', address: 'kj@contoso.example' },
  { name: 'Friends Online', address: 'notify@social.example' },
];
const subjects = ['Lunch on Friday?', 'Build #1042 passed', 'Notes from the review', 'Quarterly numbers', 'Re: the tray icon'];
const categories: Category[] = ['primary', 'updates', 'social', 'promotions', 'forums'];

/** Messages among the newest THREADED that share threads of three; the rest stand alone. */
const THREADED = 60;

/** The number of demo messages that give `rows` conversation rows in the unified inbox. */
export const messagesForRows = (rows: number): number => rows + (THREADED / 6) * 2;

function demoMessages(count: number, now: number): MessageSummary[] {
  return Array.from({ length: count }, (_, i) => {
    const threaded = i < THREADED && i % 6 >= 3;
    return {
      id: i + 1,
      accountId: i % 3 === 0 ? 2 : 1,
      threadId: threaded ? Math.floor(i / 6) + 1 : null,
      subject: threaded ? 'Re: the tray icon' : (subjects[i % subjects.length] ?? ''),
      from: senders[i % senders.length] ?? { name: null, address: 'someone@example.com' },
      date: now - i * 7 * 60_000,
      snippet: `A short preview of message ${i + 1}, just enough to recognise it…`,
      unread: i % 4 === 0,
      starred: i % 9 === 0,
      hasAttachments: i % 5 === 0,
      category: categories[i % categories.length] ?? null,
      categoryConfidence: 0.9,
      threadSize: 1,
      spam: false,
    };
  });
}

/** The two messages the browser tests and a curious user look at first. */
function specialMessages(messages: MessageSummary[]): Record<number, MockBody> {
  const [deals, hostile] = messages;
  if (deals) {
    Object.assign(deals, {
      subject: "This week's deals",
      from: { name: 'Deals Weekly', address: 'news@deals.example' },
      category: 'promotions',
      snippet: 'Fresh picks chosen for you, with images from deals.example',
    });
  }
  if (hostile) {
    Object.assign(hostile, {
      subject: 'Verify your account (hostile test message)',
      from: { name: 'Security Team', address: 'security@phish.example' },
      category: 'primary',
      snippet: 'Contains a script, an onerror handler and a javascript: link; none of it may run',
    });
  }
  return { 1: remoteImagesBody(), 2: hostileBody() };
}

/** A demo folder: name, role, messages, and the name of the folder it sits in. */
type FolderDef = [string, Folder['role'], MessageSummary[], string?];

/**
 * Gmail's labels are flat; Microsoft 365 folders nest, so Contoso has
 * Inbox › Projects › Ember, listed after their siblings as Graph pages them.
 */
function demoFolders(messages: MessageSummary[]): { folderList: Folder[]; folders: Record<number, number[]> } {
  const folderList: Folder[] = [];
  const folders: Record<number, number[]> = {};
  for (const account of accounts.filter((a) => a.provider !== 'ado')) {
    const own = messages.filter((m) => m.accountId === account.id);
    const defs: FolderDef[] = [
      ['Inbox', 'inbox', own],
      ['Starred', 'starred', own.filter((m) => m.starred)],
      ['Sent', 'sent', []],
      ['Receipts', 'label', own.filter((m) => m.hasAttachments)],
      ['Trash', 'trash', []],
    ];
    if (account.provider === 'graph') {
      defs.push(
        ['Projects', 'other', own.filter((_, i) => i % 3 === 1), 'Inbox'],
        ['Ember', 'other', own.filter((_, i) => i % 6 === 1), 'Projects'],
      );
    }
    const ids = new Map<string, number>();
    for (const [name, role, rows, parent] of defs) {
      const id = account.id * 100 + folderList.length + 1;
      ids.set(name, id);
      folderList.push({
        id,
        accountId: account.id,
        name,
        parentId: parent === undefined ? null : (ids.get(parent) ?? null),
        role,
        unread: rows.filter((m) => m.unread).length,
        total: rows.length,
      });
      folders[id] = rows.map((m) => m.id);
    }
  }
  return { folderList, folders };
}

function demoWorkItems(now: number): WorkItem[] {
  const titles = ['Tray icon blurry on HiDPI', 'Search: is:unread ignores threads', 'Settings: validate sync interval'];
  return titles.map((title, i) => ({
    id: i + 1,
    accountId: 3,
    organization: 'contoso',
    project: 'ember',
    itemId: 4100 + i,
    rev: 3 + i,
    itemType: i === 2 ? 'Task' : 'Bug',
    title,
    state: i === 0 ? 'Active' : 'New',
    assignedTo: i === 1 ? null : 'Ada Lovelace',
    changedDate: now - i * 3_600_000,
    url: `https://dev.azure.com/contoso/ember/_workitems/edit/${4100 + i}`,
  }));
}

const PHASES: SyncPhase[] = ['connecting', 'folders', 'headers', 'bodies', 'categorising'];

export interface DemoOptions {
  /** How many messages the mailbox holds (default 75). */
  messages?: number;
}

/** A MockBackend whose syncNow plays a short, visible sync for account 1. */
export function createDemoBackend(options: DemoOptions = {}): MockBackend {
  const now = Date.now();
  const messages = demoMessages(Math.max(options.messages ?? 75, 2), now);
  const bodies = specialMessages(messages);
  const backend = new MockBackend({
    accounts,
    messages,
    bodies,
    ...demoFolders(messages),
    workItems: demoWorkItems(now),
    syncEnabled: true,
    syncStates: {
      2: { state: 'needsReauth', message: 'Sign in again to keep Contoso mail in sync.' },
    },
    dataDir: '(browser demo: nothing is stored)',
  });
  backend.syncNow = async (accountId) => {
    backend.calls.push({ method: 'syncNow', args: [accountId] });
    const steps = PHASES.flatMap((phase) =>
      [0, 1, 2, 3, 4].map((done) => ({ phase, done, total: phase === 'connecting' ? null : 4, rate: null })),
    );
    steps.forEach((s, i) =>
      setTimeout(
        () => backend.emit({ type: 'accountSync', data: { accountId: 1, sync: { state: 'syncing', ...s } } }),
        i * 120,
      ),
    );
    setTimeout(() => {
      backend.emit({ type: 'accountSync', data: { accountId: 1, sync: { state: 'idle', lastSyncedAt: Date.now() } } });
      backend.emit({ type: 'dataChanged', data: { accountId: 1 } });
    }, steps.length * 120);
  };
  return backend;
}
