// Demo data for `npm run dev` and the browser tests in a plain browser (no
// Tauri): a MockBackend with three accounts, folders (nested for Microsoft
// 365), threads, work items (descriptions, comments, history, related items,
// one conflict, one hostile description) and mail that refers to them, a
// newsletter with blocked remote images, a deliberately hostile message, and a
// fake sync run behind "Sync now". `messages` scales the mailbox (e.g. 100,000).
import type { Account } from '../../bindings/Account';
import type { Category } from '../../bindings/Category';
import type { SyncPhase } from '../../bindings/SyncPhase';
import type { WorkItem } from '../../bindings/WorkItem';
import type { Folder } from '../../bindings/Folder';
import type { MessageSummary } from '../../bindings/MessageSummary';
import { MockBackend, type MockWorkItemExtras } from './mock';
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

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ORG = 'contoso';
const PROJECT = 'ember';
const itemUrl = (n: number) => `https://dev.azure.com/${ORG}/${PROJECT}/_workitems/edit/${n}`;
const link = (href: string, text: string) => `<a href="${href}" target="_blank" rel="noopener noreferrer">${text}</a>`;

/** One demo work item: [number, type, title, state, assignee, priority, sprint, memberships, hours since changed]. */
type ItemDef = [number, string, string, string, string | null, number | null, number | null, string[], number];

const ITEMS: ItemDef[] = [
  [4101, 'Bug', 'Tray icon blurry on HiDPI displays', 'Active', 'Ada Lovelace', 1, 14, ['assigned', 'created'], 0.5],
  [4102, 'Bug', 'Search: is:unread ignores threads', 'Active', 'Ada Lovelace', 2, 14, ['assigned'], 1],
  [4111, 'User Story', 'Keyboard shortcuts for work items', 'Active', 'Ada Lovelace', 2, 15, ['assigned', 'mentioned'], 1.5],
  [4103, 'Task', 'Settings: validate sync interval', 'New', 'Ada Lovelace', 3, 14, ['assigned'], 3],
  [4106, 'Bug', 'Crash when an account is removed during sync', 'Resolved', 'Alan Turing', 1, 14, ['mentioned'], 5],
  [4108, 'Bug', 'Customer ticket paste shows raw HTML (hostile test item)', 'New', null, 3, 15, ['created'], 8],
  [4113, 'Bug', 'Unread count off by one after archive', 'New', null, 2, 15, ['mentioned'], 20],
  [4104, 'User Story', 'As a reader I can snooze a conversation', 'New', 'Grace Hopper', 2, 15, ['mentioned', 'followed'], 26],
  [4090, 'Feature', 'Work items in the mail window', 'Active', 'Katherine Johnson', 2, null, ['followed'], 50],
  [4112, 'Task', 'Measure cold start on Windows', 'Active', 'Alan Turing', 3, 14, ['followed'], 96],
  [4105, 'Task', 'Write release notes for 0.4', 'Closed', 'Ada Lovelace', 4, 13, ['assigned', 'created'], 144],
  [4110, 'Epic', 'Offline-first sync', 'New', null, null, null, ['followed'], 288],
  [4109, 'User Story', 'Tray: show the unread count in the tooltip', 'Removed', null, 4, 13, ['created'], 480],
];

/** The states each type allows, as the Agile process orders them (Epic's are not synced yet). */
const STATES: Record<string, string[]> = {
  Bug: ['New', 'Active', 'Resolved', 'Closed'],
  Task: ['New', 'Active', 'Closed', 'Removed'],
  'User Story': ['New', 'Active', 'Resolved', 'Closed', 'Removed'],
  Feature: ['New', 'Active', 'Resolved', 'Closed', 'Removed'],
};

