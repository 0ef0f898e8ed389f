// In-memory Backend for tests and the browser-only dev mode: holds accounts,
// messages and status, records every call, and lets a test emit() events.
import type { Account } from '../../bindings/Account';
import type { ApiError } from '../../bindings/ApiError';
import type { Event as BackendEvent } from '../../bindings/Event';
import type { MailView } from '../../bindings/MailView';
import type { MessageDetail } from '../../bindings/MessageDetail';
import type { MessagePage } from '../../bindings/MessagePage';
import type { MessageQuery } from '../../bindings/MessageQuery';
import type { MessageSummary } from '../../bindings/MessageSummary';
import type { SearchHit } from '../../bindings/SearchHit';
import type { SearchQuery } from '../../bindings/SearchQuery';
import type { Status } from '../../bindings/Status';
import type { SyncState } from '../../bindings/SyncState';
import type { WorkItem } from '../../bindings/WorkItem';
import type { WorkItemQuery } from '../../bindings/WorkItemQuery';
import { compareNewestFirst } from '../order';
import type { Backend } from './backend';

export type BackendMethod = Exclude<keyof Backend, 'onEvent'>;

export interface MockCall {
  method: BackendMethod;
  args: unknown[];
}

export interface MockSeed {
  accounts?: Account[];
  messages?: MessageSummary[];
  details?: MessageDetail[];
  /** folderId -> message ids, for `{ kind: "folder" }` views. */
  folders?: Record<number, number[]>;
  workItems?: WorkItem[];
  syncEnabled?: boolean;
  syncStates?: Record<number, SyncState>;
  dataDir?: string;
  insecureStorage?: string | null;
}

/** Copies like the IPC boundary does (JSON), so callers never share objects with the mock. */
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

export class MockBackend implements Backend {
  accounts: Account[];
  messages: MessageSummary[];
  details: Map<number, MessageDetail>;
  folders: Record<number, number[]>;
  workItems: WorkItem[];
  syncEnabled: boolean;
  syncStates: Map<number, SyncState>;
  dataDir: string;
  insecureStorage: string | null;

  /** Every call, in order (onEvent excluded). */
  readonly calls: MockCall[] = [];
  /** Set `failures.getStatus = {...}` to make the next calls of that method reject. */
  failures: Partial<Record<BackendMethod, ApiError>> = {};

  private handlers = new Set<(event: BackendEvent) => void>();

  constructor(seed: MockSeed = {}) {
    this.accounts = clone(seed.accounts ?? []);
    this.messages = clone(seed.messages ?? []);
    this.details = new Map((seed.details ?? []).map((d) => [d.summary.id, clone(d)]));
    this.folders = clone(seed.folders ?? {});
    this.workItems = clone(seed.workItems ?? []);
    this.syncEnabled = seed.syncEnabled ?? true;
    this.syncStates = new Map(
      Object.entries(seed.syncStates ?? {}).map(([id, s]) => [Number(id), clone(s)]),
    );
    this.dataDir = seed.dataDir ?? '/tmp/ember-mock';
    this.insecureStorage = seed.insecureStorage ?? null;
  }

  /** Delivers an event to every current onEvent subscriber, like Rust's emit. */
  emit(event: BackendEvent): void {
    if (event.type === 'accountSync') this.syncStates.set(event.data.accountId, clone(event.data.sync));
    if (event.type === 'syncEnabledChanged') this.syncEnabled = event.data.enabled;
    for (const h of [...this.handlers]) h(clone(event));
  }

  get listenerCount(): number {
    return this.handlers.size;
  }

  callsTo(method: BackendMethod): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  private async record<T>(method: BackendMethod, args: unknown[], run: () => T): Promise<T> {
    this.calls.push({ method, args: clone(args) });
    await Promise.resolve();
    const failure = this.failures[method];
    if (failure) throw clone(failure);
    return clone(run());
  }

  private inView(m: MessageSummary, view: MailView): boolean {
    switch (view.kind) {
      case 'unified':
        return true;
      case 'account':
        return m.accountId === view.accountId;
      case 'folder':
        return (this.folders[view.folderId] ?? []).includes(m.id);
      case 'category':
        return m.category === view.category;
    }
  }

  private status(): Status {
    return {
      syncEnabled: this.syncEnabled,
      accounts: this.accounts.map((account) => ({
        account,
        sync: this.syncStates.get(account.id) ?? { state: 'idle', lastSyncedAt: null },
      })),
      messageCount: this.messages.length,
      workItemCount: this.workItems.length,
      dataDir: this.dataDir,
      demo: this.accounts.some((a) => a.demo),
      insecureStorage: this.insecureStorage,
    };
  }

  listAccounts(): Promise<Account[]> {
    return this.record('listAccounts', [], () => this.accounts);
  }

  listMessages(query: MessageQuery): Promise<MessagePage> {
    return this.record('listMessages', [query], () => {
      const { before, limit } = query;
      const rows = this.messages
        .filter((m) => this.inView(m, query.view))
        .filter((m) => !before || m.date < before.date || (m.date === before.date && m.id < before.id))
        .sort(compareNewestFirst);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        messages: page,
        next: rows.length > limit && last ? { date: last.date, id: last.id } : null,
      };
    });
  }

  getMessage(id: number): Promise<MessageDetail> {
    return this.record('getMessage', [id], () => {
      const detail = this.details.get(id);
      if (detail) return detail;
      const summary = this.messages.find((m) => m.id === id);
      if (!summary) throw { code: 'notFound', message: `message ${id} not found` } satisfies ApiError;
      return { summary, to: [], cc: [], folders: [], bodyText: summary.snippet, html: false, attachments: [] };
    });
  }

  searchMessages(query: SearchQuery): Promise<SearchHit[]> {
    return this.record('searchMessages', [query], () => {
      const needle = query.text.trim().toLowerCase();
      const found = this.messages
        .filter((m) =>
          [m.subject, m.snippet, m.from.address, m.from.name ?? ''].some((s) =>
            s.toLowerCase().includes(needle),
          ),
        )
        .sort(compareNewestFirst)
        .slice(0, query.limit);
      return found.map((message) => ({ message, subjectMatches: [], snippetMatches: [] }));
    });
  }

  listWorkItems(query: WorkItemQuery): Promise<WorkItem[]> {
    return this.record('listWorkItems', [query], () =>
      this.workItems
        .filter((w) => query.accountId === null || w.accountId === query.accountId)
        .sort((a, b) => b.changedDate - a.changedDate)
        .slice(0, query.limit),
    );
  }

  getStatus(): Promise<Status> {
    return this.record('getStatus', [], () => this.status());
  }

  setSyncEnabled(enabled: boolean): Promise<Status> {
    return this.record('setSyncEnabled', [enabled], () => {
      this.syncEnabled = enabled;
      // The real app broadcasts the change so the tray and every window agree.
      queueMicrotask(() => this.emit({ type: 'syncEnabledChanged', data: { enabled } }));
      return this.status();
    });
  }

  syncNow(accountId: number | null): Promise<void> {
    return this.record('syncNow', [accountId], () => undefined);
  }

  async onEvent(handler: (event: BackendEvent) => void): Promise<() => void> {
    await Promise.resolve();
    this.handlers.add(handler);
    return () => {
      this.handlers.delete(handler);
    };
  }
}
