// The wallboard, /wallboard/<tech>/<queues>?agents=..., over each transport, against the demo.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually } from './lib/api.mjs';
import { inboundCall, hangup, list } from './lib/truth.mjs';
import {
  TRANSPORTS, AGENTS, QUEUES, TIMEOUT, fixture, waitInPage, restartAndRecover, screenshots,
  noProblems, clickAndAnswer, callerNumber, snap,
} from './lib/steps.mjs';

/** The figures on each board, as numbers (null when not drawn yet). */
function readBoards(page) {
  return page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('.board')).map((b) => {
    const fig = (k) => {
      const text = b.querySelector(`[data-figure="${k}"]`).textContent;
      return /^\d+$/.test(text) ? Number(text) : null;
    };
    return [b.dataset.queue, { waiting: b.dataset.waiting === '' ? null : Number(b.dataset.waiting),
      answered: fig('answered'), abandoned: fig('abandoned'), loggedIn: fig('loggedIn'),
      available: fig('available') }];
  })));
}

/** The same figures from the PBX: QueueSummary and QueueStatus over AMI. */
async function boardTruth(ami) {
  const summary = await list(ami, { Action: 'QueueSummary' }, 'QueueSummaryComplete');
  const params = (await list(ami, { Action: 'QueueStatus' }, 'QueueStatusComplete'))
    .filter((e) => e.Event === 'QueueParams');
  const out = {};
  for (const q of QUEUES) {
    const s = summary.find((e) => e.Queue === q);
    const p = params.find((e) => e.Queue === q);
    out[q] = { waiting: Number(p.Calls), answered: Number(p.Completed), abandoned: Number(p.Abandoned),
      loggedIn: Number(s.LoggedIn), available: Number(s.Available) };
  }
  return out;
}

async function boardsConverge(fx, what) {
  let last = null;
  try {
    await eventually(async () => {
      const want = await boardTruth(fx.ami);
      const got = await readBoards(fx.page);
      last = { want, got };
      return JSON.stringify(got) === JSON.stringify(want);
    }, TIMEOUT, what);
  } catch (err) {
    assert.deepEqual(last && last.got, last && last.want, what);
    throw err;
  }
}

const chip = (queue, agent) => `.board[data-queue="${queue}"] .agent-chip[data-agent="${agent}"]`;

for (const transport of TRANSPORTS) {
  describe(`wallboard over ${transport}`, () => {
    let fx;
    before(async () => {
      fx = await fixture(`wallboard/${transport}/${QUEUES.join(',')}?agents=${AGENTS.join(',')}`, `wallboard-${transport}`);
    });
    after(async () => { if (fx) await fx.teardown(); });

    it('draws the snapshot: every figure of every queue, and the chart', async () => {
      await waitInPage(fx, () => document.body.dataset.connection === 'connected'
        && document.body.dataset.pbx === 'up');
      await boardsConverge(fx, 'the figures the PBX has');
      assert.equal(await fx.page.locator('.board svg.chart').count(), QUEUES.length);
    });

    it('shows an inbound caller on the agent strip and clears it when the call ends', async () => {
      const number = callerNumber();
      const call = await inboundCall(fx.ami, 'q1', number);
      await waitInPage(fx, (n) => !!document.querySelector(`.agent-chip[data-number="${n}"]`), number);
      // Hang up once an agent has answered, so that the call counts as answered.
      await waitInPage(fx, (n) => Array.from(document.querySelectorAll(`.agent-chip[data-number="${n}"]`))
        .some((c) => c.querySelector('[data-status="inuse"]')), number);
      await snap(fx, 'call');
      await hangup(fx.ami, call.Channel).catch(() => false);
      await waitInPage(fx, (n) => !document.querySelector(`.agent-chip[data-number="${n}"]`), number);
      await boardsConverge(fx, 'the figures after the call');
      assert.ok((await readBoards(fx.page)).q1.answered >= 1, 'the call was counted');
    });

    it('shows a reset made with its own controls', async () => {
      assert.ok((await readBoards(fx.page)).q1.answered > 0, 'something to reset');
      await clickAndAnswer(fx.page, 'Reset statistics of queue q1', {});
      await waitInPage(fx, () => document.querySelector('.board[data-queue="q1"] [data-figure="answered"]')
        .textContent === '0');
      await boardsConverge(fx, 'the figures after the reset');
    });

    it('shows a pause made through the REST API', async () => {
      await api(fx.demo.http, 'POST', 'queue/pause', { queue: 'q1', agent: '148', paused: true, reason: 'wallboard' });
      await waitInPage(fx, (sel) => document.querySelector(sel)?.querySelector('[data-status]')
        ?.dataset.status === 'paused', chip('q1', '148'));
      await boardsConverge(fx, 'the figures after the pause');
    });

    it('shows the PBX link going down and coming back, then converges to the PBX', async () => {
      await restartAndRecover(fx);
      await boardsConverge(fx, 'the figures after the PBX restart');
    });

    it('writes screenshots at 1080p and 360 px', async () => {
      await screenshots(fx, `wallboard-${transport}`, () => Array.from(document.querySelectorAll('[data-figure="loggedIn"]'))
        .every((f) => f.textContent !== '–'));
    });

    it('logged no console errors', () => noProblems(fx));
  });
}
