// Steps every page test shares: a demo + browser + page fixture, convergence with the
// simulator's truth, the PBX restart fault, screenshots, and the no-console-errors check.
import assert from 'node:assert/strict';
import { startDemo } from './demo.mjs';
import { launch, open, screenshot, recordBodyAttribute, recorded } from './browser.mjs';
import { eventually } from './api.mjs';
import { amiLogin, queueTruth, restartPbx } from './truth.mjs';

export const TRANSPORTS = ['long-poll', 'sse', 'websocket'];
export const AGENTS = ['147', '148', '149'];
export const QUEUES = ['q1', 'q2'];
export const TIMEOUT = 30000;

/** Starts a demo, a browser and the page at `path` (relative to the service). */
export async function fixture(path, name) {
  const demo = await startDemo(['--call-rate', '0']);
  const browser = await launch();
  const view = await open(browser, demo.http + path);
  const ami = await amiLogin(demo.ami);
  const fx = { demo, browser, view, page: view.page, ami, path, name };
  fx.teardown = async () => {
    await view.close().catch(() => {});
    await browser.close().catch(() => {});
    if (fx.ami) fx.ami.close();
    await demo.stop();
  };
  return fx;
}

/** Waits until `read(page)` equals what `expected(truth)` says, the truth read afresh each time. */
export async function converges(fx, read, expected, what) {
  let last = null;
  try {
    await eventually(async () => {
      const truth = await queueTruth(fx.ami, AGENTS, QUEUES);
      const want = expected(truth);
      const got = await read(fx.page);
      last = { want, got };
      return JSON.stringify(got) === JSON.stringify(want);
    }, TIMEOUT, what);
  } catch (err) {
    assert.deepEqual(last && last.got, last && last.want, what);
    throw err;
  }
}

/** A screenshot of the fixture's page as it is now, named after the fixture. */
export function snap(fx, what) {
  return screenshot(fx.page, fx.name + '-' + what);
}

/** Waits for a condition evaluated in the page. */
export function waitInPage(fx, fn, arg) {
  return fx.page.waitForFunction(fn, arg, { timeout: TIMEOUT });
}

/**
 * Restarts the PBX (`core restart now` over AMI); checks that the page showed the link down, then
 * up again; logs in to AMI afresh (fx.ami).
 */
export async function restartAndRecover(fx) {
  await recordBodyAttribute(fx.page, 'data-pbx');
  await restartPbx(fx.ami);
  fx.ami = null;
  await waitInPage(fx, () => window.__values['data-pbx'].includes('down'));
  if (fx.name && await fx.page.evaluate(() => document.body.dataset.pbx === 'down')) {
    await screenshot(fx.page, fx.name + '-pbx-down').catch(() => null);
  }
  await waitInPage(fx, () => document.body.dataset.pbx === 'up' && document.body.dataset.connection === 'connected');
  const values = await recorded(fx.page, 'data-pbx');
  assert.ok(values.indexOf('down') < values.lastIndexOf('up'), 'down, then up: ' + values);
  fx.ami = await amiLogin(fx.demo.ami);
}

/**
 * Screenshots of the page as it is (1080p) and in a new 360 px wide window, taken there once the
 * snapshot is drawn and `drawn()` (evaluated in the page) holds.
 */
export async function screenshots(fx, name, drawn = () => true) {
  await screenshot(fx.page, name + '-1080p');
  const narrow = await open(fx.browser, fx.demo.http + fx.path, { width: 360, height: 780 });
  try {
    await narrow.page.waitForFunction(() => document.body.dataset.connection === 'connected'
      && !document.querySelector('[data-status="pending"]'), null, { timeout: TIMEOUT });
    await narrow.page.waitForFunction(drawn, null, { timeout: TIMEOUT });
    const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 360, 'no horizontal scrolling at 360 px, page is ' + overflow + ' px wide');
    await screenshot(narrow.page, name + '-360px');
    assert.deepEqual(narrow.problems, [], 'no console errors in the narrow window');
  } finally {
    await narrow.close();
  }
}

/** Asserts that the page had no console error, page error or failed request. */
export function noProblems(fx) {
  assert.deepEqual(fx.view.problems, []);
}

/** Clicks a button by its accessible name; answers the dialog it opens with `fields`. */
export async function clickAndAnswer(page, buttonName, fields) {
  await page.getByRole('button', { name: buttonName, exact: true }).click();
  if (fields === undefined) return;
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor({ timeout: TIMEOUT });
  for (const [name, value] of Object.entries(fields)) {
    const input = dialog.locator('[name="' + name + '"]');
    if (typeof value === 'boolean') await input.setChecked(value);
    else await input.fill(value);
  }
  await dialog.locator('button[type=submit]').click();
  await dialog.waitFor({ state: 'detached', timeout: TIMEOUT });
}

/**
 * Takes the page's ticket away (a second stream on it replaces the page's, which gets `closed`)
 * and waits until the page has a new ticket and is connected again.
 */
export async function stealTicket(fx) {
  const before = fx.view.tickets.length;
  const old = fx.view.tickets[before - 1];
  const thief = new AbortController();
  const poll = fetch(new URL(old + '/long-poll', fx.demo.http), { signal: thief.signal }).catch(() => null);
  try {
    await waitInPage(fx, () => document.body.dataset.connection !== 'connected');
  } catch (_) { /* the page may have re-ticketed before we looked */ }
  await eventually(() => fx.view.tickets.length > before, TIMEOUT, 'a new ticket');
  await waitInPage(fx, () => document.body.dataset.connection === 'connected');
  thief.abort();
  await poll;
  return fx.view.tickets[fx.view.tickets.length - 1];
}

/** A caller number unique to this run. */
export function callerNumber() {
  return '0955' + String(Date.now() % 1000000).padStart(6, '0');
}
