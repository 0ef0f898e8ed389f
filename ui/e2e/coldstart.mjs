// Cold start to first painted list: the time from asking tauri-driver for a
// session (which launches the app process) until the first message row is in
// the DOM, on an existing data directory. Prints one JSON line.
//
// Env: EMBER_APP (absolute path of the app binary), EMBER_DATA_DIR (a data
//      directory with mail, e.g. one `ember bench query --dir` built),
//      TAURI_DRIVER_PORT (default 4444), RUNS (default 3).
import { remote } from 'webdriverio';

const app = process.env.EMBER_APP;
if (!app || !process.env.EMBER_DATA_DIR) {
  console.error('coldstart: set EMBER_APP and EMBER_DATA_DIR');
  process.exit(1);
}
const port = Number(process.env.TAURI_DRIVER_PORT || 4444);
const runs = Number(process.env.RUNS || 3);
const capabilities = /** @type {Parameters<typeof remote>[0]['capabilities']} */ (
  /** @type {unknown} */ ({ 'wdio:enforceWebDriverClassic': true, 'tauri:options': { application: app } })
);
/** @type {number[]} */
const samples = [];
for (let i = 0; i < runs; i += 1) {
  const started = performance.now();
  const b = await remote({ hostname: '127.0.0.1', port, logLevel: 'warn', capabilities });
  await b.waitUntil(async () => b.$('[data-testid=message-row], [data-testid=message-list] > li').isExisting(), {
    timeout: 30_000,
    interval: 10,
  });
  samples.push(Math.round(performance.now() - started));
  await b.deleteSession();
}
console.log(JSON.stringify({ coldStartToFirstRowMs: samples }));
