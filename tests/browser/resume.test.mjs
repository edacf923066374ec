// pbxis.js in the panel when the network between browser and service breaks (a chaos proxy in
// between): it resumes on the same ticket and loses nothing; when the service itself restarts,
// the ticket is gone and it takes a new one, whose snapshot brings the page up to date.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually } from './lib/api.mjs';
import { startDemo } from './lib/demo.mjs';
import { launch, open } from './lib/browser.mjs';
import { ChaosProxy } from './lib/proxy.mjs';
import { TRANSPORTS, TIMEOUT, callerNumber } from './lib/steps.mjs';
import { amiLogin, inboundCall } from './lib/truth.mjs';

const CELL = 'tr[data-agent="148"] td.member-cell[data-queue="q1"]';
/**
 * What a browser logs when a stream it has open is cut, and the 404 by which the restarted service
 * says a long-poll ticket is gone: expected in these tests only.
 */
const CUT = new RegExp('ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET'
  + '|ERR_CONNECTION_CLOSED|^HTTP 404: .*/long-poll(\\?.*)?$|status of 404 \\(Not Found\\)');

for (const transport of TRANSPORTS) {
  describe(`pbxis.js over ${transport} through a broken network`, () => {
    let demo, proxy, browser, view;
    before(async () => {
      demo = await startDemo(['--call-rate', '0']);
      proxy = await ChaosProxy.start(demo.http);
      browser = await launch();
      view = await open(browser, proxy.url + `client/${transport}/147,148/q1`);
      await view.page.waitForFunction(() => document.body.dataset.connection === 'connected'
        && document.body.dataset.pbx === 'up', null, { timeout: TIMEOUT });
    });
    after(async () => {
      await view?.close().catch(() => {});
      await browser?.close().catch(() => {});
      await proxy?.close();
      await demo?.stop();
    });

    it('resumes on the same ticket and delivers what happened while cut off', async () => {
      proxy.down();
      if (transport !== 'long-poll') {
        // (Chromium silently retries a cut long poll, which the proxy then holds.)
        await view.page.waitForFunction(() => document.body.dataset.connection === 'reconnecting',
          null, { timeout: TIMEOUT });
      }
      await api(demo.http, 'POST', 'queue/pause', { queue: 'q1', agent: '148', paused: true, reason: 'cut off' });
      proxy.up();
      await view.page.waitForFunction((sel) => document.body.dataset.connection === 'connected'
        && document.querySelector(sel).dataset.status === 'paused', CELL, { timeout: TIMEOUT });
      assert.equal(view.tickets.length, 1, 'no new ticket: the stream resumed');
    });

    it('takes a new ticket when the service restarted, and shows its state', async () => {
      // A call in progress that the restart ends: the new snapshot does not mention it.
      const ami = await amiLogin(demo.ami);
      const number = callerNumber();
      await inboundCall(ami, 'q1', number);
      ami.close();
      await view.page.waitForFunction((n) => !!document.querySelector(`td.caller-cell[data-number="${n}"]`),
        number, { timeout: TIMEOUT });
      proxy.down();
      await demo.stop();
      demo = await startDemo(['--call-rate', '0']);
      proxy.retarget(demo.http);
      proxy.up();
      // The new service has a fresh simulator: 148 is not paused there.
      await view.page.waitForFunction((sel) => document.body.dataset.connection === 'connected'
        && document.querySelector(sel).dataset.status === 'not_inuse', CELL, { timeout: TIMEOUT });
      await eventually(() => view.tickets.length === 2, TIMEOUT, 'a second ticket');
      assert.equal(await view.page.locator('td.caller-cell[data-number]').count(), 0, 'the ended call is gone');
      await api(demo.http, 'POST', 'queue/pause', { queue: 'q1', agent: '148', paused: true, reason: 'new' });
      await view.page.waitForFunction((sel) => document.querySelector(sel).dataset.status === 'paused',
        CELL, { timeout: TIMEOUT });
    });

    it('logged nothing but the cut itself', () => {
      assert.deepEqual(view.problems.filter((p) => !CUT.test(p)), []);
    });
  });
}
