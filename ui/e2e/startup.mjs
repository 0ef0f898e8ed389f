// Start-up problems said in a window (issue 16, finding 11): the real app
// started on a profile it cannot use shows a window saying what happened and
// what to do, and leaves the data as it was.
//   1. The profile is held by another program (here `flock` on the profile's
//      lock file, as `ember sync` would hold it): "Your mail is being synced
//      by another program", and no database is created behind it.
//   2. The database is from a newer version (a migration this version does
//      not know, added with python3's sqlite3): "This profile is from a newer
//      Fireside Ember", and the database file is byte-identical afterwards.
//
// Env: EMBER_APP (absolute path of the app binary), EMBER_BIN (the ember
//      CLI, which creates the profile), EMBER_DATA_DIR (an empty data
//      directory: the app reads it from the environment), TAURI_DRIVER_PORT
//      (default 4444).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { remote } from 'webdriverio';
import { check, runSpec, step, usage as fail } from './checks.mjs';

/** @param {string} message @returns {never} */
const usage = (message) => fail('startup', message);

const app = process.env.EMBER_APP || usage('EMBER_APP is not set');
const bin = process.env.EMBER_BIN || usage('EMBER_BIN is not set');
const data = process.env.EMBER_DATA_DIR || usage('EMBER_DATA_DIR is not set');
const port = Number(process.env.TAURI_DRIVER_PORT || 4444);
const database = path.join(data, 'ember.sqlite3');
const lockFile = path.join(data, 'ember.lock');
const capabilities = /** @type {Parameters<typeof remote>[0]['capabilities']} */ (
  /** @type {unknown} */ ({ 'wdio:enforceWebDriverClassic': true, 'tauri:options': { application: app } })
);

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} file */
const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Starts the app, waits for its problem window and returns what it says.
 * @returns {Promise<{ title: string, detail: string, action: string }>}
 */
async function problemWindow() {
  const b = await remote({ hostname: '127.0.0.1', port, logLevel: 'warn', capabilities });
  try {
    const title = await b.$('#problem-title');
    await title.waitForExist({ timeout: 30_000 });
    return {
      title: await title.getText(),
      detail: await b.$('#problem-detail').getText(),
      action: await b.$('#problem-action').getText(),
    };
  } finally {
    await b.deleteSession().catch(() => {});
  }
}

await runSpec(async () => {
  step('the profile held by another program');
  // flock(1) holds the same advisory lock the app takes (flock(2) on Linux).
  // Its own process group: flock's child (sleep) holds the lock too, and
  // both end with the group.
  const holder = spawn('flock', ['--nonblock', lockFile, 'sleep', '120'], { stdio: 'ignore', detached: true });
  try {
    await sleep(300);
    if (holder.exitCode !== null) throw new Error(`flock could not take ${lockFile} (exit ${holder.exitCode})`);
    const said = await problemWindow();
    await check('the window says another program is syncing this profile', () => {
      if (said.title !== 'Your mail is being synced by another program') throw new Error(JSON.stringify(said));
      if (!said.detail.includes(data)) throw new Error(`the detail names no folder: ${said.detail}`);
      if (!/start Fireside Ember again/.test(said.action)) throw new Error(`no action: ${said.action}`);
    });
    await check('nothing was opened behind the lock: no database was created', () => {
      if (existsSync(database)) throw new Error(`${database} exists`);
    });
  } finally {
    if (holder.pid) process.kill(-holder.pid);
  }

  step('a database from a newer version');
  execFileSync(bin, ['--data-dir', data, 'status', '--json'], { stdio: 'ignore', timeout: 30_000 });
  execFileSync(
    'python3',
    [
      '-c',
      `import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'from the future', 1, x'00', 0)")
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()`,
      database,
    ],
    { stdio: 'inherit', timeout: 30_000 },
  );
  const before = sha256(database);
  const said = await problemWindow();
  await check('the window says the profile is from a newer version, and what to do', () => {
    if (said.title !== 'This profile is from a newer Fireside Ember') throw new Error(JSON.stringify(said));
    if (!said.detail.includes('schema 9999') || !said.detail.includes('has not been changed')) {
      throw new Error(`detail: ${said.detail}`);
    }
    if (!said.action.includes('newer version')) throw new Error(`action: ${said.action}`);
  });
  await check('the database is byte-identical afterwards', () => {
    const after = sha256(database);
    if (after !== before) throw new Error(`sha256 ${before} before, ${after} after`);
  });
});
