// Live app status (sync switch, accounts and their sync state): fetched once,
// then kept current from backend events; keeps one toast per account for sync
// failures (with "Retry" or "Re-authenticate") and new mail.
import type { AccountStatus } from '../../bindings/AccountStatus';
import type { SyncState } from '../../bindings/SyncState';
import type { Backend } from '../backend/backend';
import type { ApiError } from '../../bindings/ApiError';
import type { Event as BackendEvent } from '../../bindings/Event';
import type { Status } from '../../bindings/Status';
import { toApiError } from '../backend/errors';
import { debounce } from '../debounce';
import type { NotificationStore } from './notifications.svelte';
import { subscribe } from './subscribe';

export class StatusStore {
  status = $state<Status | null>(null);
  error = $state<ApiError | null>(null);

  /** Events that arrived before the first snapshot; replayed on top of it. */
  private pending: BackendEvent[] | null = [];
  private readonly refreshSoon;

  constructor(
    private readonly backend: Backend,
    private readonly notifications: NotificationStore,
    refreshDebounceMs: number,
  ) {
    this.refreshSoon = debounce(() => void this.refresh(), refreshDebounceMs);
  }

  get syncEnabled(): boolean {
    return this.status?.syncEnabled ?? false;
  }

  get accounts(): AccountStatus[] {
    return this.status?.accounts ?? [];
  }

  /** Subscribes, fetches the first snapshot, and returns the unsubscribe. */
  start(): () => void {
    const stop = subscribe(
      this.backend,
      (e) => {
        if (this.pending) this.pending.push(e);
        else this.apply(e);
      },
      (err) => this.fail('Live updates unavailable', err),
    );
    void this.refresh();
    return () => {
      stop();
      this.refreshSoon.cancel();
    };
  }

  async refresh(): Promise<void> {
    try {
      this.applySnapshot(await this.backend.getStatus());
      this.error = null;
    } catch (err) {
      this.error = toApiError(err);
      this.fail('Could not load status', err);
    }
    const buffered = this.pending;
    this.pending = null;
    buffered?.forEach((e) => this.apply(e));
  }

  async setSyncEnabled(enabled: boolean): Promise<void> {
    const status = this.status;
    if (!status) return;
    const previous = status.syncEnabled;
    status.syncEnabled = enabled;
    try {
      this.applySnapshot(await this.backend.setSyncEnabled(enabled));
    } catch (err) {
      if (this.status) this.status.syncEnabled = previous;
      this.fail(enabled ? 'Could not turn sync on' : 'Could not turn sync off', err);
    }
  }

  async syncNow(accountId: number | null = null): Promise<void> {
    try {
      await this.backend.syncNow(accountId);
    } catch (err) {
      this.fail('Could not start a sync', err);
    }
  }

  /** Signs an account in again (the backend opens the system browser), then refreshes. */
  async reauthenticate(accountId: number): Promise<void> {
    try {
      await this.backend.reauthenticate(accountId);
      this.notifications.dismiss(accountKey(accountId));
      await this.refresh();
    } catch (err) {
      this.fail('Could not sign in again', err);
    }
  }

  private apply(event: BackendEvent): void {
    switch (event.type) {
      case 'syncEnabledChanged':
        if (this.status) this.status.syncEnabled = event.data.enabled;
        break;
      case 'accountSync': {
        const entry = this.accounts.find((a) => a.account.id === event.data.accountId);
        if (!entry) {
          this.refreshSoon(); // an account we have not seen yet
          break;
        }
        entry.sync = event.data.sync;
        this.notifySync(entry, event.data.sync);
        break;
      }
      case 'dataChanged':
        this.refreshSoon();
        break;
      case 'newMail': {
        const entry = this.accounts.find((a) => a.account.id === event.data.accountId);
        const name = entry ? entry.account.displayName || entry.account.address : 'Mail';
        const first = event.data.primary[0];
        this.notifications.show({
          key: `new-mail:${event.data.accountId}`,
          kind: 'info',
          title: `${name}: ${event.data.count} new ${event.data.count === 1 ? 'message' : 'messages'}`,
          message: first ? `${first.from.name || first.from.address}: ${first.subject}` : '',
        });
        this.refreshSoon();
        break;
      }
    }
  }

  private applySnapshot(next: Status): void {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local lookup, never rendered
    const before = new Map(this.accounts.map((a) => [a.account.id, a.sync]));
    this.status = next;
    for (const entry of this.accounts) {
      const prev = before.get(entry.account.id);
      const changed = !prev || JSON.stringify(prev) !== JSON.stringify(entry.sync);
      if (changed) this.notifySync(entry, entry.sync);
    }
  }

  private notifySync(entry: AccountStatus, sync: SyncState): void {
    const id = entry.account.id;
    const name = entry.account.displayName || entry.account.address;
    if (sync.state === 'error') {
      this.notifications.show({
        key: accountKey(id),
        kind: 'error',
        title: `${name}: sync failed`,
        message: sync.message,
        code: sync.code,
        action: { label: 'Retry', run: () => void this.syncNow(id) },
      });
    } else if (sync.state === 'needsReauth') {
      this.notifications.show({
        key: accountKey(id),
        kind: 'reauth',
        title: `${name}: sign in again`,
        message: sync.message,
        persistent: true,
        action: { label: 'Re-authenticate', run: () => void this.reauthenticate(id) },
      });
    } else if (sync.state === 'syncing' || (sync.state === 'idle' && sync.lastSyncedAt !== null)) {
      // Progress or success supersedes a stale sign-in request; a fresh error toast fades on its own.
      const shown = this.notifications.toasts.find((t) => t.key === accountKey(id));
      if (shown?.kind === 'reauth') this.notifications.dismiss(accountKey(id));
    }
  }

  private fail(title: string, err: unknown): void {
    const e = toApiError(err);
    this.notifications.show({ key: `app:${title}`, kind: 'error', title, message: e.message, code: e.code });
  }
}

/** One toast per account: a newer failure replaces the older one. */
const accountKey = (accountId: number) => `account:${accountId}`;
