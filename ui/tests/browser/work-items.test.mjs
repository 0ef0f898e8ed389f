// Work items in headless Chromium against the demo MockBackend: g w and the
// help overlay, filters and search, an item's description and comments in
// the sandboxed frame (a script-bearing description runs nothing), a state
// change that goes pending and is then accepted, a conflict re-applied, and
// the reading pane's strip of linked items with its own state change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useApp } from './harness.mjs';

const app = useApp();

const ROW = '[data-testid=work-item-row]';

/** @param {import('playwright-core').Page} page */
async function goToWorkItems(page) {
  await page.locator('body').press('g');
  await page.keyboard.press('w');
  await page.locator(ROW).first().waitFor();
}

/** @param {import('playwright-core').Page} page @param {number} itemId */
async function openItem(page, itemId) {
  await page.locator(`${ROW}[data-item-id="${itemId}"]`).click();
  await page.locator(`[data-testid=work-item-detail][data-item-id="${itemId}"]`).waitFor();
}

/** @param {import('playwright-core').Page} page */
function shownItems(page) {
  return page.locator(ROW).evaluateAll((rows) =>
    rows.map((r) => ({ itemId: Number(r.getAttribute('data-item-id')), state: r.getAttribute('data-state') })),
  );
}

describe('work-item pane', () => {
  it('g w opens it (listed in ?), filters and search narrow the grouped list, a refused query says why', async () => {
    const { page, context, errors } = await app.open();
    await page.locator('body').press('?');
    const help = page.getByTestId('help-overlay');
    await help.getByText('Go to work items').waitFor();
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });

    await goToWorkItems(page);
    assert.equal(await page.getByTestId('nav-work-items').getAttribute('aria-current'), 'true');
    const groups = await page
      .getByTestId('work-item-group')
      .evaluateAll((gs) => gs.map((g) => g.textContent?.replace(/\s+/g, ' ').trim()));
    assert.deepEqual(groups.slice(0, 2), ['New 5', 'Active 5'], `groups: ${groups}`);
    const row = page.locator(`${ROW}[data-item-id="4101"]`);
    const text = (await row.textContent()) ?? '';
    for (const part of ['4101', 'Tray icon blurry on HiDPI displays', 'Ada Lovelace', 'P1', 'Sprint 14']) {
      assert.ok(text.includes(part), `row shows ${part}: ${text}`);
    }
    assert.match((await row.locator('time').getAttribute('title')) ?? '', /\d{4}/, 'absolute date on hover');

    await page.getByTestId('work-filter-assigned').click();
    await page.locator(`${ROW}[data-item-id="4104"]`).waitFor({ state: 'detached' });
    const assigned = await page.evaluate(() =>
      (window.__emberMock?.workItems ?? []).filter((w) => w.memberships.includes('assigned')).map((w) => w.itemId),
    );
    const shown = (await shownItems(page)).map((w) => w.itemId);
    assert.deepEqual([...shown].sort(), [...assigned].sort(), 'only items assigned to me');

    const search = page.getByTestId('search-input');
    assert.equal(await search.getAttribute('aria-label'), 'Search work items');
    await page.keyboard.press('/');
    await search.pressSequentially('state:active', { delay: 20 });
    await page.waitForFunction(() => {
      const rows = Array.from(document.querySelectorAll('[data-testid=work-item-row]'));
      return rows.length > 0 && rows.every((r) => r.getAttribute('data-state') === 'Active');
    });
    const last = await page.evaluate(() => window.__emberMock?.callsTo('listWorkItems').at(-1)?.[0]);
    assert.deepEqual(last, { accountId: null, membership: 'assigned', search: 'state:active', limit: 500 });

    await search.fill('in:inbox');
    const error = page.getByTestId('search-error');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /unknown operator in: for work items/);
    await search.press('Escape');
    await error.waitFor({ state: 'detached' });
    await page.getByTestId('work-filter-all').click();
    await page.locator(`${ROW}[data-item-id="4104"]`).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('shows an item: its sanitised description and comments in sandboxed frames, refreshed in the background', async () => {
    const { page, context, errors, dialogs } = await app.open();
    await goToWorkItems(page);
    await openItem(page, 4101);
    const detail = page.getByTestId('work-item-detail');
    const description = detail.getByTestId('work-item-description');
    const sandbox = (await description.getAttribute('sandbox')) ?? '';
    assert.equal(sandbox, 'allow-popups');
    assert.match((await description.getAttribute('srcdoc')) ?? '', /<strong>blurry<\/strong>/);
    await page.frameLocator('[data-testid=work-item-description]').getByText('Steps to reproduce').waitFor();
    assert.equal(await page.locator('main strong:text("blurry")').count(), 0, 'no work item HTML in the app DOM');

    // Azure DevOps' newer comment arrives with the background refresh.
    await detail.getByTestId('work-item-comment').nth(2).waitFor();
    const frame = detail.getByTestId('work-item-comment-frame').nth(2);
    assert.equal(await frame.getAttribute('sandbox'), 'allow-popups');
    assert.match((await frame.getAttribute('srcdoc')) ?? '', /script-src 'none'/);
    await page.frameLocator('[data-testid=work-item-comment-frame] >> nth=2').getByText('still soft on KDE').waitFor();
    assert.deepEqual(await page.evaluate(() => window.__emberMock?.callsTo('refreshWorkItem')), [[1]]);

    // A description carrying a script, an onerror handler and a javascript: link does nothing.
    await openItem(page, 4108);
    const hostile = detail.getByTestId('work-item-description');
    assert.match((await hostile.getAttribute('srcdoc')) ?? '', /<script>/, 'the demo description really has a script');
    const inner = page.frameLocator('[data-testid=work-item-description]');
    await inner.getByText('none of it may run').waitFor();
    await inner.getByText('Open the ticket').click();
    await page.waitForTimeout(400);
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__emberPwned), undefined);
    const child = page.frames().find((f) => f !== page.mainFrame() && f.url() === 'about:srcdoc');
    assert.ok(child, 'the description frame exists');
    assert.equal(await child.evaluate(() => /** @type {any} */ (window).__emberPwned), undefined);
    assert.deepEqual(dialogs, []);
    assert.ok(page.url().startsWith(app.url), 'the window was not navigated away');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('changes state (pending, then accepted) and re-applies a conflicting change', async () => {
    const { page, context, errors } = await app.open();
    await goToWorkItems(page);
    await openItem(page, 4101);
    const detail = page.getByTestId('work-item-detail');
    const state = detail.getByTestId('work-item-state');
    assert.deepEqual(await state.locator('option').allTextContents(), ['New', 'Active', 'Resolved', 'Closed']);
    await state.selectOption('Resolved');
    await detail.getByTestId('pending-badge').waitFor();
    await page.locator(`${ROW}[data-item-id="4101"][data-state=Resolved]`).waitFor();
    assert.deepEqual(await page.evaluate(() => window.__emberMock?.callsTo('editWorkItem')), [
      [1, { kind: 'setState', state: 'Resolved' }],
    ]);
    // The demo's Azure DevOps accepts it a moment later: the badge goes and the history has it.
    await detail.getByTestId('pending-badge').waitFor({ state: 'detached', timeout: 8000 });
    assert.match((await detail.getByTestId('work-item-history').textContent()) ?? '', /Active\s*→\s*to\s*Resolved/);

    await openItem(page, 4102);
    const banner = detail.getByTestId('conflict-banner');
    await banner.waitFor();
    assert.match((await banner.textContent()) ?? '', /You wanted to set the state to Resolved/);
    assert.equal(await state.inputValue(), 'Active');
    await banner.getByRole('button', { name: 'Re-apply my change' }).click();
    await banner.waitFor({ state: 'detached' });
    assert.equal(await state.inputValue(), 'Resolved');
    assert.deepEqual(await page.evaluate(() => window.__emberMock?.callsTo('resolveWorkItemConflict')), [[2, 'reapply']]);
    await page.waitForFunction(
      () => !document.querySelector('[data-testid=work-item-row][data-item-id="4102"]')?.textContent?.includes('Conflict'),
    );
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('reading pane', () => {
  it('lists the work items a message refers to; one’s state changes from there and it opens in the pane', async () => {
    const { page, context, errors } = await app.open();
    await page.locator('[data-testid=message-row][data-message-id="3"]').click();
    const strip = page.getByTestId('work-item-strip');
    await strip.waitFor();
    const synced = strip.locator('[data-testid=linked-work-item][data-item-id="4101"]');
    assert.match((await synced.textContent()) ?? '', /4101\s*Tray icon blurry on HiDPI displays/);
    const unsynced = strip.locator('[data-testid=linked-work-item][data-item-id="3977"]');
    assert.match((await unsynced.textContent()) ?? '', /AB#3977\s*not synced/);
    const select = synced.getByRole('combobox', { name: 'State of Bug 4101' });
    assert.equal(await select.inputValue(), 'Active');

    await strip.hover();
    await select.locator('option[value=Resolved]').waitFor({ state: 'attached' });
    await select.selectOption('Resolved');
    await synced.getByText('Pending').waitFor();
    assert.deepEqual(await page.evaluate(() => window.__emberMock?.callsTo('editWorkItem')), [
      [1, { kind: 'setState', state: 'Resolved' }],
    ]);

    await synced.getByTestId('linked-open').click();
    await page.getByTestId('work-item-title').waitFor();
    assert.equal(await page.getByTestId('work-item-title').textContent(), 'Tray icon blurry on HiDPI displays');
    assert.equal(await page.getByTestId('nav-work-items').getAttribute('aria-current'), 'true');
    await page.locator(`${ROW}[data-item-id="4101"][aria-selected=true]`).waitFor();
    assert.equal(await page.getByTestId('work-item-state').inputValue(), 'Resolved');

    // Its mail opens back in the mail view.
    await page.getByTestId('work-item-mail').getByRole('button', { name: /AB#4101: tray icon still blurry/ }).click();
    await page.getByTestId('reading-pane').getByRole('heading', { name: 'AB#4101: tray icon still blurry on HiDPI' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('Azure DevOps notifications fold under their item until the setting is turned off', async () => {
    const { page, context } = await app.open();
    const notices = page.locator('[data-testid=message-row]', { hasText: 'Azure DevOps' });
    assert.equal(await notices.count(), 0, 'folded by default');
    await page.getByTestId('open-settings').click();
    const dialog = page.getByTestId('settings-dialog');
    const fold = dialog.getByRole('checkbox', { name: 'Fold Azure DevOps notifications under their work item' });
    assert.equal(await fold.isChecked(), true);
    await fold.uncheck();
    await dialog.getByTestId('settings-save').click();
    await dialog.getByRole('status').getByText('Saved').waitFor();
    await page.keyboard.press('Escape');
    await notices.first().waitFor();
    assert.equal(await page.evaluate(() => window.__emberMock?.settings.foldWorkItemMail), false);
    await context.close();
  });
});
