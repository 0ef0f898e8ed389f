// End-to-end test of the mail window on the real app in demo mode, through
// tauri-driver: sync progress appears and completes; a message opens; hostile
// HTML (XSS payloads) and a tracking-pixel e-mail injected into the demo
// world render inert, with a loopback beacon server counting zero requests
// until remote content is allowed, then the tracking images are fetched, over
// https only (the beacon counts TLS handshakes and plain-http requests); search
// finds a known message; switching category filters the list. Screenshots of
// each state go to EMBER_SCREENSHOT_DIR.
//
// Env: EMBER_APP (absolute path to the app binary), EMBER_DATA_DIR (the app's
//      data directory: demo mode writes its emulator's address to
//      demo-emulator.url there), EMBER_SCREENSHOT_DIR (default e2e/out),
//      TAURI_DRIVER_PORT (default 4444), EMBER_XSS_DIR (default
//      ../shared/data/xss relative to the repository; optional: the test says
//      so and uses its own payloads when it is absent).
//
// Stable hooks (data-testid) this test needs from the UI: message-row (with
// data-message-id), reading-pane, message-frame (the sandboxed iframe),
// allow-remote-message, allow-remote-sender, search-input,
// category-tab-<category>, sync-toggle, sync-progress, folder-<id>.
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';
import { check, runSpec, screenshot, step, usage as fail, withControlToken } from './checks.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** @param {string} message @returns {never} */
const usage = (message) => fail('mail', message);

const app = process.env.EMBER_APP || usage('EMBER_APP is not set (absolute path of the fireside-ember binary)');
const dataDir = process.env.EMBER_DATA_DIR || usage('EMBER_DATA_DIR is not set (the data directory the app uses)');
const port = Number(process.env.TAURI_DRIVER_PORT || 4444);
const screenshotDir = path.resolve(process.env.EMBER_SCREENSHOT_DIR || path.join(here, 'out'));
const xssDir = path.resolve(process.env.EMBER_XSS_DIR || path.join(here, '../../../shared/data/xss'));

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the beacon: counts every request that reaches it, by path ----------
/** @type {Map<string, number>} */
const hits = new Map();
const beacon = createServer((req, res) => {
  const key = (req.url || '/').split('?')[0] || '/';
  hits.set(key, (hits.get(key) || 0) + 1);
  const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
  res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' });
  res.end(gif);
});
// Allowed remote images are fetched over https only (http: references are
// rewritten): such a load reaches this plain-http beacon as a TLS handshake,
// counted here and refused, never as a request.
let tlsHandshakes = 0;
const front = createTcpServer((socket) => {
  socket.once('data', (first) => {
    if (first[0] === 0x16) {
      tlsHandshakes += 1;
      socket.destroy();
      return;
    }
    socket.pause();
    socket.unshift(first);
    beacon.emit('connection', socket);
    socket.resume();
  });
  socket.on('error', () => {});
});
await new Promise((resolve) => front.listen(0, '127.0.0.1', () => resolve(undefined)));
const beaconAddress = front.address();
const beaconPort = typeof beaconAddress === 'object' && beaconAddress ? beaconAddress.port : 0;
const beaconUrl = `http://127.0.0.1:${beaconPort}`;
/** @param {string} prefix */
const count = (prefix) => [...hits].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);

// ---- the hostile mail ------------------------------------------------------
const nonce = Date.now().toString(36);

/** Script that would phone home if it ever ran. @param {string} tag */
const phone = (tag) => `new Image().src='${beaconUrl}/xss/${tag}'`;

