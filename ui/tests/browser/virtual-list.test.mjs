// 100,000 conversations: the list pages in by keyset as it scrolls, keeps a
// bounded number of rows in the DOM, and still answers keys at the bottom.
// Frame gaps and key latency are printed as measurements (`# ...` lines),
// not asserted: speed is judged from figures, never by a timed test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useApp } from './harness.mjs';

/** Demo messages giving exactly 100,000 conversation rows (60 messages share 20 threads). */
const MESSAGES = 100_020;
const ROWS = 100_000;

const app = useApp();

/** @param {import('playwright-core').Page} page */
function watchFrames(page) {
  return page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__gaps = [];
    w.__stopFrames = false;
    let last = performance.now();
    const tick = (/** @type {number} */ t) => {
      w.__gaps.push(t - last);
      last = t;
      if (!w.__stopFrames) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

/** @param {import('playwright-core').Page} page */
function frameStats(page) {
  return page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__stopFrames = true;
    const gaps = /** @type {number[]} */ (w.__gaps).slice(1).sort((a, b) => a - b);
    return {
      p50: gaps[Math.floor(gaps.length * 0.5)] ?? 0,
      p95: gaps[Math.floor(gaps.length * 0.95)] ?? 0,
      max: gaps.at(-1) ?? 0,
      frames: gaps.length,
    };
  });
}

/** @param {import('playwright-core').Page} page */
function listState(page) {
  return page.evaluate(() => {
    const rows = document.querySelectorAll('[data-testid=message-row]');
    const last = rows[rows.length - 1];
    return {
      rows: rows.length,
      pos: Number(last?.getAttribute('aria-posinset') ?? 0),
      setSize: Number(last?.getAttribute('aria-setsize') ?? 0),
      lastId: last?.getAttribute('data-message-id') ?? null,
    };
  });
}

describe('virtualised message list', () => {
  it('wheel-scrolls through keyset pages with a bounded DOM (frame gaps reported)', { timeout: 120_000 }, async () => {
    const { page, context, errors } = await app.open({ messages: MESSAGES });
    const [ready, firstPaint] = await page.evaluate(() =>
      ['ember:backend-ready', 'ember:first-list-paint'].map((n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN),
    );
    console.log(
      `# cold start to first painted list (demo, ${ROWS.toLocaleString('en')} rows): ${Number(firstPaint).toFixed(0)} ms ` +
        `(of which building the 100,000-message mock: up to ${Number(ready).toFixed(0)} ms)`,
    );

    await page.locator('[data-testid=message-row]').first().hover();
    await watchFrames(page);
    let maxRows = 0;
    for (let i = 0; i < 150; i++) {
      await page.mouse.wheel(0, 400);
      await page.waitForTimeout(16);
      if (i % 10 === 0) maxRows = Math.max(maxRows, (await listState(page)).rows);
    }
    const frames = await frameStats(page);
    const { pos } = await listState(page);
    const pages = await page.evaluate(() => window.__emberMock?.callsTo('listMessages').length);
    console.log(
      `# wheel: 60,000 px down to row ${pos} across ${pages} keyset pages; frame gaps p50 ${frames.p50.toFixed(1)} ms, ` +
        `p95 ${frames.p95.toFixed(1)} ms, max ${frames.max.toFixed(1)} ms over ${frames.frames} frames; at most ${maxRows} rows in the DOM`,
    );
    assert.ok(Number(pages) >= 4, 'scrolling loaded further pages');
    assert.ok(maxRows < 100, `at most ${maxRows} rows in the DOM`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('reaches row 100,000 with a bounded DOM and answers keys there (latency reported)', { timeout: 300_000 }, async () => {
    const { page, context, errors } = await app.open({ messages: MESSAGES });
    let maxRows = 0;
    let state = await listState(page);
    const started = Date.now();
    // Jump to the end over and over: every jump pulls the next keyset page.
    for (let i = 0; i < 2000 && state.pos < ROWS; i++) {
      await page.evaluate(() => {
        const scroller = /** @type {HTMLElement} */ (document.querySelector('[data-testid=message-list]')?.parentElement);
        scroller.scrollTop = scroller.scrollHeight;
      });
      await page.waitForTimeout(5);
      state = await listState(page);
      maxRows = Math.max(maxRows, state.rows);
    }
    await page.waitForFunction(
      (rows) => {
        const list = document.querySelectorAll('[data-testid=message-row]');
        const last = list[list.length - 1];
        return last?.getAttribute('aria-posinset') === String(rows) && last.getAttribute('aria-setsize') === String(rows);
      },
      ROWS,
      { timeout: 30_000 },
    );
    state = await listState(page);
    const pages = await page.evaluate(() => window.__emberMock?.callsTo('listMessages').length);
    console.log(
      `# jumped to row ${ROWS.toLocaleString('en')} through ${pages} keyset pages in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `at most ${maxRows} rows in the DOM`,
    );
    assert.equal(state.lastId, String(MESSAGES), 'the oldest message is the last row');
    assert.ok(maxRows < 100, `at most ${maxRows} rows in the DOM`);

    await page.locator('[data-testid=message-row]').last().click();
    const pressed = Date.now();
    await page.keyboard.press('k');
    await page.waitForFunction(
      (id) => document.querySelector('[aria-selected=true]')?.getAttribute('data-message-id') !== id,
      String(MESSAGES),
    );
    const keyMs = Date.now() - pressed;
    console.log(`# k at row 100,000 answered in ${keyMs} ms`);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
