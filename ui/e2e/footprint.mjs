// The real app's idle footprint: what `ember bench footprint` measures for
// the service, measured for the whole desktop app (the shell and the
// WebKit processes it starts) under a display. Prints one JSON line.
//
// A store of MESSAGES synthetic messages is built with `ember bench query
// --dir`, the demo accounts are signed in against an idle `ember emulator`
// in its own process (tokens in a file store the app reads), then the app
// opens that data folder with sync and categorisation on. Once its process
// tree has used under 1 % of a core over 10 s (first syncs and
// categorisation done), it is measured over SECONDS: RSS and PSS summed
// over the tree (PSS shares shared pages out, so libraries WebKit's
// processes share are not counted twice), CPU time, and context switches
// of every thread (threads that end during the window are not counted).
// Linux only (/proc).
//
// Run under a display and a D-Bus session, e.g.
//   xvfb-run -a dbus-run-session -- node ui/e2e/footprint.mjs
// Env: EMBER_APP, EMBER_BIN (absolute paths), MESSAGES (default 100000),
//      WINDOW_SECONDS (default 60), EMBER_MODEL_DIR (the model, so categorisation runs).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const app = process.env.EMBER_APP;
const bin = process.env.EMBER_BIN;
if (!app || !bin) {
  console.error('footprint: set EMBER_APP and EMBER_BIN');
  process.exit(1);
}
const messages = Number(process.env.MESSAGES || 100_000);
const seconds = Number(process.env.WINDOW_SECONDS || 60);
const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const data = mkdtempSync(join(tmpdir(), 'ember-footprint-'));
const env = { ...process.env, EMBER_DATA_DIR: data, EMBER_SECRET_STORE: 'file', EMBER_LOG: process.env.EMBER_LOG || 'warn' };

/**
 * Pids of `root` and every process below it.
 * @param {number} root
 * @returns {number[]}
 */
function tree(root) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i += 1) {
    for (const [pid, ppid] of parents) if (ppid === out[i]) out.push(pid);
  }
  return out;
}

/**
 * @typedef {{ pid: number, name: string, cpu: number, switches: Map<string, number>, rssKb: number, pssKb: number }} Sample
 */

/**
 * One process's name, CPU seconds, context switches, RSS and PSS (kB).
 * @param {number} pid
 * @returns {Sample | null}
 */
function sample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / tick;
    /** Context switches by thread id. */
    const switches = new Map();
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
        let n = 0;
        for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) n += Number(m[1]);
        switches.set(task, n);
      } catch {
        // The thread ended meanwhile.
      }
    }
    /** @param {string} text @param {string} key */
    const kb = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return { pid, name, cpu, switches, rssKb: kb(rollup, 'Rss'), pssKb: kb(rollup, 'Pss') };
  } catch {
    return null;
  }
}

/**
 * @param {number} root
 * @returns {Sample[]}
 */
const snapshot = (root) => tree(root).flatMap((pid) => sample(pid) ?? []);
/**
 * @param {Sample[]} s
 * @param {'cpu' | 'rssKb' | 'pssKb'} key
 */
const total = (s, key) => s.reduce((sum, p) => sum + p[key], 0);

/** @type {import('node:child_process').ChildProcess | undefined} */
let emulator;
/** @type {import('node:child_process').ChildProcess | undefined} */
let shell;
try {
  execFileSync(bin, ['--data-dir', data, 'bench', 'query', '--messages', String(messages), '--samples', '10', '--dir', data, '--json'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const emu = spawn(bin, ['--data-dir', join(data, 'emulator'), 'emulator', '--no-quota', '--messages', '100'], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  emulator = emu;
  /** @type {{ url: string, token: string }} */
  const { url, token } = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: emu.stdout });
    let address = '';
    lines.on('line', (line) => {
      const listening = /^listening on (\S+)/.exec(line.trim());
      if (listening) address = listening[1];
      const control = /^control token (\S+)/.exec(line.trim());
      if (control && address) resolve({ url: address, token: control[1] });
    });
    emu.on('exit', () => reject(new Error('the emulator exited')));
  });
  execFileSync(bin, ['--data-dir', data, 'demo', 'setup', '--emulator', url, '--window', 'all'], {
    env: { ...env, EMBER_EMULATOR_TOKEN: token },
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  const opened = performance.now();
  const child = spawn(app, [], { env, stdio: 'ignore' });
  shell = child;
  const root = child.pid;
  if (root === undefined) throw new Error('the app did not start');
  // Settled: the tree used under 1 % of a core over 10 s (at most 15 min).
  let before = snapshot(root);
  for (;;) {
    await sleep(10_000);
    const now = snapshot(root);
    const busy = (total(now, 'cpu') - total(before, 'cpu')) / 10;
    before = now;
    if (busy < 0.01) break;
    if (performance.now() - opened > 15 * 60_000) throw new Error(`still busy (${(busy * 100).toFixed(1)} %) after 15 min`);
  }
  const settleSeconds = (performance.now() - opened) / 1000;

  const start = snapshot(root);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const end = snapshot(root);
  const wall = (performance.now() - t0) / 1000;
  const startOf = new Map(start.map((p) => [p.pid, p]));
  const processes = end.map((p) => {
    const s = startOf.get(p.pid) ?? { cpu: 0, switches: new Map() };
    // Per thread: a thread that ended is not counted, a new one counts whole.
    let switched = 0;
    for (const [tid, n] of p.switches) switched += n - (s.switches.get(tid) ?? 0);
    return {
      name: p.name,
      rss_mb: +(p.rssKb / 1024).toFixed(1),
      pss_mb: +(p.pssKb / 1024).toFixed(1),
      cpu_percent: +(((p.cpu - s.cpu) / wall) * 100).toFixed(4),
      wakeups_per_min: +((switched / wall) * 60).toFixed(1),
    };
  });
  console.log(
    JSON.stringify({
      messages,
      seconds: +wall.toFixed(1),
      rss_mb: +(total(end, 'rssKb') / 1024).toFixed(1),
      pss_mb: +(total(end, 'pssKb') / 1024).toFixed(1),
      idle_cpu_percent: +processes.reduce((sum, p) => sum + p.cpu_percent, 0).toFixed(4),
      wakeups_per_min: +processes.reduce((sum, p) => sum + p.wakeups_per_min, 0).toFixed(1),
      settle_seconds: +settleSeconds.toFixed(1),
      processes,
    }),
  );
} finally {
  shell?.kill();
  emulator?.kill();
  await sleep(500);
  rmSync(data, { recursive: true, force: true });
}
