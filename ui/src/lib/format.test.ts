// Date and status wording users read in the list and sidebar.
import { describe, expect, it } from 'vitest';
import { accountStateLabel, relativeTime, senderLabel } from './format';
import { account } from '../test/fixtures';

const NOW = Date.UTC(2025, 5, 15, 12, 0, 0);
const MIN = 60_000;

describe('relativeTime', () => {
  // Compare against Intl in the machine's own locale so the test holds anywhere.
  const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

  it('reads naturally for recent mail and falls back to a date', () => {
    expect(relativeTime(NOW - 10_000, NOW)).toBe('just now');
    expect(relativeTime(NOW + 5 * MIN, NOW)).toBe('just now');
    expect(relativeTime(NOW - 5 * MIN, NOW)).toBe(rel.format(-5, 'minute'));
    expect(relativeTime(NOW - 3 * 60 * MIN, NOW)).toBe(rel.format(-3, 'hour'));
    expect(relativeTime(NOW - 24 * 60 * MIN, NOW)).toBe(rel.format(-1, 'day'));
    expect(relativeTime(Date.UTC(2025, 1, 3, 12), NOW)).not.toMatch(/2025/);
    expect(relativeTime(Date.UTC(2023, 1, 3, 12), NOW)).toMatch(/2023/);
  });
});

describe('labels', () => {
  it('prefers a sender name over the address', () => {
    expect(senderLabel({ name: 'Ada', address: 'a@x' })).toBe('Ada');
    expect(senderLabel({ name: '  ', address: 'a@x' })).toBe('a@x');
    expect(senderLabel({ name: null, address: 'a@x' })).toBe('a@x');
  });

  it('summarises account and sync state in one line', () => {
    const a = account(1);
    expect(accountStateLabel({ account: a, sync: { state: 'idle', lastSyncedAt: null } }, NOW)).toBe('Not synced yet');
    expect(accountStateLabel({ account: a, sync: { state: 'idle', lastSyncedAt: NOW - 5 * MIN } }, NOW)).toMatch(/^Synced /);
    expect(accountStateLabel({ account: a, sync: { state: 'paused' } }, NOW)).toBe('Paused');
    expect(
      accountStateLabel({ account: { ...a, state: 'disabled' }, sync: { state: 'idle', lastSyncedAt: null } }, NOW),
    ).toBe('Disabled');
    expect(accountStateLabel({ account: a, sync: { state: 'needsReauth', message: 'x' } }, NOW)).toBe(
      'Sign-in needed',
    );
  });
});
