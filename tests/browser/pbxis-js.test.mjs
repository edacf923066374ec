// pbxis.js as an integrator uses it, in a page of the demo: connect() with each transport and
// with a ticket from elsewhere (getTicket), the state callbacks, close(), and the REST helpers'
// errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo } from './lib/demo.mjs';
import { launch, open } from './lib/browser.mjs';
import { api } from './lib/api.mjs';
import { TRANSPORTS, TIMEOUT } from './lib/steps.mjs';

describe('pbxis.js', () => {
  let demo, browser, view, page;
  before(async () => {
    demo = await startDemo(['--call-rate', '0']);
    browser = await launch();
    // Any page of the service has pbxis.js; the wallboard of an unused queue keeps out of the way.
    view = await open(browser, demo.http + 'wallboard/sse/q2');
    page = view.page;
    await page.waitForFunction(() => typeof window.pbxis === 'object', null, { timeout: TIMEOUT });
  });
  after(async () => {
    await view?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await demo?.stop();
  });

  for (const transport of TRANSPORTS) {
    it(`connects over ${transport}: states, snapshot, changes, close()`, async () => {
      await page.evaluate((t) => {
        window.log = { states: [], events: [], resets: 0 };
        window.conn = pbxis.connect({ agents: ['148'], queues: ['q1'], transport: t,
          onEvent: (e) => window.log.events.push(e),
          onState: (s) => window.log.states.push(s.connection + '/' + s.pbx),
          onReset: () => { window.log.resets += 1; } });
      }, transport);
      await page.waitForFunction(() => window.log.events.some((e) => e.type === 'queueCount'),
        null, { timeout: TIMEOUT });
      let log = await page.evaluate(() => window.log);
      assert.equal(log.states[0], 'connecting/null', 'the first state is reported');
      assert.ok(log.states.includes('connected/true'), log.states.join(' '));
      assert.equal(log.resets, 1);
      const types = log.events.map((e) => e.type);
      for (const t of ['pbxStatus', 'extensionStatus', 'queueMemberStatus', 'queueCount']) {
        assert.ok(types.includes(t), `snapshot has ${t}: ${types}`);
      }
      assert.ok(!types.includes('closed') && !types.includes('close'));
      const member = log.events.find((e) => e.type === 'queueMemberStatus');
      // The fields in the service's order, the same on every transport (`id` right after `type`).
      assert.deepEqual(Object.keys(member).filter((k) => k !== 'id').slice(0, 4), ['type', 'agent', 'queue', 'status']);
      // Every event carries its position in the ticket's stream, numbered from 1.
      assert.deepEqual(log.events.map((e) => /^[0-9a-f]{8}-(\d+)$/.exec(e.id)?.[1]).map(Number),
        log.events.map((_, i) => i + 1), log.events.map((e) => e.id).join(' '));

      await api(demo.http, 'POST', 'queue/pause', { queue: 'q1', agent: '148', paused: true, reason: t2(transport) });
      await page.waitForFunction((r) => window.log.events.some((e) => e.type === 'queueMemberStatus'
        && e.status === 'paused' && e.reason === r), t2(transport), { timeout: TIMEOUT });

      await page.evaluate(() => window.conn.close());
      log = await page.evaluate(() => window.log);
      assert.equal(log.states[log.states.length - 1], 'closed/true');
      const seen = log.events.length;
      // A probe on the same transport: once it has the unpause, a live connection would have it too.
      await page.evaluate((t) => {
        window.probe = [];
        window.probeConn = pbxis.connect({ agents: ['148'], queues: ['q1'], transport: t,
          onEvent: (e) => window.probe.push(e) });
      }, transport);
      await page.waitForFunction(() => window.probe.some((e) => e.type === 'queueCount'), null, { timeout: TIMEOUT });
      await api(demo.http, 'POST', 'queue/pause', { queue: 'q1', agent: '148', paused: false });
      // (Its snapshot said paused; its latest member status is the unpause.)
      await page.waitForFunction(() => window.probe.filter((e) => e.type === 'queueMemberStatus')
        .pop().status !== 'paused', null, { timeout: TIMEOUT });
      await page.evaluate(() => window.probeConn.close());
      assert.equal((await page.evaluate(() => window.log.events.length)), seen, 'nothing after close()');
    });
  }

  it('takes its tickets from getTicket when given one', async () => {
    await page.evaluate(() => {
      window.log = { asked: [], events: [] };
      window.conn = pbxis.connect({ transport: 'websocket',
        getTicket: (filter) => { window.log.asked.push(filter); return pbxis.ticket({ agents: ['147'], queues: ['q2'] }); },
        onEvent: (e) => window.log.events.push(e) });
    });
    await page.waitForFunction(() => window.log.events.some((e) => e.type === 'queueCount' && e.queue === 'q2'),
      null, { timeout: TIMEOUT });
    const log = await page.evaluate(() => { window.conn.close(); return window.log; });
    assert.equal(log.asked.length, 1);
    assert.ok(log.events.some((e) => e.agent === '147'));
  });

  it('lets a page use a ticket handed over in its URL fragment, and hides it', async () => {
    const ticket = await api(demo.http, 'POST', 'ticket', { agents: ['147', '148'], queues: ['q1'] });
    const handed = await open(browser, demo.http + 'client/websocket/147,148/q1#ticket=' + ticket);
    try {
      await handed.page.waitForFunction(() => document.body.dataset.connection === 'connected'
        && !document.querySelector('[data-status="pending"]'), null, { timeout: TIMEOUT });
      assert.deepEqual(handed.tickets, [], 'the page asked for no ticket of its own');
      assert.ok(!handed.page.url().includes(ticket), 'the ticket is gone from the address bar');
      assert.deepEqual(handed.problems, []);
    } finally {
      await handed.close();
    }
  });

  it('rejects a refused request with the service\'s message and status', async () => {
    const error = await page.evaluate(() => pbxis.queueAction('pause', { queue: 'q1', agent: '147' })
      .then(() => null, (e) => ({ name: e.name, status: e.status, message: e.message })));
    assert.equal(error.name, 'PbxisError');
    assert.equal(error.status, 400);
    assert.match(error.message, /paused/);
    const unknown = await page.evaluate(() => pbxis.originate('147', 'not a number')
      .then(() => null, (e) => ({ status: e.status, message: e.message })));
    assert.equal(unknown.status, 400);
    assert.match(unknown.message, /dest/);
  });
});

function t2(transport) {
  return 'library ' + transport;
}
