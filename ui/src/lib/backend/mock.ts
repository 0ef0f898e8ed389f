// In-memory Backend for tests, the browser tests and the browser-only dev mode:
// holds accounts, messages, folders, bodies and settings, records every call,
// and lets a test emit() events or make a method fail.
import type { Account } from '../../bindings/Account';
import type { Category } from '../../bindings/Category';
import type { MailView } from '../../bindings/MailView';
import type { SearchQuery } from '../../bindings/SearchQuery';
import type { SyncState } from '../../bindings/SyncState';
import type { ConflictChoice } from '../../bindings/ConflictChoice';
import type { LinkedWorkItem } from '../../bindings/LinkedWorkItem';
import type { StateChange } from '../../bindings/StateChange';
import type { WorkItem } from '../../bindings/WorkItem';
import type { WorkItemComment } from '../../bindings/WorkItemComment';
import type { WorkItemConflict } from '../../bindings/WorkItemConflict';
import type { WorkItemDetail } from '../../bindings/WorkItemDetail';
import type { WorkItemEdit } from '../../bindings/WorkItemEdit';
import type { WorkItemQuery } from '../../bindings/WorkItemQuery';
import { compareNewestFirst } from '../order';
import type { AttachedFile, Backend } from './backend';
import type { AddAccount } from '../../bindings/AddAccount';
import type { ApiError } from '../../bindings/ApiError';
import type { CategoryExplanation } from '../../bindings/CategoryExplanation';
import type { Check } from '../../bindings/Check';
import type { ClassifierStatus } from '../../bindings/ClassifierStatus';
import type { ComposeRequest } from '../../bindings/ComposeRequest';
import type { Contact } from '../../bindings/Contact';
import type { Draft } from '../../bindings/Draft';
import type { DraftEdit } from '../../bindings/DraftEdit';
import type { Diagnostics } from '../../bindings/Diagnostics';
import type { Event as BackendEvent } from '../../bindings/Event';
import type { Folder } from '../../bindings/Folder';
import type { MessageDetail } from '../../bindings/MessageDetail';
import type { MessagePage } from '../../bindings/MessagePage';
import type { MessageQuery } from '../../bindings/MessageQuery';
import type { MessageSummary } from '../../bindings/MessageSummary';
import type { RemoteScope } from '../../bindings/RemoteScope';
import type { RenderedBody } from '../../bindings/RenderedBody';
import type { SearchHit } from '../../bindings/SearchHit';
import type { Settings } from '../../bindings/Settings';
import type { Status } from '../../bindings/Status';
import {
  DEFAULT_SETTINGS,
  escapeHtml,
  findSpans,
  freeText,
  plainBody,
  queryError,
  rendered,
  settingsError,
  type MockBody,
} from './mock-content';
import {
  ContactBook,
  forwardSubject,
  htmlText,
  quoteHtml,
  replyRecipients,
  replySubject,
  signatureHtml,
  sizeError,
  sizeLimits,
  validAddress,
  type MockOriginal,
} from './mock-compose';
import {
  checkEdit,
  findWorkItemRefs,
  matchesWorkSearch,
  mayReferToWorkItems,
  NOTIFICATION_SENDER,
  parseWorkSearch,
} from './mock-work';

export type BackendMethod = Exclude<keyof Backend, 'onEvent'>;

export interface MockCall {
  method: BackendMethod;
  args: unknown[];
}

export interface MockSeed {
  accounts?: Account[];
  messages?: MessageSummary[];
  details?: MessageDetail[];
  /** Folder rows for list_folders. */
  folderList?: Folder[];
  /** folderId -> message ids, for `{ kind: "folder" }` views. */
  folders?: Record<number, number[]>;
  /** messageId -> what render_message serves (default: the snippet as a paragraph). */
  bodies?: Record<number, MockBody>;
  explanations?: Record<number, CategoryExplanation>;
  workItems?: WorkItem[];
  /** Local work item id -> what get_work_item adds to the row. */
  workItemExtras?: Record<number, MockWorkItemExtras>;
  /** Work item type -> the states it allows, in process order (absent: not known yet). */
  workItemStates?: Record<string, string[]>;
  settings?: Partial<Settings>;
  /** Drafts already written (any state). */
  drafts?: Draft[];
  syncEnabled?: boolean;
  syncStates?: Record<number, SyncState>;
  classifier?: ClassifierStatus;
  dataDir?: string;
  insecureStorage?: string | null;
}

/** What the mock knows of a work item beyond its list row. */
export interface MockWorkItemExtras {
  createdBy?: string | null;
  /** The sanitised description markup (a fragment; served as a whole document, as Rust renders it). */
  description?: string | null;
  comments?: WorkItemComment[];
  history?: StateChange[];
  related?: { rel: string; itemId: number }[];
  /** An edit of the user's that met someone else's change. */
  conflict?: WorkItemConflict | null;
  /** What the first refresh_work_item brings from Azure DevOps (newer comments, history, fields). */
  remote?: { comments?: WorkItemComment[]; history?: StateChange[]; item?: Partial<WorkItem> };
}

/** An edit queued for Azure DevOps. */
interface QueuedEdit {
  entry: number;
  id: number;
  edit: WorkItemEdit;
  rev: number;
}

/** Copies like the IPC boundary does (JSON), so callers never share objects with the mock. */
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

