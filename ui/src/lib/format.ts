// Human-readable labels: relative/absolute dates, sender names, provider,
// sync phase and account-state text shown in the sidebar and notifications.
import type { AccountStatus } from '../bindings/AccountStatus';
import type { Address } from '../bindings/Address';
import type { ProviderKind } from '../bindings/ProviderKind';
import type { SyncPhase } from '../bindings/SyncPhase';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const sameYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const otherYear = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** "just now", "5 min. ago", "3 hr. ago", "yesterday", then a short date. */
export function relativeTime(ms: number, now: number): string {
  const diff = now - ms;
  if (diff < MINUTE) return 'just now';
  if (diff < HOUR) return relative.format(-Math.floor(diff / MINUTE), 'minute');
  if (diff < DAY) return relative.format(-Math.floor(diff / HOUR), 'hour');
  if (diff < 7 * DAY) return relative.format(-Math.floor(diff / DAY), 'day');
  const date = new Date(ms);
  return (date.getFullYear() === new Date(now).getFullYear() ? sameYear : otherYear).format(date);
}

export function absoluteTime(ms: number): string {
  return absolute.format(new Date(ms));
}

export function senderLabel(from: Address): string {
  return from.name?.trim() || from.address;
}

const PROVIDERS: Record<ProviderKind, { label: string; short: string }> = {
  gmail: { label: 'Gmail', short: 'G' },
  graph: { label: 'Microsoft 365', short: 'M' },
  ado: { label: 'Azure DevOps', short: 'A' },
};

export function providerLabel(p: ProviderKind): string {
  return PROVIDERS[p]?.label ?? p;
}

export function providerShort(p: ProviderKind): string {
  return PROVIDERS[p]?.short ?? '?';
}

const PHASES: Record<SyncPhase, string> = {
  connecting: 'Connecting',
  folders: 'Listing folders',
  headers: 'Fetching headers',
  bodies: 'Downloading messages',
  workItems: 'Fetching work items',
  categorising: 'Categorising',
};

export function phaseLabel(phase: SyncPhase): string {
  return PHASES[phase] ?? phase;
}

/** One short line about an account: its own state first, then its sync. */
export function accountStateLabel(entry: AccountStatus, now: number): string {
  const { account, sync } = entry;
  if (account.state === 'disabled') return 'Disabled';
  if (account.state === 'needsReauth' || sync.state === 'needsReauth') return 'Sign-in needed';
  switch (sync.state) {
    case 'syncing':
      return 'Syncing…';
    case 'error':
      return 'Sync failed';
    case 'paused':
      return 'Paused';
    case 'idle':
      return sync.lastSyncedAt === null ? 'Not synced yet' : `Synced ${relativeTime(sync.lastSyncedAt, now)}`;
  }
}
