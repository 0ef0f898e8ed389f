// A hostile email cannot act: the reading pane's frame is sandboxed without
// scripts or same-origin, a script-bearing document does nothing, and remote
// content loads only after a click (per message or per sender).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useApp } from './harness.mjs';

const app = useApp();

/** @param {import('playwright-core').Page} page @param {number} id */
async function openMessage(page, id) {
  await page.locator(`[data-testid=message-row][data-message-id="${id}"]`).click();
  await page.getByTestId('message-frame').waitFor();
}

describe('message frame', () => {
  it('is sandboxed without allow-scripts or allow-same-origin', async () => {
    const { page, context } = await app.open();
    await openMessage(page, 2);
    const sandbox = await page.getByTestId('message-frame').getAttribute('sandbox');
    assert.notEqual(sandbox, null, 'the frame has a sandbox attribute');
    const tokens = (sandbox ?? '').split(/\s+/).filter(Boolean);
    assert.ok(!tokens.includes('allow-scripts'), `sandbox="${sandbox}"`);
    assert.ok(!tokens.includes('allow-same-origin'), `sandbox="${sandbox}"`);
    assert.ok(!tokens.includes('allow-top-navigation'), `sandbox="${sandbox}"`);
    await context.close();
  });

  it('runs nothing from a script-bearing document, even when its link is clicked', async () => {
    const { page, context, dialogs, errors } = await app.open();
    await openMessage(page, 2);
    const srcdoc = (await page.getByTestId('message-frame').getAttribute('srcdoc')) ?? '';
    assert.match(srcdoc, /<script>/, 'the mock document really carries a script');
    const frame = page.frameLocator('[data-testid=message-frame]');
    await frame.getByText('Dear customer').waitFor();
    await frame.getByText('Verify now').click();
    await page.waitForTimeout(500);

    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__emberPwned), undefined);
    assert.deepEqual(dialogs, [], 'no alert, confirm or prompt was shown');
    const opaque = await page.getByTestId('message-frame').evaluate((el) => {
      try {
        return /** @type {HTMLIFrameElement} */ (el).contentDocument === null;
      } catch {
        return true;
      }
    });
    assert.ok(opaque, 'the parent cannot reach into the frame: it has an opaque origin');
    const inner = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(inner, 'the message frame exists');
    assert.equal(await inner.evaluate(() => /** @type {any} */ (window).__emberPwned), undefined);
    assert.equal(page.url().startsWith(app.url), true, 'the window was not navigated away');
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('remote content', () => {
  it('is blocked with a count, and loads for one message after a click', async () => {
    const { page, context } = await app.open();
    await openMessage(page, 1);
    const banner = page.getByTestId('remote-banner');
    assert.match((await banner.textContent()) ?? '', /Remote content blocked \(2\)/);
    assert.doesNotMatch((await page.getByTestId('message-frame').getAttribute('srcdoc')) ?? '', /img\.deals\.example/);
    await page.getByTestId('allow-remote-message').click();
    await banner.waitFor({ state: 'detached' });
    assert.match((await page.getByTestId('message-frame').getAttribute('srcdoc')) ?? '', /img\.deals\.example/);
    assert.deepEqual(await page.evaluate(() => window.__emberMock?.callsTo('allowRemote')), [
      [{ kind: 'message', messageId: 1 }],
    ]);
    await context.close();
  });

  it('"Always for <sender>" adds the sender to the allowlist in Settings, where it can be removed', async () => {
    const { page, context } = await app.open();
    await openMessage(page, 1);
    await page.getByTestId('allow-remote-sender').click();
    await page.getByTestId('remote-banner').waitFor({ state: 'detached' });
    await page.getByTestId('open-settings').click();
    const list = page.getByTestId('remote-allowlist');
    await list.getByText('news@deals.example').waitFor();
    await list.getByRole('button', { name: 'Remove news@deals.example' }).click();
    await list.getByText(/No senders yet/).waitFor();
    await context.close();
  });
});