const notFound = (what: string): ApiError => ({ code: 'notFound', message: `${what} not found` });

/** Newest-first rows of one view, built once per change of the message set. */
interface ViewCache {
  key: string;
  rows: MessageSummary[];
}

export class MockBackend implements Backend {
  accounts: Account[];
  messages: MessageSummary[];
  details: Map<number, MessageDetail>;
  folderList: Folder[];
  folders: Map<number, Set<number>>;
  bodies: Map<number, MockBody>;
  explanations: Map<number, CategoryExplanation>;
  workItems: WorkItem[];
  workItemExtras: Map<number, MockWorkItemExtras>;
  workItemStates: Record<string, string[]>;
  /** Edits waiting for Azure DevOps, oldest first (sendWorkItemEdits() "sends" them). */
  workItemOutbox: QueuedEdit[] = [];
  /** When set, queued edits are sent this many ms after they are made (the demo); else only by sendWorkItemEdits(). */
  workItemSendMs: number | null = null;
  /** Whose name sent comments and state changes carry. */
  userName = 'Ada Lovelace';
  settings: Settings;
  syncEnabled: boolean;
  syncStates: Map<number, SyncState>;
  classifier: ClassifierStatus;
  dataDir: string;
  insecureStorage: string | null;
  /** Messages archived or trashed: gone from every view. */
  readonly removed = new Set<number>();
  /** Messages whose remote content was allowed one by one. */
  readonly remoteAllowedMessages = new Set<number>();
  /** Messages whose From the provider did not authenticate: their sender's allowance does not apply. */
  readonly unauthenticatedMessages = new Set<number>();

  /** Every draft by id, sent ones included (state 'sent'). */
  drafts: Map<number, Draft>;
  /** A queued draft leaves by itself at its sendAt (the demo); false: only through sendDueDrafts(). */
  autoSendDrafts = true;
  /** Drafts that left, in the order they left: what "the provider" sent. */
  readonly sentDrafts: Draft[] = [];
  /** Recipients at this domain make a send fail for good, as a bouncing address would. */
  bounceDomain = 'bounce.example';

  /** Every call, in order (onEvent excluded). */
  readonly calls: MockCall[] = [];
  /** Set `failures.getStatus = {...}` to make the next calls of that method reject. */
  failures: Partial<Record<BackendMethod, ApiError>> = {};

  private nextEntry = 1;
  private nextDraftId = 1;
  private nextAttachmentId = 1;
  private handlers = new Set<(event: BackendEvent) => void>();
  private version = 0;
  private cache: ViewCache | null = null;

  constructor(seed: MockSeed = {}) {
    this.accounts = clone(seed.accounts ?? []);
    this.messages = seed.messages ? seed.messages.map((m) => ({ ...m, from: { ...m.from } })) : [];
    this.details = new Map((seed.details ?? []).map((d) => [d.summary.id, clone(d)]));
    this.folderList = clone(seed.folderList ?? []);
    this.folders = new Map(Object.entries(seed.folders ?? {}).map(([id, ids]) => [Number(id), new Set(ids)]));
    this.bodies = new Map(Object.entries(seed.bodies ?? {}).map(([id, b]) => [Number(id), b]));
    this.explanations = new Map(Object.entries(seed.explanations ?? {}).map(([id, e]) => [Number(id), e]));
    this.workItems = clone(seed.workItems ?? []);
    this.workItemExtras = new Map(Object.entries(clone(seed.workItemExtras ?? {})).map(([id, e]) => [Number(id), e]));
    this.workItemStates = clone(seed.workItemStates ?? {});
    for (const w of this.workItems) {
      if (this.workItemExtras.get(w.id)?.conflict) w.conflict = true;
    }
    this.settings = { ...DEFAULT_SETTINGS, ...clone(seed.settings ?? {}) };
    this.drafts = new Map((seed.drafts ?? []).map((d) => [d.id, clone(d)]));
    this.nextDraftId = Math.max(0, ...this.drafts.keys()) + 1;
    this.syncEnabled = seed.syncEnabled ?? true;
    this.syncStates = new Map(Object.entries(seed.syncStates ?? {}).map(([id, s]) => [Number(id), clone(s)]));
    this.classifier = seed.classifier ?? { available: true, message: 'Categoriser ready', pending: 0 };
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

  private changed(): void {
    this.version += 1;
  }

  private inView(m: MessageSummary, view: MailView): boolean {
    if (this.removed.has(m.id)) return false;
    if (this.settings.foldWorkItemMail && this.folded(m)) return false;
    switch (view.kind) {
      case 'unified':
        return true;
      case 'account':
        return m.accountId === view.accountId;
      case 'folder':
        return this.folders.get(view.folderId)?.has(m.id) ?? false;
      case 'category':
        return m.category === view.category;
    }
  }

  /** The view's rows newest first (one per thread when asked), cached until anything changes. */
  private rows(view: MailView, conversations: boolean): MessageSummary[] {
    const key = `${JSON.stringify(view)}|${conversations}|${this.version}|${this.messages.length}|${this.removed.size}|${this.settings.foldWorkItemMail}`;
    if (this.cache?.key === key) return this.cache.rows;
    const threadSizes = new Map<number, number>();
    for (const m of this.messages) {
      if (m.threadId !== null) threadSizes.set(m.threadId, (threadSizes.get(m.threadId) ?? 0) + 1);
    }
    let rows = this.messages
      .filter((m) => this.inView(m, view))
      .map((m) => ({ ...m, threadSize: m.threadId === null ? 1 : (threadSizes.get(m.threadId) ?? 1) }))
      .sort(compareNewestFirst);
    if (conversations) {
        const seen = new Set<number>();
      rows = rows.filter((m) => m.threadId === null || (!seen.has(m.threadId) && !!seen.add(m.threadId)));
    }
    this.cache = { key, rows };
    return rows;
  }

  private find(id: number): MessageSummary {
    const m = this.messages.find((x) => x.id === id);
    if (!m) throw notFound(`message ${id}`);
    return m;
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
      classifier: this.classifier,
    };
  }

