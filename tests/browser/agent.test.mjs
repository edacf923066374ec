// The agent page, /agent/<tech>/<agent>/<queues>, over each transport, against the demo.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from './lib/api.mjs';
import { inboundCall, hangup } from './lib/truth.mjs';
import {
  TRANSPORTS, QUEUES, fixture, converges, waitInPage, restartAndRecover, screenshots,
  noProblems, clickAndAnswer, callerNumber, snap,
} from './lib/steps.mjs';

const AGENT = '147';

function readQueues(page) {
  return page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('#queue-list li'))
    .map((li) => {
      const detail = li.querySelector('.badge-detail');
      return [li.dataset.queue, { status: li.dataset.status, reason: detail ? detail.textContent : null }];
    })));
}

function mine(truth) {
  return Object.fromEntries(Object.entries(truth.members[AGENT])
    .map(([q, m]) => [q, { status: m.status, reason: m.reason }]));
}

const row = (queue) => `#queue-list li[data-queue="${queue}"]`;

for (const transport of TRANSPORTS) {
  describe(`agent page over ${transport}`, () => {
    let fx;
    before(async () => { fx = await fixture(`agent/${transport}/${AGENT}/${QUEUES.join(',')}`, `agent-${transport}`); });
    after(async () => { if (fx) await fx.teardown(); });

    it('draws the snapshot: own status in each queue and the phone', async () => {
      await waitInPage(fx, () => document.body.dataset.connection === 'connected'
        && document.body.dataset.pbx === 'up');
      await converges(fx, readQueues, mine, 'own queue states as the PBX has them');
      const phone = await fx.page.locator('#me-status').getAttribute('data-status');
      assert.ok(phone && phone !== 'pending', 'phone status drawn: ' + phone);
      assert.match(await fx.page.locator('#me-ext').textContent(), /147/);
    });

    it('shows a pause made with its own controls and an unpause made through the REST API', async () => {
      const reason = 'lunch ' + transport;
      await clickAndAnswer(fx.page, 'Pause in q2', { reason });
      await waitInPage(fx, ([sel, r]) => {
        const li = document.querySelector(sel);
        return li.dataset.status === 'paused' && li.textContent.includes(r);
      }, [row('q2'), reason]);
      await converges(fx, readQueues, mine, 'the pause reached the PBX');
      await api(fx.demo.http, 'POST', 'queue/pause', { queue: 'q2', agent: AGENT, paused: false });
      await waitInPage(fx, (sel) => document.querySelector(sel).dataset.status !== 'paused', row('q2'));
      await converges(fx, readQueues, mine, 'after the unpause');
    });

    it('shows a log off made with its own controls and a log on made through the REST API', async () => {
      await clickAndAnswer(fx.page, 'Log off from q2');
      await waitInPage(fx, (sel) => document.querySelector(sel).dataset.status === 'loggedoff', row('q2'));
      await converges(fx, readQueues, mine, 'the log off reached the PBX');
      await api(fx.demo.http, 'POST', 'queue/add', { queue: 'q2', agent: AGENT, memberName: 'Agent 147' });
      await waitInPage(fx, (sel) => !['loggedoff', 'pending'].includes(document.querySelector(sel).dataset.status), row('q2'));
      await converges(fx, readQueues, mine, 'after the log on');
    });

    it('pauses and unpauses in all its queues at once', async () => {
      await clickAndAnswer(fx.page, 'Pause in all queues…', { reason: 'meeting' });
      await waitInPage(fx, () => Array.from(document.querySelectorAll('#queue-list li'))
        .every((li) => li.dataset.status === 'paused' && li.textContent.includes('meeting')));
      await converges(fx, readQueues, mine, 'paused everywhere');
      await fx.page.getByRole('button', { name: 'Unpause in all queues', exact: true }).click();
      await waitInPage(fx, () => Array.from(document.querySelectorAll('#queue-list li'))
        .every((li) => li.dataset.status === 'not_inuse'));
      await converges(fx, readQueues, mine, 'unpaused everywhere');
    });

    it('shows an inbound caller as the current caller and clears it when the call ends', async () => {
      const number = callerNumber();
      const call = await inboundCall(fx.ami, 'q1', number);
      await waitInPage(fx, (n) => document.getElementById('current-call').dataset.number === n, number);
      await snap(fx, 'call');
      await hangup(fx.ami, call.Channel).catch(() => false);
      await waitInPage(fx, () => document.getElementById('current-call').dataset.number === undefined);
    });

    it('places a call with click-to-call', async () => {
      await fx.page.locator('#dial-number').fill('1562830');
      await fx.page.getByRole('button', { name: 'Call', exact: true }).click();
      await waitInPage(fx, () => !!document.getElementById('dial-result').dataset.actionId);
      await waitInPage(fx, () => document.getElementById('current-call').dataset.number === '1562830');
    });

    it('shows the PBX link going down and coming back, then converges to the PBX', async () => {
      await restartAndRecover(fx);
      await converges(fx, readQueues, mine, 'own queue states after the PBX restart');
      await waitInPage(fx, () => document.getElementById('current-call').dataset.number === undefined);
    });

    it('writes screenshots at 1080p and 360 px', async () => {
      await screenshots(fx, `agent-${transport}`);
    });

    it('logged no console errors', () => noProblems(fx));
  });
}
