// The end-to-end specs' small test runner: named checks counted as passed or
// failed, screenshots counted apart (saving a picture asserts nothing), step
// headings, and the summary line and exit code run.sh reads. A spec passes
// only when at least one check passed and none failed. Each spec runs in its
// own node process, so the counts are per spec. Also the helpers the specs
// that read the demo emulator share.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

let passed = 0;
let failed = 0;
let screenshots = 0;

/**
 * Stops the spec before it starts, saying what is missing.
 * @param {string} spec @param {string} message @returns {never}
 */
export function usage(spec, message) {
  console.error(`${spec}: ${message}`);
  console.log('0 passed, 1 failed, 0 screenshots');
  process.exit(1);
}

/**
 * Runs one named check and counts it as passed or failed.
 * @template T
 * @param {string} name
 * @param {() => T | Promise<T>} fn
 * @returns {Promise<{ ok: true, value: T } | { ok: false }>}
 */
export async function check(name, fn) {
  const started = Date.now();
  try {
    const value = await fn();
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
    return { ok: /** @type {const} */ (true), value };
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return { ok: /** @type {const} */ (false) };
  }
}

/**
 * Saves a screenshot through `fn`: reported, never counted as a check (a
 * picture nobody compares asserts nothing); a failure to save is a note.
 * @param {string} name
 * @param {() => unknown} fn
 */
export async function screenshot(name, fn) {
  try {
    await fn();
    screenshots += 1;
    console.log(`shot ${name}`);
  } catch (err) {
    console.log(`note: screenshot ${name} not saved: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The summary line run.sh reads (see verdict.sh). */
export function summary() {
  return `${passed} passed, ${failed} failed, ${screenshots} screenshots`;
}

/** @param {string} text */
export function step(text) {
  console.log(`---- ${text}`);
}

/**
 * Runs the spec's `main`, counts an unexpected error as a failure, prints
 * the summary and exits 0 only when a check passed and none failed
 * (screenshots alone are no pass).
 * @param {() => Promise<void>} main
 */
export async function runSpec(main) {
  try {
    await main();
  } catch (err) {
    failed += 1;
    console.log(`FAIL unexpected error: ${err instanceof Error ? err.stack : String(err)}`);
  }
  if (passed === 0 && failed === 0) console.log('FAIL the spec made no checks');
  console.log(summary());
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

/**
 * The address of the emulator demo mode started, which it writes into the
 * data directory `dataDir`.
 * @param {string} dataDir
 */
export function demoEmulatorUrl(dataDir) {
  const file = path.join(dataDir, 'demo-emulator.url');
  if (!existsSync(file)) throw new Error(`${file} does not exist (demo mode did not start?)`);
  return readFileSync(file, 'utf8').trim();
}

/**
 * `init` with the demo emulator's control token (demo mode writes it next to
 * the address) in the header the emulator's control routes require.
 * @param {string} dataDir @param {RequestInit} [init]
 * @returns {RequestInit}
 */
export function withControlToken(dataDir, init = {}) {
  const file = path.join(dataDir, 'demo-emulator.token');
  if (!existsSync(file)) throw new Error(`${file} does not exist (demo mode did not start?)`);
  const headers = new Headers(init.headers);
  headers.set('x-emulator-token', readFileSync(file, 'utf8').trim());
  return { ...init, headers };
}

/**
 * Fetches JSON, failing with the status and the start of the body.
 * @param {string} url @param {RequestInit} [init]
 */
export async function getJson(url, init) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res.json();
}