function xssHtml() {
  const own = [
    `<script>${phone('script')}</script>`,
    `<img src=x onerror="${phone('onerror')}">`,
    `<svg onload="${phone('svg')}"></svg>`,
    `<body onload="${phone('body')}">`,
    `<iframe srcdoc="<script>${phone('iframe')}</script>"></iframe>`,
    `<a href="javascript:${phone('js-href')}">click</a>`,
    `<meta http-equiv="refresh" content="0;url=${beaconUrl}/xss/refresh">`,
    `<link rel=stylesheet href="${beaconUrl}/xss/link.css">`,
    `<style>@import url(${beaconUrl}/xss/import.css); p{background:url(${beaconUrl}/xss/style-bg.gif)}</style>`,
    `<form action="${beaconUrl}/xss/form"><input type=submit></form>`,
    `<object data="${beaconUrl}/xss/object"></object>`,
    `<video poster="${beaconUrl}/xss/poster.gif"></video>`,
  ];
  let shared = '';
  const polyglots = path.join(xssDir, 'payloadsallthethings-intruders', 'XSS_Polyglots.txt');
  if (existsSync(polyglots)) {
    shared = readFileSync(polyglots, 'utf8').split('\n').slice(0, 40).join('\n<br>\n');
  } else {
    console.log(`note: ${xssDir} is absent: only the test's own payloads are used`);
  }
  return `<p>E2E XSS ${nonce}</p>${own.join('\n')}\n${shared}`;
}

function trackingHtml() {
  const dir = path.join(xssDir, 'tracking-pixel-emails');
  let body = '';
  if (existsSync(dir)) {
    const file = readdirSync(dir).filter((f) => f.endsWith('.html')).sort()[0];
    if (file) {
      // Point the real marketing mail's remote images at the beacon.
      body = readFileSync(path.join(dir, file), 'utf8').replace(/(src=["']?)https?:\/\//gi, `$1${beaconUrl}/track/`);
    }
  } else {
    console.log(`note: ${dir} is absent: a synthetic tracking mail is used`);
  }
  return `<p>E2E tracking mail</p><img src="${beaconUrl}/track/pixel.gif" width=1 height=1>
<table background="${beaconUrl}/track/table-bg.gif"><tr><td style="background-image:url('${beaconUrl}/track/td-bg.gif')">hi</td></tr></table>
${body}`;
}

/** @param {string} subject @param {string} html */
function eml(subject, html) {
  return [
    'From: E2E Sender <e2e-sender@example.org>',
    'To: demo@example.org',
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${subject.replace(/\W+/g, '.')}@e2e.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(html, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n'),
    '',
  ].join('\r\n');
}

/** @param {string} emulator @param {string} raw */
async function inject(emulator, raw) {
  const res = await fetch(`${emulator}/_emulator/mail`, withControlToken(dataDir, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'gmail', folder: 'INBOX', raw_base64: Buffer.from(raw).toString('base64') }),
  }));
  if (!res.ok) throw new Error(`emulator answered ${res.status}: ${await res.text()}`);
}

const capabilities = /** @type {Parameters<typeof remote>[0]['capabilities']} */ (
  /** @type {unknown} */ ({ 'wdio:enforceWebDriverClassic': true, 'tauri:options': { application: app } })
);

/** @param {WebdriverIO.Browser} b @param {string} name */
async function shot(b, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await b.pause(300);
  const file = path.join(screenshotDir, `${name}.png`);
  await b.saveScreenshot(file);
  if (statSync(file).size === 0) throw new Error(`${file} is empty`);
}

/** Calls a Tauri command from the page (for set-up only, never for what is under test). */
async function invoke(/** @type {WebdriverIO.Browser} */ b, /** @type {string} */ cmd, /** @type {object} */ args) {
  // Runs in the page: Tauri's IPC entry point, present in every Tauri 2 window.
  /** @type {unknown} */
  const result = await b.execute(
    (c, a) => /** @type {any} */ (globalThis).__TAURI_INTERNALS__.invoke(c, a),
    cmd,
    /** @type {any} */ (args),
  );
  return result;
}

/** Types `text` into the search box and waits for a row whose text includes `expect`. */
async function searchFor(/** @type {WebdriverIO.Browser} */ b, /** @type {string} */ text, /** @type {string} */ expect) {
  const input = b.$('[data-testid=search-input]');
  await input.waitForExist({ timeout: 10_000 });
  await input.clearValue();
  await input.setValue(text);
  /** @type {WebdriverIO.Element | undefined} */
  let found;
  await b.waitUntil(
    async () => {
      for (const row of await b.$$('[data-testid=message-row]')) {
        if ((await row.getText()).includes(expect)) {
          found = row;
          return true;
        }
      }
      return false;
    },
    { timeout: 60_000, interval: 500, timeoutMsg: `no row with "${expect}" for the search "${text}"` },
  );
  return /** @type {WebdriverIO.Element} */ (found);
}

/** Opens `row` and returns the frame's srcdoc once the pane shows it. */
async function open(/** @type {WebdriverIO.Browser} */ b, /** @type {WebdriverIO.Element} */ row, /** @type {string} */ marker) {
  await row.click();
  await b.$('[data-testid=reading-pane]').waitForExist({ timeout: 10_000 });
  const frame = b.$('[data-testid=message-frame]');
  await frame.waitForExist({ timeout: 10_000 });
  await b.waitUntil(async () => ((await frame.getAttribute('srcdoc')) || '').includes(marker), {
    timeout: 10_000,
    timeoutMsg: `the frame never showed "${marker}"`,
  });
  const sandbox = await frame.getAttribute('sandbox');
  if (sandbox === null) throw new Error('the message frame has no sandbox attribute');
  if (/allow-scripts|allow-same-origin/.test(sandbox)) throw new Error(`the frame's sandbox is too loose: "${sandbox}"`);
  return (await frame.getAttribute('srcdoc')) || '';
}

/** Scripts, handlers and script URLs in a document, found by parsing it in the page. */
async function activeContent(/** @type {WebdriverIO.Browser} */ b, /** @type {string} */ html) {
  /** @type {unknown} */
  const found = await b.execute((doc) => {
    const parsed = new (/** @type {any} */ (globalThis).DOMParser)().parseFromString(doc, 'text/html');
    /** @type {string[]} */
    const bad = [];
    for (const el of parsed.querySelectorAll('*')) {
      if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'FORM', 'BASE', 'LINK'].includes(el.tagName)) bad.push(el.tagName);
      for (const a of el.attributes) {
        if (a.name.startsWith('on')) bad.push(`${el.tagName}.${a.name}`);
        if (/^\s*(javascript|vbscript):/i.test(a.value)) bad.push(`${el.tagName}.${a.name}=${a.value}`);
      }
    }
    return bad;
  }, html);
  return /** @type {string[]} */ (found);
}