const HOSTILE_DESCRIPTION = `<p>The customer pasted this into the ticket; none of it may run:</p>
<script>window.parent.__emberPwned = 'work item script'; window.__emberPwned = 'work item script'; alert('xss');</script>
<img src="data:image/png;base64,AAAA" onerror="window.parent.__emberPwned='work item onerror'; alert('xss')">
<p><a href="javascript:window.parent.__emberPwned='work item link'">Open the ticket</a></p>`;

function demoWorkItems(now: number): {
  workItems: WorkItem[];
  workItemExtras: Record<number, MockWorkItemExtras>;
  workItemStates: Record<string, string[]>;
} {
  const workItems = ITEMS.map(([itemId, itemType, title, state, assignedTo, priority, sprint, memberships, hours], i) => ({
    id: i + 1,
    accountId: 3,
    organization: ORG,
    project: PROJECT,
    itemId,
    rev: 1,
    itemType,
    title,
    state,
    assignedTo,
    priority,
    iteration: sprint === null ? null : `${PROJECT}\\Sprint ${sprint}`,
    changedDate: now - hours * HOUR,
    url: itemUrl(itemId),
    memberships,
    conflict: false,
    pendingEdits: 0,
  }));
  const id = (itemId: number) => workItems.find((w) => w.itemId === itemId)?.id ?? 0;
  const change = (rev: number, state: string, changedBy: string, daysAgo: number) => ({
    rev,
    state,
    changedBy,
    changedAt: now - daysAgo * DAY,
  });
  const comment = (author: string, hoursAgo: number, html: string) => ({ author, createdAt: now - hoursAgo * HOUR, html });
  const workItemExtras: Record<number, MockWorkItemExtras> = {
    [id(4101)]: {
      createdBy: 'Ada Lovelace',
      description: `<p>The tray icon looks <strong>blurry</strong> on displays scaled above 100%.</p>
<h3>Steps to reproduce</h3>
<ol><li>Set the display scaling to 150% or 200%.</li><li>Start Ember.</li><li>Look at the tray icon.</li></ol>
<p><b>Expected:</b> a crisp icon at every scale.</p>
<pre>tray::icon: loaded 16x16 RGBA, scale factor 2.0</pre>
<p>See the ${link('https://learn.microsoft.com/windows/win32/hidpi/high-dpi-desktop-application-development-on-windows', 'high-DPI guide')}.</p>`,
      comments: [
        comment(
          'Grace Hopper',
          48,
          `<p>Reproduced on a 4K display at 150% scaling. The icon is drawn at 16&nbsp;px and stretched.</p><p>Screenshots are on the ${link(itemUrl(4101), 'item')}.</p>`,
        ),
        comment(
          'Ada Lovelace',
          20,
          '<p>We only ship a 16 px PNG. I will add <code>32x32</code> and <code>64x64</code> variants and pick one by scale factor.</p>',
        ),
      ],
      history: [change(1, 'New', 'Ada Lovelace', 6), change(4, 'Active', 'Ada Lovelace', 2)],
      related: [
        { rel: 'parent', itemId: 4090 },
        { rel: 'related', itemId: 4102 },
        { rel: 'related', itemId: 3977 },
      ],
      remote: {
        comments: [
          comment('Alan Turing', 0.3, '<p>Tried the nightly: <strong>sharp</strong> on Windows, still soft on KDE Wayland.</p>'),
        ],
      },
    },
    [id(4102)]: {
      createdBy: 'Grace Hopper',
      description:
        '<p>Searching <code>is:unread</code> lists a conversation only when its <em>newest</em> message is unread.</p><p>It should match when any message of the thread is unread.</p>',
      comments: [
        comment('Ada Lovelace', 26, '<p>Fixed in the thread query; resolving.</p>'),
        comment('Jamie Rivera', 2, '<p>Still reproduces with a <strong>draft</strong> in the thread. Reopening.</p>'),
      ],
      history: [
        change(1, 'New', 'Grace Hopper', 9),
        change(3, 'Active', 'Ada Lovelace', 4),
        change(7, 'Active', 'Jamie Rivera', 0.08),
      ],
      related: [{ rel: 'related', itemId: 4101 }],
      conflict: {
        entry: 90,
        edit: { kind: 'setState', state: 'Resolved' },
        seenRev: 6,
        message:
          'Jamie Rivera changed this item (revision 7) before your change reached Azure DevOps, so it was not sent.',
      },
    },
    [id(4111)]: {
      createdBy: 'Katherine Johnson',
      description:
        '<p>As a keyboard user I can reach and triage work items without the mouse:</p><ul><li><kbd>g</kbd> <kbd>w</kbd> opens the list</li><li><kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> opens</li></ul>',
      comments: [comment('Katherine Johnson', 30, '<p>@Ada Lovelace can you take this one? AB#4090 tracks the feature.</p>')],
      history: [change(1, 'New', 'Katherine Johnson', 3), change(2, 'Active', 'Ada Lovelace', 1)],
      related: [{ rel: 'parent', itemId: 4090 }],
    },
    [id(4103)]: {
      createdBy: 'Ada Lovelace',
      description: '<p>Reject intervals outside 1–1440 minutes with a sentence naming the field.</p>',
      history: [change(1, 'New', 'Ada Lovelace', 2)],
      related: [{ rel: 'parent', itemId: 4090 }],
    },
    [id(4106)]: {
      createdBy: 'Alan Turing',
      description:
        '<p>Removing an account while its sync loop is in <code>headers</code> panics in the writer.</p><pre>thread \'sync-2\' panicked at src/sync/writer.rs:212: account 2 not found</pre>',
      comments: [comment('Alan Turing', 5, '<p>Fixed by cancelling the loop before the rows go.</p>')],
      history: [change(1, 'New', 'Alan Turing', 5), change(2, 'Active', 'Alan Turing', 3), change(5, 'Resolved', 'Alan Turing', 0.2)],
    },
    [id(4108)]: {
      createdBy: 'Ada Lovelace',
      description: HOSTILE_DESCRIPTION,
      history: [change(1, 'New', 'Ada Lovelace', 0.4)],
    },
    [id(4113)]: {
      createdBy: 'Grace Hopper',
      description: '<p>After archiving from the list the folder count stays one too high until the next sync.</p>',
      history: [change(1, 'New', 'Grace Hopper', 1)],
    },
    [id(4104)]: {
      createdBy: 'Grace Hopper',
      description: '<p>Snooze hides a conversation until a chosen time, then brings it back unread.</p>',
      history: [change(1, 'New', 'Grace Hopper', 2)],
    },
    [id(4090)]: {
      createdBy: 'Katherine Johnson',
      description: '<p>Show Azure DevOps work items next to the mail about them, and change them from there.</p>',
      history: [change(1, 'New', 'Katherine Johnson', 20), change(2, 'Active', 'Katherine Johnson', 12)],
      related: [
        { rel: 'child', itemId: 4101 },
        { rel: 'child', itemId: 4103 },
        { rel: 'child', itemId: 4111 },
      ],
    },
    [id(4112)]: { createdBy: 'Alan Turing', history: [change(1, 'New', 'Alan Turing', 10), change(2, 'Active', 'Alan Turing', 4)] },
    [id(4105)]: {
      createdBy: 'Ada Lovelace',
      history: [change(1, 'New', 'Ada Lovelace', 14), change(3, 'Active', 'Ada Lovelace', 9), change(6, 'Closed', 'Ada Lovelace', 6)],
    },
    [id(4110)]: { createdBy: 'Katherine Johnson', description: '<p>Every action works offline and is sent when the network returns.</p>' },
    [id(4109)]: { createdBy: 'Ada Lovelace', history: [change(1, 'New', 'Ada Lovelace', 30), change(2, 'Removed', 'Grace Hopper', 20)] },
  };
  // Each item's revision is its last recorded change's.
  for (const w of workItems) {
    const revs = (workItemExtras[w.id]?.history ?? []).map((h) => h.rev);
    w.rev = Math.max(1, ...revs);
  }
  return { workItems, workItemExtras, workItemStates: STATES };
}

