// Headless Chromium (Debian's /usr/bin/chromium) through playwright-core, with every page's
// console errors, uncaught exceptions and failed requests collected for the tests to assert on.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const OUTPUT = path.join(ROOT, 'test-output');

/** Launches Chromium; Playwright gives it a new, empty profile directory. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Opens `url` in a new context of the given size; returns {page, problems, tickets, close()}.
 * `problems` collects console errors, page errors and failed requests; `tickets` every ticket
 * the page was given (POST /ticket answers), in order. `setup(context)` runs before the page
 * loads (e.g. to add an init script).
 */
export async function open(browser, url, viewport = { width: 1920, height: 1080 }, setup = null) {
  const context = await browser.newContext({ viewport });
  if (setup) await setup(context);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // A long poll or stream cut short by closing the page is not a failure of the page.
    if (!page.isClosed() && !/net::ERR_ABORTED/.test(r.failure()?.errorText || '')) {
      problems.push('request failed: ' + r.url() + ' ' + r.failure()?.errorText);
    }
  });
  const tickets = [];
  page.on('response', async (r) => {
    if (r.status() >= 400) problems.push('HTTP ' + r.status() + ': ' + r.url());
    if (r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/ticket') && r.ok()) {
      tickets.push(await r.json());
    }
  });
  await page.goto(url);
  return { page, problems, tickets, close: () => context.close() };
}

/** Writes a screenshot to test-output/<name>.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(OUTPUT, { recursive: true });
  const file = path.join(OUTPUT, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Starts recording every value the <body> attribute `attr` takes (window.__values[attr]). */
export async function recordBodyAttribute(page, attr) {
  await page.evaluate((name) => {
    window.__values = window.__values || {};
    const values = window.__values[name] = [document.body.getAttribute(name)];
    new MutationObserver((records) => {
      for (const r of records) if (r.attributeName === name) values.push(r.target.getAttribute(name));
    }).observe(document.body, { attributes: true, attributeFilter: [name] });
  }, attr);
}

/** The values recorded by recordBodyAttribute. */
export function recorded(page, attr) {
  return page.evaluate((name) => window.__values[name], attr);
}