  private detail(id: number): MessageDetail {
    const summary = this.find(id);
    const stored = this.details.get(id);
    if (stored) return { ...stored, summary: { ...stored.summary, ...summary } };
    return {
      summary: { ...summary, threadSize: summary.threadSize ?? 1 },
      to: [{ name: null, address: this.accounts.find((a) => a.id === summary.accountId)?.address ?? 'me@example.com' }],
      cc: [],
      folders: [],
      bodyText: summary.snippet,
      attachments: summary.hasAttachments
        ? [{ id: id * 10, filename: 'report.pdf', mimeType: 'application/pdf', size: 48_213 }]
        : [],
      html: true,
    };
  }

  listAccounts(): Promise<Account[]> {
    return this.record('listAccounts', [], () => this.accounts);
  }

  listMessages(query: MessageQuery): Promise<MessagePage> {
    return this.record('listMessages', [query], () => {
      const { before, limit } = query;
      const rows = this.rows(query.view, query.conversations ?? false);
      // Binary search for the first row strictly after the cursor (rows are newest first).
      let lo = 0;
      if (before) {
        let hi = rows.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          const m = rows[mid] as MessageSummary;
          const after = m.date < before.date || (m.date === before.date && m.id < before.id);
          if (after) hi = mid;
          else lo = mid + 1;
        }
      }
      const page = rows.slice(lo, lo + limit);
      const last = page.at(-1);
      return {
        messages: page,
        next: lo + limit < rows.length && last ? { date: last.date, id: last.id } : null,
      };
    });
  }

  getMessage(id: number): Promise<MessageDetail> {
    return this.record('getMessage', [id], () => this.detail(id));
  }

  getThread(threadId: number): Promise<MessageDetail[]> {
    return this.record('getThread', [threadId], () => {
      const ids = this.messages
        .filter((m) => m.threadId === threadId && !this.removed.has(m.id))
        .sort((a, b) => a.date - b.date || a.id - b.id)
        .map((m) => m.id);
      if (ids.length === 0) throw notFound(`thread ${threadId}`);
      return ids.map((id) => this.detail(id));
    });
  }

  searchMessages(query: SearchQuery): Promise<SearchHit[]> {
    return this.record('searchMessages', [query], () => {
      const problem = queryError(query.text);
      if (problem) throw { code: 'invalidQuery', message: problem } satisfies ApiError;
      const needle = freeText(query.text);
      const hits: SearchHit[] = [];
      for (const m of this.rows({ kind: 'unified' }, false)) {
        const subjectMatches = findSpans(m.subject, needle);
        const snippetMatches = findSpans(m.snippet, needle);
        const fromMatch = [m.from.address, m.from.name ?? ''].some((s) => s.toLowerCase().includes(needle));
        if (subjectMatches.length || snippetMatches.length || fromMatch) {
          hits.push({ message: m, subjectMatches, snippetMatches });
          if (hits.length >= query.limit) break;
        }
      }
      // "Ranked": subject matches first, then newest.
      return hits.sort((a, b) => b.subjectMatches.length - a.subjectMatches.length);
    });
  }

  listFolders(accountId: number | null): Promise<Folder[]> {
    return this.record('listFolders', [accountId], () =>
      this.folderList.filter((f) => accountId === null || f.accountId === accountId),
    );
  }

  private render(id: number): RenderedBody {
    const body = this.bodies.get(id) ?? plainBody(this.find(id));
    if (this.remoteAllowedMessages.has(id)) return rendered(body, true);
    const senderAllowed = this.settings.remoteContentSenders.includes(this.find(id).from.address.toLowerCase());
    if (senderAllowed && this.unauthenticatedMessages.has(id)) return rendered(body, false, true);
    return rendered(body, senderAllowed);
  }

  renderMessage(id: number): Promise<RenderedBody> {
    return this.record('renderMessage', [id], () => this.render(id));
  }

  allowRemote(scope: RemoteScope): Promise<RenderedBody | null> {
    return this.record('allowRemote', [scope], () => {
      if (scope.kind === 'message') {
        this.remoteAllowedMessages.add(scope.messageId);
        return this.render(scope.messageId);
      }
      const address = scope.address.toLowerCase();
      // A new array: the default settings' list is shared by every backend.
      if (!this.settings.remoteContentSenders.includes(address))
        this.settings.remoteContentSenders = [...this.settings.remoteContentSenders, address];
      return null;
    });
  }

  openLink(url: string): Promise<void> {
    return this.record('openLink', [url], () => {
      if (!/^(https?:|mailto:)/i.test(url)) {
        throw { code: 'refusedLink', message: 'Only http, https and mailto links open' } satisfies ApiError;
      }
    });
  }

  private update(ids: number[], patch: (m: MessageSummary) => void): void {
    for (const id of ids) patch(this.find(id));
    this.changed();
  }

  setUnread(ids: number[], unread: boolean): Promise<void> {
    return this.record('setUnread', [ids, unread], () => this.update(ids, (m) => (m.unread = unread)));
  }

  setStarred(ids: number[], starred: boolean): Promise<void> {
    return this.record('setStarred', [ids, starred], () => this.update(ids, (m) => (m.starred = starred)));
  }

  archiveMessages(ids: number[]): Promise<void> {
    return this.record('archiveMessages', [ids], () => this.update(ids, (m) => this.removed.add(m.id)));
  }

  trashMessages(ids: number[]): Promise<void> {
    return this.record('trashMessages', [ids], () => this.update(ids, (m) => this.removed.add(m.id)));
  }

  getSettings(): Promise<Settings> {
    return this.record('getSettings', [], () => this.settings);
  }

  updateSettings(settings: Settings): Promise<Settings> {
    return this.record('updateSettings', [settings], () => {
      const problem = settingsError(settings);
      if (problem) throw { code: 'invalidSetting', message: problem } satisfies ApiError;
      this.settings = {
        ...clone(settings),
        remoteContentSenders: [...new Set(settings.remoteContentSenders.map((s) => s.toLowerCase()))],
      };
      return this.settings;
    });
  }

  addAccount(input: AddAccount): Promise<Account> {
    return this.record('addAccount', [input], () => {
      const blank = (s: string | null) => !s || !s.trim();
      if (input.provider === 'ado' && (blank(input.organization) || blank(input.pat))) {
        throw { code: 'invalidInput', message: 'Azure DevOps needs an organization and a personal access token' };
      }
      if (input.provider !== 'ado' && blank(input.clientId)) {
        throw { code: 'invalidInput', message: 'A client id is needed to sign in' } satisfies ApiError;
      }
      const id = Math.max(0, ...this.accounts.map((a) => a.id)) + 1;
      const account: Account = {
        id,
        provider: input.provider,
        address: input.provider === 'ado' ? `${input.organization}` : `new${id}@example.com`,
        displayName: input.provider === 'ado' ? `${input.organization}` : `Account ${id}`,
        syncEnabled: true,
        state: 'active',
        demo: false,
      };
      this.accounts.push(account);
      return account;
    });
  }

  private account(accountId: number): Account {
    const a = this.accounts.find((x) => x.id === accountId);
    if (!a) throw notFound(`account ${accountId}`);
    return a;
  }

  reauthenticate(accountId: number): Promise<Account> {
    return this.record('reauthenticate', [accountId], () => {
      const a = this.account(accountId);
      a.state = 'active';
      queueMicrotask(() =>
        this.emit({ type: 'accountSync', data: { accountId, sync: { state: 'idle', lastSyncedAt: Date.now() } } }),
      );
      return a;
    });
  }

  removeAccount(accountId: number): Promise<void> {
    return this.record('removeAccount', [accountId], () => {
      this.account(accountId);
      this.accounts = this.accounts.filter((a) => a.id !== accountId);
      this.messages = this.messages.filter((m) => m.accountId !== accountId);
      this.changed();
    });
  }

  setAccountSync(accountId: number, enabled: boolean): Promise<Account> {
    return this.record('setAccountSync', [accountId, enabled], () => {
      const a = this.account(accountId);
      a.syncEnabled = enabled;
      return a;
    });
  }

  getDiagnostics(): Promise<Diagnostics> {
    return this.record('getDiagnostics', [], () => this.diagnostics());
  }

  /** A report shaped like `ember doctor`'s, from the mock's own state. */
  private diagnostics(): Diagnostics {
    const ok = (name: string, summary: string): Check => ({ name, health: 'ok', summary, advice: null });
    const checks: Check[] = [
      ok('version', 'Ember 0.1.0 (mock), SQLite 3.46.0, browser, schema 4'),
      ok('database', `${this.dataDir} (1.0 MB, WAL 0.0 MB); quick_check ok`),
      this.insecureStorage
        ? {
            name: 'secrets',
            health: 'problem',
            summary: `no keychain reachable (${this.insecureStorage}): sign-ins last until Ember quits`,
            advice: 'Start or unlock your keychain, or set EMBER_SECRET_STORE=file.',
          }
        : ok('secrets', 'kept in the OS keychain'),
      this.syncEnabled
        ? ok('sync', 'on')
        : { name: 'sync', health: 'warning', summary: 'switched off: nothing syncs', advice: 'Switch sync on from the tray or the window\'s header.' },
      ...this.accounts.map((a): Check => {
        const summary = `${a.provider} ${a.address}`;
        if (a.state === 'needsReauth') {
          return { name: `account ${a.id}`, health: 'problem', summary: `${summary}; not signed in`, advice: 'Sign in again: Settings → Accounts → Sign in again.' };
        }
        return ok(`account ${a.id}`, summary);
      }),
      ok('categoriser', `${this.classifier.message}; ${this.classifier.pending} messages waiting`),
      ok('logs', `${this.dataDir}/logs`),
    ];
    const mark = { ok: 'ok  ', warning: 'WARN', problem: 'FAIL' } as const;
    let report = 'Fireside Ember diagnostics (1 ms)\n';
    for (const c of checks) {
      report += `${mark[c.health]} ${c.name}: ${c.summary}\n`;
      if (c.advice) report += `     → ${c.advice}\n`;
    }
    for (const a of this.accounts) {
      const [local, domain] = a.address.split('@');
      if (domain !== undefined) report = report.replaceAll(a.address, `${local.slice(0, 1)}…@${domain}`);
    }
    return {
      generatedAt: Date.now(),
      version: '0.1.0',
      sqliteVersion: '3.46.0',
      platform: 'browser',
      dataDir: this.dataDir,
      logDir: `${this.dataDir}/logs`,
      schemaVersion: 4,
      databaseBytes: 1_048_576,
      walBytes: 0,
      quickCheck: 'ok',
      modelDir: `${this.dataDir}/models/all-MiniLM-L6-v2`,
      modelPresent: true,
      modelSha256: null,
      modelChecksumOk: true,
      secretStorage: this.insecureStorage ? `memory (${this.insecureStorage})` : 'keychain',
      accounts: this.accounts.map((a) => ({
        id: a.id,
        provider: a.provider,
        address: a.address,
        state: a.state,
        syncEnabled: a.syncEnabled,
        signedIn: a.state !== 'needsReauth',
        lastSyncedAt: null,
        lastErrorCode: null,
        lastError: null,
        cursorUpdatedAt: null,
        outbox: 0,
      })),
      outboxDepth: 0,
      categoriserBacklog: this.classifier.pending,
      categoriser: this.classifier.message,
      checks,
      report,
      tookMs: 1,
    };
  }

  moveToCategory(ids: number[], category: Category): Promise<void> {
    return this.record('moveToCategory', [ids, category], () =>
      this.update(ids, (m) => {
        m.category = category;
        m.categoryConfidence = 1;
      }),
    );
  }

  explainCategory(id: number): Promise<CategoryExplanation> {
    return this.record('explainCategory', [id], () => {
      const stored = this.explanations.get(id);
      if (stored) return stored;
      const m = this.find(id);
      const like = this.messages.filter((x) => x.id !== id && x.category === m.category).slice(0, 3);
      return {
        category: m.category,
        confidence: m.categoryConfidence,
        source: m.category === null ? null : m.categoryConfidence === 1 ? 'user' : 'model',
        spam: m.spam ?? false,
        neighbours: like.map((x, i) => ({
          subject: x.subject,
          from: x.from.address,
          category: x.category as Category,
          similarity: 0.9 - i * 0.07,
        })),
        reason: m.category === null ? 'Not categorised yet' : `Like ${like.length} messages you filed under ${m.category}`,
      };
    });
  }

  /** Azure DevOps' notification about an item that is synced: folded under the item when the setting says so. */
  private folded(m: MessageSummary): boolean {
    if (m.from.address.toLowerCase() !== NOTIFICATION_SENDER) return false;
    const refs = findWorkItemRefs(m, '');
    return refs.some((r) => r.source === 'notification' && this.workItems.some((w) => w.itemId === r.itemId));
  }

  private workItem(id: number): WorkItem {
    const w = this.workItems.find((x) => x.id === id);
    if (!w) throw notFound(`work item ${id}`);
    return w;
  }

  private extras(id: number): MockWorkItemExtras {
    let e = this.workItemExtras.get(id);
    if (!e) {
      e = {};
      this.workItemExtras.set(id, e);
    }
    return e;
  }

  private allowedStates(w: WorkItem): string[] {
    return this.workItemStates[w.itemType] ?? [];
  }

  /** The work items message `m` refers to. */
  private refsOf(m: MessageSummary) {
    const body = this.bodies.get(m.id)?.blocked ?? '';
    return mayReferToWorkItems(m, body) ? findWorkItemRefs(m, body) : [];
  }

  /** Mail about `w`, newest first, at most 50. */
  private mailAbout(w: WorkItem): MessageSummary[] {
    return this.messages
      .filter((m) => !this.removed.has(m.id) && this.refsOf(m).some((r) => r.itemId === w.itemId))
      .sort(compareNewestFirst)
      .slice(0, 50);
  }

  private workItemDetail(id: number): WorkItemDetail {
    const item = this.workItem(id);
    const e = this.extras(id);
    return {
      item,
      createdBy: e.createdBy ?? null,
      description: e.description ? rendered({ blocked: e.description, allowed: e.description, remoteBlocked: 0 }, false) : null,
      comments: e.comments ?? [],
      history: e.history ?? [],
      related: (e.related ?? []).map((r) => ({
        rel: r.rel,
        itemId: r.itemId,
        item: this.workItems.find((w) => w.itemId === r.itemId && w.accountId === item.accountId) ?? null,
      })),
      mail: this.mailAbout(item),
      allowedStates: this.allowedStates(item),
      conflict: e.conflict ?? null,
    };
  }

  /** What Rust's store does with an edit at once: the fields change, a comment waits for the service. */
  private applyLocally(w: WorkItem, edit: WorkItemEdit): void {
    if (edit.kind === 'setState') w.state = edit.state;
    if (edit.kind === 'assign') w.assignedTo = edit.to;
    if (edit.kind === 'setPriority') w.priority = edit.priority;
  }

  private queue(w: WorkItem, edit: WorkItemEdit): void {
    this.workItemOutbox.push({ entry: this.nextEntry++, id: w.id, edit, rev: w.rev });
    w.pendingEdits += 1;
    if (this.workItemSendMs !== null) setTimeout(() => this.sendWorkItemEdits(), this.workItemSendMs);
  }

  private dataChanged(accountId: number | null): void {
    queueMicrotask(() => this.emit({ type: 'dataChanged', data: { accountId } }));
  }

  /** "Sends" every queued edit: Azure DevOps accepts them, revisions move on, comments appear. */
  sendWorkItemEdits(): void {
    const sent = this.workItemOutbox.splice(0);
    if (sent.length === 0) return;
    for (const { id, edit } of sent) {
      const w = this.workItems.find((x) => x.id === id);
      if (!w) continue;
      const e = this.extras(id);
      const now = Date.now();
      w.rev += 1;
      w.changedDate = now;
      w.pendingEdits = Math.max(0, w.pendingEdits - 1);
      if (edit.kind === 'setState') {
        e.history = [...(e.history ?? []), { rev: w.rev, state: edit.state, changedBy: this.userName, changedAt: now }];
      }
      if (edit.kind === 'comment') {
        const html = edit.text
          .split(/\n{2,}/)
          .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
          .join('');
        e.comments = [...(e.comments ?? []), { author: this.userName, createdAt: now, html }];
      }
    }
    this.changed();
    this.emit({ type: 'dataChanged', data: { accountId: null } });
  }

  listWorkItems(query: WorkItemQuery): Promise<WorkItem[]> {
    return this.record('listWorkItems', [query], () => {
      const search = parseWorkSearch(query.search ?? '');
      return this.workItems
        .filter((w) => query.accountId === null || w.accountId === query.accountId)
        .filter((w) => query.membership === null || w.memberships.includes(query.membership))
        .filter((w) => matchesWorkSearch(w, search, this.workItemExtras.get(w.id)?.description ?? ''))
        .sort((a, b) => b.changedDate - a.changedDate || b.id - a.id)
        .slice(0, query.limit);
    });
  }

  getWorkItem(id: number): Promise<WorkItemDetail> {
    return this.record('getWorkItem', [id], () => this.workItemDetail(id));
  }

  refreshWorkItem(id: number): Promise<WorkItemDetail> {
    return this.record('refreshWorkItem', [id], () => {
      const w = this.workItem(id);
      const e = this.extras(id);
      if (e.remote) {
        const { comments, history, item } = e.remote;
        if (comments) e.comments = [...(e.comments ?? []), ...comments];
        if (history) e.history = [...(e.history ?? []), ...history];
        if (item) Object.assign(w, item);
        delete e.remote;
        this.dataChanged(w.accountId);
      }
      return this.workItemDetail(id);
    });
  }

  editWorkItem(id: number, edit: WorkItemEdit): Promise<WorkItem> {
    return this.record('editWorkItem', [id, edit], () => {
      const w = this.workItem(id);
      const checked = checkEdit(w, edit, this.allowedStates(w));
      this.applyLocally(w, checked);
      this.queue(w, checked);
      this.dataChanged(w.accountId);
      return w;
    });
  }

  resolveWorkItemConflict(id: number, choice: ConflictChoice): Promise<WorkItemDetail> {
    return this.record('resolveWorkItemConflict', [id, choice], () => {
      const w = this.workItem(id);
      const e = this.extras(id);
      const conflict = e.conflict;
      if (!conflict) throw notFound('conflict');
      e.conflict = null;
      w.conflict = false;
      if (choice === 'reapply') {
        this.applyLocally(w, conflict.edit);
        this.queue(w, conflict.edit);
      }
      this.dataChanged(w.accountId);
      return this.workItemDetail(id);
    });
  }

  linkedWorkItems(messageId: number): Promise<LinkedWorkItem[]> {
    return this.record('linkedWorkItems', [messageId], () =>
      this.refsOf(this.find(messageId)).map((r) => ({
        itemId: r.itemId,
        source: r.source,
        item: this.workItems.find((w) => w.itemId === r.itemId) ?? null,
      })),
    );
  }

  // ---- writing mail ----------------------------------------------------------

  private draft(id: number): Draft {
    const d = this.drafts.get(id);
    if (!d) throw notFound(`draft ${id}`);
    return d;
  }

  /** Rust's store refuses changes to a draft that is queued or sent. */
  private editable(id: number): Draft {
    const d = this.draft(id);
    if (d.state === 'queued') {
      throw { code: 'conflict', message: 'this message is waiting to be sent: undo the send to change it' } satisfies ApiError;
    }
    if (d.state === 'sending' || d.state === 'sent') {
      throw { code: 'conflict', message: 'this message has already been sent' } satisfies ApiError;
    }
    return d;
  }

  private touch(d: Draft): void {
    d.state = 'editing';
    d.error = null;
    d.updatedAt = Date.now();
    d.synced = false;
  }

  private mailAccount(accountId: number | null, fallback: number | null): Account {
    const id = accountId ?? fallback ?? this.accounts.find((a) => a.provider !== 'ado')?.id ?? null;
    if (id === null) throw { code: 'invalidInput', message: 'add a mail account to write mail' } satisfies ApiError;
    const account = this.account(id);
    if (account.provider === 'ado') {
      throw { code: 'invalidInput', message: 'an Azure DevOps account does not send mail' } satisfies ApiError;
    }
    return account;
  }

  private newDraft(account: Account, fields: Partial<Draft>): Draft {
    const id = this.nextDraftId++;
    const draft: Draft = {
      id,
      accountId: account.id,
      from: account.address,
      kind: 'new',
      sourceMessageId: null,
      to: [],
      cc: [],
      bcc: [],
      subject: '',
      bodyHtml: '',
      attachments: [],
      state: 'editing',
      error: null,
      sendAt: null,
      messageIdHeader: `${Date.now().toString(16)}.${id}.ember@${account.address.split('@')[1] ?? 'ember.invalid'}`,
      synced: false,
      updatedAt: Date.now(),
      ...fields,
    };
    this.drafts.set(id, draft);
    return draft;
  }

  /** The message a reply or forward starts from, with its body as HTML. */
  private original(id: number): MockOriginal {
    const d = this.detail(id);
    const body = this.bodies.get(id)?.blocked;
    const html = body ?? `<div style="white-space:pre-wrap">${escapeHtml(d.bodyText ?? d.summary.snippet)}</div>`;
    return { from: d.summary.from, to: d.to, cc: d.cc, date: d.summary.date, subject: d.summary.subject, html };
  }

  compose(request: ComposeRequest): Promise<Draft> {
    return this.record('compose', [request], () => {
      if (request.kind === 'new') {
        const account = this.mailAccount(request.accountId, null);
        return this.newDraft(account, {
          bodyHtml: `<p><br></p>${signatureHtml(this.settings.signatures[String(account.id)])}`,
        });
      }
      if (request.messageId === null) {
        throw { code: 'invalidInput', message: 'a reply or forward needs the message it answers' } satisfies ApiError;
      }
      const source = this.find(request.messageId);
      const account = this.mailAccount(request.accountId, source.accountId);
      const original = this.original(source.id);
      const { to, cc } = replyRecipients(request.kind, original, account.address);
      const signature = signatureHtml(this.settings.signatures[String(account.id)]);
      return this.newDraft(account, {
        kind: request.kind,
        sourceMessageId: source.id,
        to,
        cc,
        subject: request.kind === 'forward' ? forwardSubject(source.subject) : replySubject(source.subject),
        bodyHtml: `<p><br></p>${signature}${quoteHtml(request.kind, original)}`,
      });
    });
  }

  openDraft(messageId: number): Promise<Draft> {
    return this.record('openDraft', [messageId], () => {
      const existing = [...this.drafts.values()].find(
        (d) => d.state !== 'sent' && d.kind === 'new' && d.sourceMessageId === messageId,
      );
      if (existing) return existing;
      const d = this.detail(messageId);
      const account = this.account(d.summary.accountId);
      const body = this.bodies.get(messageId)?.blocked;
      return this.newDraft(account, {
        to: d.to,
        cc: d.cc,
        subject: d.summary.subject,
        // The mock keeps the message it came from here, so opening it again finds the same draft.
        sourceMessageId: messageId,
        bodyHtml: body ?? `<div style="white-space:pre-wrap">${escapeHtml(d.bodyText ?? d.summary.snippet)}</div>`,
        synced: true,
      });
    });
  }

  getDraft(id: number): Promise<Draft> {
    return this.record('getDraft', [id], () => this.draft(id));
  }

  listDrafts(accountId: number | null): Promise<Draft[]> {
    return this.record('listDrafts', [accountId], () =>
      [...this.drafts.values()]
        .filter((d) => d.state !== 'sent' && (accountId === null || d.accountId === accountId))
        .sort((a, b) => b.updatedAt - a.updatedAt || b.id - a.id),
    );
  }

  saveDraft(id: number, edit: DraftEdit): Promise<Draft> {
    return this.record('saveDraft', [id, edit], () => {
      const d = this.editable(id);
      if (edit.to.length + edit.cc.length + edit.bcc.length > 500) {
        throw { code: 'invalidInput', message: 'a message may have at most 500 recipients' } satisfies ApiError;
      }
      Object.assign(d, clone(edit));
      this.touch(d);
      return d;
    });
  }

  attachFile(id: number, file: AttachedFile): Promise<Draft> {
    const size = file.bytes.byteLength;
    return this.record('attachFile', [id, { name: file.name, type: file.type, size }], () => {
      const d = this.editable(id);
      const name = file.name.trim();
      if (!name || [...name].length > 255) {
        throw { code: 'invalidInput', message: 'a file name must have 1 to 255 characters' } satisfies ApiError;
      }
      const sizes: [string, number][] = [...d.attachments.map((a): [string, number] => [a.filename, a.size]), [name, size]];
      const problem = sizeError(sizeLimits(this.account(d.accountId).provider), sizes);
      if (problem) throw { code: 'tooLarge', message: problem } satisfies ApiError;
      d.attachments.push({
        id: this.nextAttachmentId++,
        filename: name,
        contentType: file.type.trim() || 'application/octet-stream',
        size,
      });
      this.touch(d);
      return d;
    });
  }

  detachFile(id: number, attachmentId: number): Promise<Draft> {
    return this.record('detachFile', [id, attachmentId], () => {
      const d = this.editable(id);
      if (!d.attachments.some((a) => a.id === attachmentId)) throw notFound(`attachment ${attachmentId}`);
      d.attachments = d.attachments.filter((a) => a.id !== attachmentId);
      this.touch(d);
      return d;
    });
  }

  sendDraft(id: number): Promise<Draft> {
    return this.record('sendDraft', [id], () => {
      const d = this.editable(id);
      const everyone = [...d.to, ...d.cc, ...d.bcc];
      if (everyone.length === 0) throw { code: 'invalidInput', message: 'add at least one recipient' } satisfies ApiError;
      const bad = everyone.find((a) => !validAddress(a.address));
      if (bad) throw { code: 'invalidInput', message: `"${bad.address}" is not an email address` } satisfies ApiError;
      const problem = sizeError(
        sizeLimits(this.account(d.accountId).provider),
        d.attachments.map((a) => [a.filename, a.size]),
      );
      if (problem) throw { code: 'tooLarge', message: problem } satisfies ApiError;
      d.state = 'queued';
      d.error = null;
      d.sendAt = Date.now() + this.settings.undoSendSeconds * 1000;
      d.updatedAt = Date.now();
      if (this.autoSendDrafts) setTimeout(() => this.sendDueDrafts(), Math.max(0, d.sendAt - Date.now()) + 10);
      this.dataChanged(d.accountId);
      return d;
    });
  }

  undoSend(id: number): Promise<Draft> {
    return this.record('undoSend', [id], () => {
      const d = this.draft(id);
      if (d.state !== 'queued') {
        throw { code: 'conflict', message: 'too late to undo: the message has been sent' } satisfies ApiError;
      }
      d.state = 'editing';
      d.sendAt = null;
      d.updatedAt = Date.now();
      this.dataChanged(d.accountId);
      return d;
    });
  }

  discardDraft(id: number): Promise<void> {
    return this.record('discardDraft', [id], () => {
      const d = this.editable(id);
      this.drafts.delete(id);
      this.dataChanged(d.accountId);
    });
  }

  /** "Sends" every queued draft whose undo window has closed: into Sent, or failed for a bouncing address. */
  sendDueDrafts(now = Date.now()): void {
    let changed = false;
    for (const d of this.drafts.values()) {
      if (d.state !== 'queued' || (d.sendAt ?? 0) > now) continue;
      changed = true;
      const bounce = [...d.to, ...d.cc, ...d.bcc].find((a) => a.address.toLowerCase().endsWith(`@${this.bounceDomain}`));
      if (bounce) {
        d.state = 'failed';
        d.error = `550 5.1.1 ${bounce.address}: no such user`;
        d.sendAt = null;
        continue;
      }
      d.state = 'sent';
      d.updatedAt = now;
      this.sentDrafts.push(clone(d));
      this.fileSent(d, now);
    }
    if (!changed) return;
    this.changed();
    this.emit({ type: 'dataChanged', data: { accountId: null } });
  }

  /** The sent message as a row of the account's Sent folder, in its conversation. */
  private fileSent(d: Draft, now: number): void {
    const source = d.sourceMessageId === null ? null : this.messages.find((m) => m.id === d.sourceMessageId);
    const id = Math.max(0, ...this.messages.map((m) => m.id)) + 1;
    const account = this.account(d.accountId);
    this.messages.push({
      id,
      accountId: d.accountId,
      threadId: d.kind === 'reply' || d.kind === 'replyAll' ? (source?.threadId ?? null) : null,
      subject: d.subject,
      from: { name: account.displayName, address: account.address },
      date: now,
      snippet: htmlText(d.bodyHtml).slice(0, 140),
      unread: false,
      starred: false,
      hasAttachments: d.attachments.length > 0,
      category: null,
      categoryConfidence: null,
      threadSize: 1,
      spam: false,
    });
    this.details.set(id, {
      summary: this.messages.at(-1) as MessageSummary,
      to: d.to,
      cc: d.cc,
      folders: ['Sent'],
      bodyText: htmlText(d.bodyHtml),
      html: false,
      attachments: d.attachments.map((a) => ({ id: a.id, filename: a.filename, mimeType: a.contentType, size: a.size })),
    });
    const sent = this.folderList.find((f) => f.accountId === d.accountId && f.role === 'sent');
    if (sent) {
      let ids = this.folders.get(sent.id);
      if (!ids) {
        ids = new Set();
        this.folders.set(sent.id, ids);
      }
      ids.add(id);
      sent.total += 1;
    }
  }

  suggestContacts(prefix: string, limit: number): Promise<Contact[]> {
    return this.record('suggestContacts', [prefix, limit], () => {
      const book = new ContactBook();
      const own = new Set(this.accounts.map((a) => a.address.toLowerCase()));
      for (const m of this.messages) {
        if (!own.has(m.from.address.toLowerCase())) book.received(m.from, m.date);
      }
      for (const d of this.sentDrafts) {
        for (const a of [...d.to, ...d.cc, ...d.bcc]) book.sent(a, d.updatedAt);
      }
      return book.suggest(prefix, Math.max(1, Math.min(limit, 50)), own);
    });
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