/**
 * Mail about the demo work items: two conversations that mention items
 * (AB#4101 with a link to its page and AB#3977, which is not synced; AB#4104
 * and AB#4111), and Azure DevOps' notifications about two synced items, which
 * fold under their item while "Fold Azure DevOps notifications" is on (so the
 * inbox keeps its size). Returns the notifications and the bodies to add.
 */
function workItemMail(messages: MessageSummary[], now: number): { extra: MessageSummary[]; bodies: Record<number, MockBody> } {
  const bodies: Record<number, MockBody> = {};
  const tray = messages[2];
  if (tray) {
    Object.assign(tray, {
      subject: 'AB#4101: tray icon still blurry on HiDPI',
      from: { name: 'Grace Hopper', address: 'grace@example.com' },
      category: 'primary',
      unread: true,
      snippet: 'Still fuzzy on the 4K monitor after last night’s build — same as AB#3977 last year…',
    });
    const html = `<p>Hi Ada,</p><p>The tray icon is still fuzzy on the 4K monitor after last night’s build, same as AB#3977 last year.</p><p>Details are on the item: ${link(itemUrl(4101), itemUrl(4101))}</p><p>Grace</p>`;
    bodies[tray.id] = { blocked: html, allowed: html, remoteBlocked: 0 };
  }
  const planning = messages[6];
  if (planning) {
    Object.assign(planning, {
      subject: 'Sprint 15 planning: AB#4104 and AB#4111',
      from: { name: 'Katherine Johnson', address: 'kj@contoso.example' },
      category: 'primary',
      snippet: 'Let’s take AB#4104 (snooze) and AB#4111 (shortcuts for work items) into Sprint 15…',
    });
  }
  const base = messages.length;
  const notice = (offset: number, subject: string, snippet: string): MessageSummary => ({
    id: base + offset,
    accountId: 2,
    threadId: null,
    subject,
    from: { name: 'Azure DevOps', address: 'azuredevops@microsoft.com' },
    date: now - offset * 11 * 60_000,
    snippet,
    unread: true,
    starred: false,
    hasAttachments: false,
    category: 'updates',
    categoryConfidence: 0.97,
    threadSize: 1,
    spam: false,
  });
  const extra = [
    notice(1, 'Bug 4102 - Search: is:unread ignores threads', 'Jamie Rivera changed the State from Resolved to Active'),
    notice(2, 'Task 4103 - Settings: validate sync interval', 'Ada Lovelace was assigned to this task'),
  ];
  for (const m of extra) {
    const itemId = Number(/\d+/.exec(m.subject)?.[0]);
    const html = `<p>${m.snippet}.</p><p>${link(itemUrl(itemId), `View work item ${itemId}`)}</p>`;
    bodies[m.id] = { blocked: html, allowed: html, remoteBlocked: 0 };
  }
  return { extra, bodies };
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
  const mail = workItemMail(messages, now);
  const backend = new MockBackend({
    accounts,
    messages: [...messages, ...mail.extra],
    bodies: { ...bodies, ...mail.bodies },
    ...demoFolders(messages),
    ...demoWorkItems(now),
    syncEnabled: true,
    syncStates: {
      2: { state: 'needsReauth', message: 'Sign in again to keep Contoso mail in sync.' },
    },
    dataDir: '(browser demo: nothing is stored)',
  });
  // Edits reach "Azure DevOps" a moment after they are made, and opening an item
  // takes a moment to read it from there, so both states can be seen.
  backend.workItemSendMs = 2500;
  const refresh = backend.refreshWorkItem.bind(backend);
  backend.refreshWorkItem = async (id) => {
    await new Promise((resolve) => setTimeout(resolve, 600));
    return refresh(id);
  };
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
