// End-to-end smoke test of the built app through tauri-driver (WebDriver):
// the first screen renders, and the "Sync enabled" switch round-trips to the
// backend as seen by the CLI (EMBER_STATUS_CMD prints a JSON `Status`), and
// the tray's "Sync enabled" check item agrees with it both ways (tray.mjs).
//
// Env: EMBER_APP (absolute path to the app binary, required),
//      EMBER_STATUS_CMD (shell command printing Status JSON, required),
//      EMBER_SCREENSHOT_DIR (default: e2e/out), TAURI_DRIVER_PORT (default 4444),
//      EMBER_E2E_KEYCHAIN ("1": a keychain is reachable, expect no storage
//      warning; "": none is, expect it; unset: not checked).
import { execSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';
import { check, runSpec, screenshot, step, usage as fail } from './checks.mjs';
import { TrayMenu } from './tray.mjs';

/** @param {string} message @returns {never} */
const usage = (message) => fail('smoke', message);

const app =
  process.env.EMBER_APP || usage('EMBER_APP is not set; point it at the absolute path of the built fireside-ember binary');
if (!path.isAbsolute(app)) usage(`EMBER_APP must be an absolute path, got "${app}"`);
const statusCmd =
  process.env.EMBER_STATUS_CMD || usage('EMBER_STATUS_CMD is not set; give a shell command that prints Status as JSON');
const port = Number(process.env.TAURI_DRIVER_PORT || 4444);
if (!Number.isInteger(port) || port <= 0) usage(`TAURI_DRIVER_PORT is not a port: "${process.env.TAURI_DRIVER_PORT}"`);
const screenshotDir = path.resolve(
  process.env.EMBER_SCREENSHOT_DIR || path.join(path.dirname(fileURLToPath(import.meta.url)), 'out'),
);

const TOGGLE = '[data-testid=sync-toggle]';
const STORAGE_WARNING = '[data-testid=storage-warning]';
const SYNC_ITEM = 'Sync enabled';

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs EMBER_STATUS_CMD and parses the JSON Status it prints. */
function readStatus() {
  const out = execSync(statusCmd, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const text = out.trim();
  try {
    return JSON.parse(text);
  } catch {
    const start = text.indexOf('{');
    const end = text.lastIndexOf('}');
    if (start >= 0 && end > start) return JSON.parse(text.slice(start, end + 1));
    throw new Error(`status command printed no JSON: ${text.slice(0, 200)}`);
  }
}

/** Polls the CLI until Status.syncEnabled === want (10 s). @param {boolean} want */
async function waitForCliSyncEnabled(want) {
  const deadline = Date.now() + 10_000;
  let last = 'never ran';
  while (Date.now() < deadline) {
    try {
      const status = readStatus();
      if (typeof status.syncEnabled !== 'boolean') throw new Error('Status has no boolean syncEnabled');
      if (status.syncEnabled === want) return;
      last = `syncEnabled=${status.syncEnabled}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  throw new Error(`CLI never reported syncEnabled=${want} within 10 s (last: ${last})`);
}

/** tauri-driver's own capability is not in WebdriverIO's types. */
const capabilities = /** @type {Parameters<typeof remote>[0]['capabilities']} */ (
  /** @type {unknown} */ ({
    'wdio:enforceWebDriverClassic': true,
    'tauri:options': { application: app },
  })
);

async function main() {
  /** @type {WebdriverIO.Browser | undefined} */
  let browser;
  try {
    step(`connecting to tauri-driver on 127.0.0.1:${port} with ${app}`);
    const session = await check('session started', () =>
      remote({
        hostname: '127.0.0.1',
        port,
        logLevel: 'warn',
        connectionRetryCount: 1,
        capabilities,
      }),
    );
    if (!session.ok) return;
    const b = session.value;
    browser = b;

    step('waiting for the first screen');
    const ready = await check('message list and account list rendered', async () => {
      await b.$('[data-testid=message-list]').waitForExist({ timeout: 30_000 });
      await b.$('[data-testid=account-list]').waitForExist({ timeout: 30_000 });
      await b.$(TOGGLE).waitForEnabled({ timeout: 30_000 });
    });

    if (ready.ok) {
      const toggle = b.$(TOGGLE);
      const initial = await toggle.isSelected();
      step(`sync toggle is ${initial ? 'on' : 'off'}; switching it ${initial ? 'off' : 'on'}`);

      const flipped = await check(`toggle shows ${!initial ? 'on' : 'off'} after click`, async () => {
        await toggle.click();
        await b.waitUntil(async () => (await toggle.isSelected()) === !initial, {
          timeout: 5_000,
          timeoutMsg: 'toggle did not change state',
        });
      });
      const cliFlipped = flipped.ok
        ? await check(`CLI reports syncEnabled=${!initial}`, () => waitForCliSyncEnabled(!initial))
        : flipped;

      if (cliFlipped.ok) {
        step(`switching the toggle back ${initial ? 'on' : 'off'}`);
        const restored = await check(`toggle shows ${initial ? 'on' : 'off'} after second click`, async () => {
          await toggle.click();
          await b.waitUntil(async () => (await toggle.isSelected()) === initial, {
            timeout: 5_000,
            timeoutMsg: 'toggle did not change back',
          });
        });
        if (restored.ok) await check(`CLI reports syncEnabled=${initial}`, () => waitForCliSyncEnabled(initial));
      }

      step('the tray (read and clicked over D-Bus, as a panel does) and the window agree');
      const tray = await check('tray menu published on the session bus', () => TrayMenu.find());
      if (tray.ok) {
        const menu = tray.value;
        /** @param {boolean} want */
        const trayShows = (want) =>
          b.waitUntil(async () => menu.checked(SYNC_ITEM) === want, {
            timeout: 5_000,
            timeoutMsg: `tray's "${SYNC_ITEM}" never showed ${want ? 'checked' : 'unchecked'}`,
          });
        /** @param {boolean} want */
        const windowShows = (want) =>
          b.waitUntil(async () => (await toggle.isSelected()) === want, {
            timeout: 5_000,
            timeoutMsg: `the window's switch never showed ${want ? 'on' : 'off'}`,
          });
        const now = await toggle.isSelected();
        await check(`tray's "${SYNC_ITEM}" is ${now ? 'checked' : 'unchecked'} like the window's switch`, () =>
          trayShows(now),
        );
        await check("the window's switch moves the tray's check mark", async () => {
          await toggle.click();
          await trayShows(!now);
        });
        await check("clicking the tray's item moves the window's switch and the backend", async () => {
          menu.click(SYNC_ITEM);
          await windowShows(now);
          await waitForCliSyncEnabled(now);
          await trayShows(now);
        });
      }
    }

    step('demo mode: a fresh data directory shows the three demo accounts');
    await check('demo banner shown', async () => {
      await b.$('[data-testid=demo-banner]').waitForExist({ timeout: 30_000 });
    });
    await check('Gmail, Microsoft 365 and Azure DevOps demo accounts listed', async () => {
      await b.waitUntil(
        async () => {
          const text = await b.$('[data-testid=account-list]').getText();
          return ['Gmail (demo)', 'Microsoft 365 (demo)', 'Azure DevOps (demo)'].every((n) => text.includes(n));
        },
        { timeout: 30_000, timeoutMsg: 'the demo accounts did not appear' },
      );
    });
    await check('CLI lists the same three demo accounts', async () => {
      const status = JSON.parse(execSync(statusCmd, { encoding: 'utf8' }));
      const demo = status.accounts.filter((/** @type {{account: {demo: boolean}}} */ a) => a.account.demo);
      if (demo.length !== 3 || !status.demo) throw new Error(`expected 3 demo accounts, got ${demo.length}`);
    });

    step('demo mode: the Gmail demo account syncs into the list');
    await check('messages from the Gmail demo account appear', async () => {
      await b.waitUntil(
        async () => b.$('[data-testid=message-list] > li').isExisting(),
        { timeout: 90_000, interval: 500, timeoutMsg: 'no message appeared within 90 s' },
      );
    });
    await check('CLI counts the synced messages', async () => {
      const status = JSON.parse(execSync(statusCmd, { encoding: 'utf8' }));
      if (!(status.messageCount > 0)) throw new Error(`messageCount is ${status.messageCount}`);
    });

    // run.sh says whether this run has a usable keychain (an unlocked
    // gnome-keyring in the session) or none; by now the sign-ins above have
    // opened the secret store and the window's status has been read since.
    const keychain = process.env.EMBER_E2E_KEYCHAIN;
    if (keychain === '1') {
      step('with a keychain: sign-ins go there, and the window warns of nothing');
      await check('no "No secure storage" warning', async () => {
        await b.pause(500);
        if (await b.$(STORAGE_WARNING).isExisting()) {
          throw new Error(`the window warns: ${await b.$(STORAGE_WARNING).getText()}`);
        }
      });
    } else if (keychain === '') {
      step('without a keychain: the window says sign-ins last until quit');
      await check('"No secure storage" warning shown', async () => {
        await b.$(STORAGE_WARNING).waitForExist({ timeout: 10_000 });
      });
    }

    step('saving screenshot');
    await screenshot(path.join(screenshotDir, 'smoke.png'), async () => {
      mkdirSync(screenshotDir, { recursive: true });
      // Let the switch's 120 ms transition finish and WebKit repaint under Xvfb.
      await b.pause(400);
      const file = path.join(screenshotDir, 'smoke.png');
      await b.saveScreenshot(file);
      if (statSync(file).size === 0) throw new Error('screenshot file is empty');
    });
  } finally {
    if (browser) {
      try {
        await browser.deleteSession();
        console.log('---- session deleted');
      } catch (err) {
        console.log(`---- could not delete session: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

await runSpec(main);
