// The agent page and the wallboard cut off through the chaos proxy while a call of theirs ends,
// over each transport: on SSE and WebSocket the cut outlasts the ticket's history (the service
// says `resync`: the page must throw its state away, the ended call with it); a long poll takes
// only one answer into the dark, and resumes. Either way the page must end equal to the
// simulator's truth, having shown "Reconnecting…" and applied no event twice.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { applied, checkApplied } from './lib/applied.mjs';
import { TRANSPORTS, AGENTS, QUEUES } from './lib/steps.mjs';
import { hangup } from './lib/truth.mjs';
import {
  PAIRS, CUT, cutFixture, pause, burst, longCall, overflowHistory, showsReconnecting, showsConnected,
  converged,
} from './lib/cut.mjs';

const AGENT = '147';

/** The agent page: the agent's status in each queue, and the caller. */
function readAgentPage(page) {
  return page.evaluate(() => {
    const members = {};
    for (const li of document.querySelectorAll('#queue-list li')) {
      const detail = li.querySelector('.badge-detail');
      members[li.dataset.queue] = { status: li.dataset.status, reason: detail ? detail.textContent : null };
    }
    return { members, call: document.getElementById('current-call').dataset.number || null };
  });
}

/** The wallboard: waiting callers per queue, each agent chip's status, and the callers. */
function readWallboard(page) {
  return page.evaluate(() => {
    const waiting = {};
    const members = {};
    const calls = {};
    for (const board of document.querySelectorAll('.board')) {
      const q = board.dataset.queue;
      waiting[q] = board.dataset.waiting === '' ? null : Number(board.dataset.waiting);
      for (const chip of board.querySelectorAll('.agent-chip')) {
        members[chip.dataset.agent] = members[chip.dataset.agent] || {};
        members[chip.dataset.agent][q] = chip.querySelector('.badge').dataset.status;
        calls[chip.dataset.agent] = chip.dataset.number || null;
      }
    }
    return { waiting, members, calls };
  });
}

function wallboardTruth(t) {
  const members = {};
  for (const a of AGENTS) members[a] = Object.fromEntries(QUEUES.map((q) => [q, t.members[a][q].status]));
  return { waiting: t.waiting, members, calls: t.calls };
}

const PAGES = [
  { name: 'agent page', path: (t) => `agent/${t}/${AGENT}/${QUEUES.join(',')}`, read: readAgentPage,
    expected: (t) => ({ members: t.members[AGENT], call: t.calls[AGENT] }),
    pairs: PAIRS.filter(([a]) => a === AGENT) },
  { name: 'wallboard', path: (t) => `wallboard/${t}/${QUEUES.join(',')}?agents=${AGENTS.join(',')}`,
    read: readWallboard, expected: wallboardTruth, pairs: PAIRS },
];

for (const view of PAGES) {
  for (const transport of TRANSPORTS) {
    describe(`${view.name} over ${transport}, cut off while its call ends`, () => {
      const longPoll = transport === 'long-poll';
      let fx;
      before(async () => { fx = await cutFixture(view.path(transport)); });
      after(async () => { if (fx) await fx.teardown(); });

      it(longPoll ? 'resumes, and shows the truth' : 'replaces its state on resync, and shows the truth', async () => {
        // 148 paused in q1: the call goes to 147.
        await pause(fx.demo.http, ['148', 'q1'], true, 'not this one');
        const call = await longCall(fx.ami, 'q1');
        await converged(fx, view.read, view.expected, 'the call shown');
        fx.proxy.swallow();
        await hangup(fx.ami, call.Channel);
        if (longPoll) {
          for (let round = 1; round <= 5; round += 1) await burst(fx.demo.http, round);
        } else {
          await overflowHistory(fx, 1, view.pairs);
        }
        fx.proxy.down({ refuse: longPoll });
        await showsReconnecting(fx.page);
        fx.proxy.up();
        await showsConnected(fx.page);
        await converged(fx, view.read, view.expected, 'the page after the cut');
        const result = checkApplied(await applied(fx.page), { consecutive: true });
        assert.equal(result.tickets, 1, 'the same ticket');
        assert.equal(result.resyncs, longPoll ? 0 : 1);
      });

      it('logged nothing but the cut itself', () => {
        assert.deepEqual(fx.view.problems.filter((p) => !CUT.test(p)), []);
      });
    });
  }
}
