// The supervisor panel, /client/<tech>/<agents>/<queues>, over each transport, against the demo.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from './lib/api.mjs';
import { inboundCall, hangup } from './lib/truth.mjs';
import {
  TRANSPORTS, AGENTS, QUEUES, fixture, converges, waitInPage, restartAndRecover, screenshots,
  noProblems, clickAndAnswer, callerNumber, stealTicket, TIMEOUT, snap,
} from './lib/steps.mjs';

/** Every member cell of the panel: {agent: {queue: {status, reason}}}. */
function readMembers(page) {
  return page.evaluate(() => {
    const out = {};
    for (const row of document.querySelectorAll('tr[data-agent]')) {
      out[row.dataset.agent] = {};
      for (const cell of row.querySelectorAll('td.member-cell')) {
        const detail = cell.querySelector('.badge-detail');
        out[row.dataset.agent][cell.dataset.queue] = {
          status: cell.dataset.status, reason: detail ? detail.textContent : null };
      }
    }
    return out;
  });
}

function readWaiting(page) {
  return page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('.tile'))
    .map((t) => [t.dataset.queue, t.dataset.count === '' ? null : Number(t.dataset.count)])));
}

function membersOf(truth) {
  const out = {};
  for (const [a, qs] of Object.entries(truth.members)) {
    out[a] = {};
    for (const [q, m] of Object.entries(qs)) out[a][q] = { status: m.status, reason: m.reason };
  }
  return out;
}

const member = (agent, queue) => `tr[data-agent="${agent}"] td.member-cell[data-queue="${queue}"]`;

for (const transport of TRANSPORTS) {
  describe(`panel over ${transport}`, () => {
    let fx;
    before(async () => {
      fx = await fixture(`client/${transport}/${AGENTS.join(',')}/${QUEUES.join(',')}`, `panel-${transport}`);
    });
    after(async () => { if (fx) await fx.teardown(); });

    it('draws the snapshot: every agent in every queue, and the waiting callers', async () => {
      await waitInPage(fx, () => document.body.dataset.connection === 'connected'
        && document.body.dataset.pbx === 'up');
      await converges(fx, readMembers, membersOf, 'member states as the PBX has them');
      await converges(fx, readWaiting, (t) => t.waiting, 'waiting callers as the PBX has them');
      const rows = await fx.page.locator('tr[data-agent]').evaluateAll((r) => r.map((x) => x.dataset.agent));
      assert.deepEqual(rows, AGENTS);
      for (const a of AGENTS) {
        const label = await fx.page.locator(`tr[data-agent="${a}"] .dev-cell .badge-label`).textContent();
        assert.ok(label && label !== 'Loading…', `device status of ${a} drawn: ${label}`);
      }
      const tiles = await fx.page.locator('.tile .tile-agents').evaluateAll((ts) => ts.map((t) => t.innerText));
      assert.deepEqual(tiles, QUEUES.map(() => '3 logged on\n3 available'));
      // The time in the current state runs.
      await waitInPage(fx, () => Array.from(document.querySelectorAll('.time-value'))
        .every((t) => /^\d+:\d\d$/.test(t.textContent) && t.textContent !== '0:00'));
    });

    // 149 never answers: a call placed from its phone fails after the originate timeout (30 s in
    // the simulator). It is placed here and its failure checked after the other steps.
    let failingCall = null;
    it('places a call from an agent\'s phone with its own controls', async () => {
      const placed = fx.page.waitForResponse((r) => /\/originate\/149\/1562830$/.test(new URL(r.url()).pathname));
      await clickAndAnswer(fx.page, 'Call a number from 149', { dest: '1562830' });
      const response = await placed;
      assert.equal(response.status(), 200);
      failingCall = { actionId: await response.json(), at: Date.now() };
    });

    it('shows a pause made with its own controls and an unpause made through the REST API', async () => {
      const reason = 'coffee ' + transport;
      await clickAndAnswer(fx.page, 'Pause 148 in q1', { reason });
      await waitInPage(fx, ([sel, r]) => {
        const cell = document.querySelector(sel);
        return cell.dataset.status === 'paused' && cell.textContent.includes(r);
      }, [member('148', 'q1'), reason]);
      await converges(fx, readMembers, membersOf, 'the pause reached the PBX');
      await api(fx.demo.http, 'POST', 'queue/pause', { queue: 'q1', agent: '148', paused: false });
      await waitInPage(fx, (sel) => document.querySelector(sel).dataset.status !== 'paused', member('148', 'q1'));
      await converges(fx, readMembers, membersOf, 'after the unpause');
    });

    it('shows a log off made through the REST API and a log on made with its own controls', async () => {
      await api(fx.demo.http, 'POST', 'queue/remove', { queue: 'q2', agent: '149' });
      await waitInPage(fx, (sel) => document.querySelector(sel).dataset.status === 'loggedoff', member('149', 'q2'));
      await clickAndAnswer(fx.page, 'Log on 149 in q2', { memberName: 'Tester 149', paused: false });
      await waitInPage(fx, (sel) => !['loggedoff', 'pending'].includes(document.querySelector(sel).dataset.status),
        member('149', 'q2'));
      await converges(fx, readMembers, membersOf, 'after log off and log on');
      const { queueTruth } = await import('./lib/truth.mjs');
      const truth = await queueTruth(fx.ami, AGENTS, QUEUES);
      assert.equal(truth.members['149'].q2.name, 'Tester 149', 'the member name reached the PBX');
    });

    it('shows an inbound caller on the agent row and clears it when the call ends', async () => {
      const number = callerNumber();
      const call = await inboundCall(fx.ami, 'q1', number);
      await waitInPage(fx, (n) => !!document.querySelector(`td.caller-cell[data-number="${n}"]`), number);
      await snap(fx, 'call');
      const row = await fx.page.locator(`td.caller-cell[data-number="${number}"]`).first()
        .evaluate((td) => td.closest('tr').dataset.agent);
      assert.ok(AGENTS.includes(row));
      await hangup(fx.ami, call.Channel).catch(() => false);
      await waitInPage(fx, (n) => !document.querySelector(`td.caller-cell[data-number="${n}"]`), number);
    });

    it('shows originateFailed when the call from the agent\'s phone fails', async () => {
      assert.ok(failingCall, 'the call was placed');
      await fx.page.waitForFunction((id) => !!document.querySelector(`tr[data-agent="149"] [data-failed="${id}"]`),
        failingCall.actionId, { timeout: 40000 + TIMEOUT });
      const text = await fx.page.locator('tr[data-agent="149"] .call-failed').textContent();
      assert.match(text, /originateFailed \(1562830\)/);
    });

    it('takes a new ticket when its ticket is taken over, and stays current', async () => {
      const first = fx.view.tickets[0];
      const second = await stealTicket(fx);
      assert.notEqual(second, first);
      await api(fx.demo.http, 'POST', 'queue/pause', { queue: 'q2', agent: '147', paused: true, reason: 'after' });
      await waitInPage(fx, (sel) => document.querySelector(sel).dataset.status === 'paused', member('147', 'q2'));
      await converges(fx, readMembers, membersOf, 'after the new ticket');
    });

    it('shows the PBX link going down and coming back, then converges to the PBX', async () => {
      await restartAndRecover(fx);
      await converges(fx, readMembers, membersOf, 'member states after the PBX restart');
      await converges(fx, readWaiting, (t) => t.waiting, 'waiting callers after the PBX restart');
    });

    it('writes screenshots at 1080p and 360 px', async () => {
      await screenshots(fx, `panel-${transport}`);
    });

    it('logged no console errors', () => noProblems(fx));
  });
}
