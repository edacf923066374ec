// The API documentation page, /docs, in a real browser against the demo: it renders every
// operation of the service's own /openapi.json, with parameters and responses, and the schemas,
// and fetches nothing from anywhere but the service.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, screenshot } from './lib/browser.mjs';
import { startDemo } from './lib/demo.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

describe('the docs page', () => {
  let demo;
  let browser;
  let view;
  const requests = [];
  before(async () => {
    demo = await startDemo(['--call-rate', '0']);
    browser = await launch();
    view = await open(browser, demo.http + 'docs', { width: 1280, height: 900 }, async (context) => {
      context.on('request', (r) => requests.push(r.url()));
    });
    await view.page.waitForFunction(() => document.body.dataset.rendered, null, { timeout: 30000 });
  });
  after(async () => {
    if (view) await view.close().catch(() => {});
    if (browser) await browser.close().catch(() => {});
    if (demo) await demo.stop();
  });

  it('renders every operation of the document, with parameters and responses', async () => {
    assert.equal(await view.page.evaluate(() => document.body.dataset.rendered), 'true');
    const doc = await (await fetch(demo.http + 'openapi.json')).json();
    const want = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) if (item[m]) want.push(m + ' ' + path);
    }
    const shown = await view.page.evaluate(() => Array.from(document.querySelectorAll('details.op'))
      .map((d) => d.querySelector('.method').textContent.toLowerCase() + ' '
        + d.querySelector('.path').textContent));
    assert.deepEqual(shown.slice().sort(), want.slice().sort());
    assert.ok(want.includes('post /ticket') && want.includes('get /{ticket}/sse'), want.join(', '));
    // An operation's details: its parameters and its error statuses.
    const originate = view.page.locator('details.op', { hasText: '/originate/{src}/{dest}' });
    await originate.locator('summary').click();
    const params = await originate.locator('tr.param td:first-child code').allTextContents();
    assert.deepEqual(params, ['src', 'dest', 'callerId', 'variables']);
    const statuses = await originate.locator('tr.response td:first-child code').allTextContents();
    for (const s of ['200', '400', '401', '403', '409', '503']) assert.ok(statuses.includes(s), statuses.join());
  });

  it('renders the event schemas', async () => {
    for (const name of ['Event', 'QueueCountEvent', 'PhoneNumberEvent', 'ResyncEvent', 'ErrorBody']) {
      assert.equal(await view.page.locator('#schema-' + name).count(), 1, name);
    }
    const fields = await view.page.locator('#schema-QueueCountEvent td code').allTextContents();
    for (const f of ['type', 'queue', 'count', 'id']) assert.ok(fields.includes(f), fields.join());
    await screenshot(view.page, 'docs');
  });

  it('requests nothing outside the service and reports no problem', () => {
    const origin = new URL(demo.http).origin;
    const foreign = requests.filter((u) => new URL(u).origin !== origin);
    assert.deepEqual(foreign, []);
    assert.ok(requests.some((u) => u.endsWith('/openapi.json')), requests.join('\n'));
    assert.deepEqual(view.problems, []);
  });
});
