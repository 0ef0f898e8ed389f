// Run after a spec that ran with a real Secret Service (run.sh's `keyring:`
// prefix: gnome-keyring unlocked in the spec's D-Bus session), while that
// session still exists: the sign-ins the app made are entries in the keyring,
// filed under Ember's service name with the profile-scoped keys of the
// accounts it signed in, and a second process (the `ember` CLI's doctor)
// reads them from there. This is the path desktop users take; the same specs
// without the prefix run with no keychain reachable.
//
// Env: EMBER_BIN (the ember CLI), EMBER_DATA_DIR (the data directory the app
//      used).
import { execFileSync, spawnSync } from 'node:child_process';
import { check, runSpec, step, usage as fail } from './checks.mjs';

/** @param {string} message @returns {never} */
const usage = (message) => fail('keyring', message);

const bin = process.env.EMBER_BIN || usage('EMBER_BIN is not set (the ember CLI binary)');
const dataDir = process.env.EMBER_DATA_DIR || usage('EMBER_DATA_DIR is not set (the data directory the app used)');

/** The keychain service name Ember files its entries under (src/auth/secrets.rs). */
const SERVICE = 'dev.fireside.ember';

/**
 * The `username` attribute of every item filed under SERVICE, as
 * `secret-tool search` lists them. It prints the attributes on stderr and
 * the secrets on stdout, which is not read.
 */
function keyringUsernames() {
  const run = spawnSync('secret-tool', ['search', '--all', 'service', SERVICE], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (run.error) throw run.error;
  if (run.status !== 0 && run.status !== 1) throw new Error(`secret-tool exited ${run.status}: ${run.stderr}`);
  return [...run.stderr.matchAll(/^attribute\.username = (.*)$/gm)].map((m) => m[1]);
}

/** The doctor's report, from a process of its own. */
function doctor() {
  const out = execFileSync(bin, ['--data-dir', dataDir, 'doctor', '--json'], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out);
}

runSpec(async () => {
  step(`the sign-ins are in the Secret Service, under ${SERVICE}`);
  const report = await check('the ember CLI, a second process, finds the secrets in the keychain', () => {
    const r = doctor();
    if (r.secretStorage !== 'keychain') throw new Error(`the doctor says secrets are kept in: ${r.secretStorage}`);
    if (!Array.isArray(r.accounts) || r.accounts.length < 3) {
      throw new Error(`expected the three demo accounts, the doctor lists ${r.accounts?.length}`);
    }
    /** @type {{ id: number, provider: string, signedIn: boolean | null }[]} */
    const accounts = r.accounts;
    const out = accounts.filter((a) => a.signedIn !== true);
    if (out.length > 0) {
      throw new Error(`not signed in from the keychain: ${out.map((a) => `${a.provider} ${a.id} (${a.signedIn})`).join(', ')}`);
    }
    return accounts;
  });
  if (!report.ok) return;
  await check("secret-tool lists each account's credential under a key scoped to the profile", () => {
    const names = keyringUsernames();
    if (names.length === 0) throw new Error(`no item under service=${SERVICE}`);
    const missing = report.value.filter(
      (a) => !names.some((n) => /^profile:[^:]+:account:(\d+):(tokens|pat)$/.exec(n)?.[1] === String(a.id)),
    );
    if (missing.length > 0) {
      throw new Error(
        `no keyring entry for account(s) ${missing.map((a) => a.id).join(', ')}; entries: ${names.join(', ')}`,
      );
    }
  });
});