async function main() {
  /** @type {WebdriverIO.Browser | undefined} */
  let browser;
  try {
    step(`beacon listening on ${beaconUrl}`);
    const session = await check('session started', () =>
      remote({ hostname: '127.0.0.1', port, logLevel: 'warn', connectionRetryCount: 1, capabilities }),
    );
    if (!session.ok) return;
    const b = session.value;
    browser = b;

    step('demo sync');
    await check('sync progress appears', async () => {
      await b.$('[data-testid=sync-progress]').waitForExist({ timeout: 60_000 });
    });
    await check('messages arrive and sync completes', async () => {
      await b.$('[data-testid=message-row]').waitForExist({ timeout: 90_000 });
      await b.waitUntil(async () => !(await b.$('[data-testid=sync-progress]').isDisplayed()), {
        timeout: 120_000,
        interval: 1_000,
        timeoutMsg: 'sync progress never finished',
      });
    });
    await screenshot('list', () => shot(b, 'list'));

    await check('a message opens in the reading pane', async () => {
      const row = b.$('[data-testid=message-row]');
      await row.click();
      await b.$('[data-testid=reading-pane]').waitForExist({ timeout: 10_000 });
    });
    await screenshot('reading pane', () => shot(b, 'reading-pane'));

    step('hostile mail into the demo world');
    const urlFile = path.join(dataDir, 'demo-emulator.url');
    const injected = await check('XSS and tracking mail injected through the emulator', async () => {
      await b.waitUntil(async () => existsSync(urlFile), { timeout: 30_000, timeoutMsg: `${urlFile} never appeared` });
      const emulator = readFileSync(urlFile, 'utf8').trim();
      await inject(emulator, eml(`E2E tracking ${nonce}`, trackingHtml()));
      await inject(emulator, eml(`E2E pane ${nonce}`, trackingHtml()));
      await inject(emulator, eml(`E2E XSS ${nonce}`, xssHtml()));
      await invoke(b, 'sync_now', { accountId: null });
    });
    if (!injected.ok) return;

    step("the real engine, without the UI's help: render_message in a sandboxed srcdoc frame");
    await check('the injected mail is synced and found by search_messages', async () => {
      await b.waitUntil(
        async () => {
          const found = /** @type {unknown[]} */ (
            /** @type {unknown} */ (await invoke(b, 'search_messages', { query: { text: nonce, limit: 10 } }))
          );
          return found.length >= 3;
        },
        { timeout: 60_000, interval: 1_000, timeoutMsg: 'the injected mail never arrived' },
      );
    });
    /** @param {string} text */
    const idOf = async (text) => {
      const found = /** @type {{ message: { id: number } }[]} */ (
        /** @type {unknown} */ (await invoke(b, 'search_messages', { query: { text, limit: 1 } }))
      );
      const id = found[0]?.message.id;
      if (id === undefined) throw new Error(`nothing found for ${text}`);
      return id;
    };
    /** Loads `html` into a sandboxed frame the way the reading pane does. @param {string} html */
    const frame = (html) =>
      b.execute((doc) => {
        const d = /** @type {any} */ (globalThis).document;
        let f = d.getElementById('e2e-frame');
        if (!f) {
          f = d.createElement('iframe');
          f.id = 'e2e-frame';
          f.setAttribute('sandbox', 'allow-popups');
          f.style.cssText = 'position:fixed;right:0;bottom:0;width:600px;height:400px;z-index:9999;background:#fff';
          d.body.appendChild(f);
        }
        f.setAttribute('srcdoc', doc);
      }, html);
    await check('XSS mail: no script runs and the beacon counts zero', async () => {
      const body = /** @type {{ html: string }} */ (
        /** @type {unknown} */ (await invoke(b, 'render_message', { id: await idOf(`subject:xss ${nonce}`) }))
      );
      const active = await activeContent(b, body.html);
      if (active.length > 0) throw new Error(`active content in the document: ${active.join(', ')}`);
      await frame(body.html);
      await sleep(2_500);
      if (count('/') !== 0) throw new Error(`the beacon saw ${JSON.stringify([...hits])}`);
    });
    await screenshot('engine xss', () => shot(b, 'engine-xss-inert'));
    const trackId = await check('tracking mail: blocked, the beacon counts zero', async () => {
      const id = await idOf(`subject:tracking ${nonce}`);
      const body = /** @type {{ html: string, remoteBlocked: number }} */ (
        /** @type {unknown} */ (await invoke(b, 'render_message', { id }))
      );
      if (body.remoteBlocked < 3) throw new Error(`only ${body.remoteBlocked} remote references counted`);
      await frame(body.html);
      await sleep(2_500);
      if (count('/') !== 0) throw new Error(`the beacon saw ${JSON.stringify([...hits])}`);
      console.log(`     ${body.remoteBlocked} remote references replaced by placeholders`);
      return id;
    });
    if (trackId.ok) {
      await check('tracking mail: allowed, the tracking images are fetched over https only, and nothing else', async () => {
        const body = /** @type {{ html: string, remoteAllowed: boolean }} */ (
          /** @type {unknown} */ (
            await invoke(b, 'allow_remote', { scope: { kind: 'message', messageId: trackId.value } })
          )
        );
        if (!body.remoteAllowed) throw new Error('allow_remote did not allow');
        if (!body.html.includes(`https://127.0.0.1:${beaconPort}/track/pixel.gif`)) throw new Error('the pixel was not rewritten to https');
        tlsHandshakes = 0;
        await frame(body.html);
        await b.waitUntil(async () => tlsHandshakes >= 1, {
          timeout: 15_000,
          interval: 250,
          timeoutMsg: `expected https fetches of the pixel and backgrounds; the beacon saw ${JSON.stringify([...hits])}`,
        });
        if (count('/') !== 0) throw new Error(`plain-http requests: ${JSON.stringify([...hits])}`);
        console.log(`     beacon after allowing: ${tlsHandshakes} TLS handshakes, no plain-http request`);
      });
      await screenshot('engine remote allowed', () => shot(b, 'engine-remote-allowed'));
      await b.execute(() => /** @type {any} */ (globalThis).document.getElementById('e2e-frame')?.remove());
      hits.clear();
    }

    const xssRow = await check('search finds the injected XSS mail', () => searchFor(b, `subject:xss ${nonce}`, `E2E XSS ${nonce}`));
    if (xssRow.ok) {
      await check('the XSS mail renders inert in the reading pane (no script, no requests)', async () => {
        const srcdoc = await open(b, xssRow.value, `E2E XSS ${nonce}`);
        const active = await activeContent(b, srcdoc);
        if (active.length > 0) throw new Error(`active content reached the frame: ${active.join(', ')}`);
        await sleep(2_000);
        if (count('/') !== 0) throw new Error(`the beacon saw ${JSON.stringify([...hits])}`);
      });
      await screenshot('xss', () => shot(b, 'xss-inert'));
    }

    hits.clear();
    const trackRow = await check('search finds the second tracking mail', () =>
      searchFor(b, `subject:pane ${nonce}`, `E2E pane ${nonce}`),
    );
    if (trackRow.ok) {
      await check('remote images are blocked in the reading pane: the beacon counts zero', async () => {
        await open(b, trackRow.value, 'E2E tracking mail');
        await sleep(2_000);
        if (count('/') !== 0) throw new Error(`the beacon saw ${JSON.stringify([...hits])}`);
        await b.$('[data-testid=allow-remote-message]').waitForExist({ timeout: 5_000 });
      });
      await screenshot('remote blocked', () => shot(b, 'remote-blocked'));
      await check('allowing remote content fetches the tracking images over https only, and nothing else', async () => {
        tlsHandshakes = 0;
        await b.$('[data-testid=allow-remote-message]').click();
        await b.waitUntil(async () => tlsHandshakes >= 1, {
          timeout: 15_000,
          interval: 250,
          timeoutMsg: `expected https fetches of the pixel and backgrounds; the beacon saw ${JSON.stringify([...hits])}`,
        });
        if (count('/') !== 0) throw new Error(`plain-http requests: ${JSON.stringify([...hits])}`);
        console.log(`     beacon after allowing: ${tlsHandshakes} TLS handshakes, no plain-http request`);
      });
      await screenshot('remote allowed', () => shot(b, 'remote-allowed'));
    }

    step('categories');
    await check('switching category filters the list', async () => {
      // Leave search: empty the box the way a user does, then Escape.
      const input = b.$('[data-testid=search-input]');
      if (await input.isExisting()) {
        await input.click();
        await b.keys(['Control', 'a']);
        await b.keys('Backspace');
        await b.keys('Escape');
      }
      const tab = b.$('[data-testid=category-tab-promotions]');
      await tab.waitForExist({ timeout: 10_000 });
      await tab.click();
      // Every row shown (one per message or per conversation, as the UI
      // chooses) must be a Promotions message, and there must be some.
      /** @type {string[]} */
      let last = [];
      const filtered = await b.waitUntil(
        async () => {
          /** @type {string[]} */
          const ids = [];
          for (const row of await b.$$('[data-testid=message-row]')) {
            if (ids.length === 10) break;
            ids.push(String(await row.getAttribute('data-message-id')));
          }
          last = [];
          for (const id of ids) {
            const detail = /** @type {{ summary: { category: string | null } }} */ (
              /** @type {unknown} */ (await invoke(b, 'get_message', { id: Number(id) }))
            );
            if (detail.summary.category !== 'promotions') last.push(`${id}:${detail.summary.category}`);
          }
          return ids.length > 0 && last.length === 0;
        },
        { timeout: 15_000, interval: 500, timeoutMsg: 'the list never showed only Promotions' },
      ).catch((err) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; rows outside: ${last.join(', ')}`);
      });
      if (!filtered) throw new Error('the list never showed only Promotions');
    });
    await screenshot('category', () => shot(b, 'category-promotions'));
  } finally {
    if (browser) {
      try {
        await browser.deleteSession();
      } catch (err) {
        console.log(`---- could not delete session: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    front.close();
    beacon.close();
  }
}

await runSpec(main);
