// Browser-test harness: serves the built UI (dist/) from a tiny static server
// and drives Debian's Chromium through playwright-core (no browser download).
// In a plain browser main.ts picks the demo MockBackend, so these tests run
// the real bundle against mocked commands.
//
// Env: EMBER_CHROMIUM (default /usr/bin/chromium), EMBER_HEADFUL=1 to watch.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
/** @type {Record<string, string>} */
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Serves dist/ on a free localhost port.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function serveDist() {
  if (!existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`no build in ${DIST}: run "npm run build" first (npm run test:browser does)`);
  }
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = path.join(DIST, pathname === '/' ? 'index.html' : pathname);
    if (!file.startsWith(DIST) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/** Launches Chromium headless with the project's flags. */
export async function launch() {
  const executablePath = process.env.EMBER_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install Debian's "chromium" (make setup does)`);
  }
  const headful = process.env.EMBER_HEADFUL === '1';
  return chromium.launch({
    executablePath,
    headless: !headful,
    args: headful ? CHROMIUM_ARGS.filter((a) => a !== '--headless') : CHROMIUM_ARGS,
  });
}

/**
 * A fresh page on the demo backend; `messages` sizes the mailbox. Collects
 * dialogs and page errors so tests can assert none happened.
 * @param {import('playwright-core').Browser} browser
 * @param {string} baseUrl
 * @param {{ messages?: number, colorScheme?: 'light' | 'dark' }} [options]
 */
export async function openApp(browser, baseUrl, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  /** @type {string[]} */
  const dialogs = [];
  /** @type {string[]} */
  const errors = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const query = options.messages ? `?messages=${options.messages}` : '';
  await page.goto(`${baseUrl}${query}`);
  await page.locator('[data-testid=message-row]').first().waitFor({ timeout: 15_000 });
  return { page, context, dialogs, errors };
}

/**
 * Serves the built UI and launches Chromium once for the test file (before
 * its tests, closed after them); `open` gives each test a fresh page.
 */
export function useApp() {
  /** @type {Awaited<ReturnType<typeof serveDist>> | undefined} */
  let server;
  /** @type {import('playwright-core').Browser | undefined} */
  let browser;
  before(async () => {
    server = await serveDist();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  const started = () => {
    if (!server || !browser) throw new Error('useApp: the browser is not started (call open inside a test)');
    return { server, browser };
  };
  return {
    /** The served UI's address. */
    get url() {
      return started().server.url;
    },
    /** @param {{ messages?: number, colorScheme?: 'light' | 'dark' }} [options] */
    open(options) {
      const { server, browser } = started();
      return openApp(browser, server.url, options);
    },
  };
}
