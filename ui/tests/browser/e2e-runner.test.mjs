// The end-to-end runner's own verdicts (e2e/checks.mjs and e2e/verdict.sh),
// with no browser: a spec passes only with a passed check and no failed
// one, and screenshots are reported apart, never counted as checks. It lives
// here because this folder is what `node --test` runs in CI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const e2e = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../e2e');
const checks = pathToFileURL(path.join(e2e, 'checks.mjs')).href;
const dir = mkdtempSync(path.join(tmpdir(), 'ember-e2e-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs a spec whose body is `body` (with check, screenshot and runSpec in
 * scope), then verdict.sh on its output.
 * @param {string} name @param {string} body
 */
function run(name, body) {
  const spec = path.join(dir, `${name}.mjs`);
  writeFileSync(spec, `import { check, runSpec, screenshot } from '${checks}';\nawait runSpec(async () => {\n${body}\n});\n`);
  const node = spawnSync(process.execPath, [spec], { encoding: 'utf8' });
  const out = path.join(dir, `${name}.out`);
  writeFileSync(out, node.stdout);
  const verdict = spawnSync('bash', [path.join(e2e, 'verdict.sh'), out], { encoding: 'utf8' });
  return { status: node.status, stdout: node.stdout, verdict: verdict.status, why: verdict.stdout };
}

describe('the e2e runner', () => {
  it('fails a spec whose checks were removed, even if it saved screenshots', () => {
    const r = run('shots-only', "await screenshot('list', () => {});\nawait screenshot('pane', () => {});");
    assert.match(r.stdout, /^0 passed, 0 failed, 2 screenshots$/m, r.stdout);
    assert.equal(r.status, 1, r.stdout);
    assert.equal(r.verdict, 1, r.why);
    assert.match(r.why, /no checks/);
  });

  it('passes a spec with a passing check, screenshots reported apart', () => {
    const r = run('one-check', "await check('two is two', () => { if (1 + 1 !== 2) throw new Error('no'); });\nawait screenshot('list', () => {});");
    assert.match(r.stdout, /^1 passed, 0 failed, 1 screenshots$/m, r.stdout);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(r.verdict, 0, r.why);
  });

  it('fails a spec with a failing check, and does not count an unsaved screenshot as a failure', () => {
    const r = run(
      'one-failure',
      "await check('ok', () => {});\nawait check('broken', () => { throw new Error('boom'); });\nawait screenshot('x', () => { throw new Error('no display'); });",
    );
    assert.match(r.stdout, /^1 passed, 1 failed, 0 screenshots$/m, r.stdout);
    assert.match(r.stdout, /note: screenshot x not saved: no display/);
    assert.equal(r.status, 1);
    assert.equal(r.verdict, 1, r.why);
  });

  it('fails output with no summary at all (a spec that exited 0 without checks.mjs)', () => {
    const out = path.join(dir, 'silent.out');
    writeFileSync(out, 'ok   something (1 ms)\n');
    const verdict = spawnSync('bash', [path.join(e2e, 'verdict.sh'), out], { encoding: 'utf8' });
    assert.equal(verdict.status, 1, verdict.stdout);
    assert.match(verdict.stdout, /no summary line/);
  });
});
