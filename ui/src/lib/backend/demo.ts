// Demo rows for `npm run dev` in a plain browser (no Tauri): a MockBackend with
// a few accounts and messages, and a fake sync run behind "Sync now".
import type { Account } from '../../bindings/Account';
import type { Category } from '../../bindings/Category';
import type { MessageSummary } from '../../bindings/MessageSummary';
import type { SyncPhase } from '../../bindings/SyncPhase';
import { MockBackend } from './mock';

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
];
const subjects = ['Lunch on Friday?', 'Build #1042 passed', 'Notes from the review', 'Quarterly numbers', 'Re: the tray icon'];
const categories: Category[] = ['primary', 'updates', 'social', 'promotions', 'forums'];

function demoMessages(now: number): MessageSummary[] {
  return Array.from({ length: 75 }, (_, i) => ({
    id: i + 1,
    accountId: i % 3 === 0 ? 2 : 1,
    threadId: null,
    subject: subjects[i % subjects.length] ?? '',
    from: senders[i % senders.length] ?? { name: null, address: 'someone@example.com' },
    date: now - i * 47 * 60_000,
    snippet: 'A short preview of the message body, just enough to recognise it…',
    unread: i % 4 === 0,
    starred: i % 9 === 0,
    hasAttachments: i % 5 === 0,
    category: categories[i % categories.length] ?? null,
    categoryConfidence: 0.9,
    threadSize: 1,
    spam: false,
  }));
}

const PHASES: SyncPhase[] = ['connecting', 'folders', 'headers', 'bodies', 'categorising'];

/** A MockBackend whose syncNow plays a short, visible sync for account 1. */
export function createDemoBackend(): MockBackend {
  const backend = new MockBackend({
    accounts,
    messages: demoMessages(Date.now()),
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
