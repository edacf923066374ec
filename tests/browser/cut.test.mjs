// The supervisor panel in Chromium with its connection cut through a chaos proxy during calls,
// over each transport: events the service wrote into a connection that died, bursts while cut
// off, cuts in the middle of a burst (even of an event), a restart of the service. After each,
// the page must show what the simulated Asterisk says (members, waiting callers, who is on the
// phone with whom), having applied no event twice, and it must have said "Reconnecting…" while
// cut off.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually } from './lib/api.mjs';
import { startDemo } from './lib/demo.mjs';
import { launch, open } from './lib/browser.mjs';
import { ChaosProxy } from './lib/proxy.mjs';
import { recordApplied, applied, checkApplied } from './lib/applied.mjs';
import { TRANSPORTS, AGENTS, QUEUES, TIMEOUT, callerNumber } from './lib/steps.mjs';
import { amiLogin, inboundCall, hangup, queueTruth, callsTruth } from './lib/truth.mjs';

/** The members paused and unpaused in a burst (149 is logged off: it would ring for ever). */
const PAIRS = [['147', 'q1'], ['147', 'q2'], ['148', 'q1'], ['148', 'q2']];
/** Two of them, and the two others. */
const SOME = [PAIRS[0], PAIRS[3]];
const OTHERS = [PAIRS[1], PAIRS[2]];
/** What a browser logs when a stream it has open is cut: expected here. */
const CUT = new RegExp('ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET'
  + '|ERR_CONNECTION_CLOSED|ERR_CONNECTION_REFUSED|ERR_INVALID_CHUNKED_ENCODING|ERR_INVALID_HTTP_RESPONSE|ERR_CONTENT_LENGTH_MISMATCH'
  + '|^HTTP 404: .*/long-poll(\\?.*)?$|status of 404 \\(Not Found\\)|WebSocket connection to .* failed');

/** The panel as the user sees it: member badges, waiting callers, the caller on each row. */
function readPanel(page) {
  return page.evaluate(() => {
    const members = {};
    const calls = {};
    for (const row of document.querySelectorAll('tr[data-agent]')) {
      const agent = row.dataset.agent;
      members[agent] = {};
      for (const cell of row.querySelectorAll('td.member-cell')) {
        const detail = cell.querySelector('.badge-detail');
        members[agent][cell.dataset.queue] = { status: cell.dataset.status, reason: detail ? detail.textContent : null };
      }
      calls[agent] = row.querySelector('td.caller-cell').dataset.number || null;
    }
    const waiting = Object.fromEntries(Array.from(document.querySelectorAll('.tile'))
      .map((t) => [t.dataset.queue, t.dataset.count === '' ? null : Number(t.dataset.count)]));
    return { members, waiting, calls };
  });
}

/** The same, from the simulator over AMI. */
async function truth(ami) {
  const q = await queueTruth(ami, AGENTS, QUEUES);
  const members = {};
  for (const [a, qs] of Object.entries(q.members)) {
    members[a] = {};
    for (const [queue, m] of Object.entries(qs)) members[a][queue] = { status: m.status, reason: m.reason };
  }
  return { members, waiting: q.waiting, calls: await callsTruth(ami, AGENTS) };
}

/** Waits until the page equals the truth, both read afresh each time. */
async function converged(fx, what) {
  let last = null;
  try {
    await eventually(async () => {
      const want = await truth(fx.ami);
      const got = await readPanel(fx.page);
      last = { want, got };
      return JSON.stringify(got) === JSON.stringify(want);
    }, TIMEOUT, what);
  } catch (err) {
    assert.deepEqual(last && last.got, last && last.want, what);
    throw err;
  }
}

function pause(http, [agent, queue], paused, reason) {
  return api(http, 'POST', 'queue/pause', paused ? { queue, agent, paused, reason } : { queue, agent, paused });
}

/** The pairs paused at once, then unpaused at once but one, which keeps the round's reason. */
async function burst(http, round, pairs = PAIRS) {
  await Promise.all(pairs.map((p) => pause(http, p, true, 'burst ' + round)));
  await Promise.all(pairs.filter((_, i) => i !== round % pairs.length).map((p) => pause(http, p, false)));
}

/** A caller into `queue` who stays on the line (answered or waiting) until hung up. */
function longCall(ami, queue) {
  return inboundCall(ami, queue, callerNumber(), 600, 600);
}

/** Waits until the page says it is reconnecting, in its status line and in its alert bar. */
function showsReconnecting(page) {
  return page.waitForFunction(() => document.body.dataset.connection === 'reconnecting'
    && document.getElementById('conn').textContent.includes('Reconnecting…')
    && !document.getElementById('alert').hidden, null, { timeout: TIMEOUT });
}

function showsConnected(page) {
  return page.waitForFunction(() => document.body.dataset.connection === 'connected'
    && document.body.dataset.pbx === 'up', null, { timeout: TIMEOUT });
}

/** A fresh demo with 149 logged off (it never answers, so a call would ring it for ever). */
async function startService() {
  const demo = await startDemo(['--call-rate', '0']);
  // (Until the service has logged in to the simulator, actions are refused with 503.)
  await eventually(() => api(demo.http, 'POST', 'queue/remove', { queue: QUEUES[0], agent: '149' }),
    TIMEOUT, 'the service connected to Asterisk');
  await api(demo.http, 'POST', 'queue/remove', { queue: QUEUES[1], agent: '149' });
  return { demo, ami: await amiLogin(demo.ami) };
}

for (const transport of TRANSPORTS) {
  describe(`panel over ${transport}, cut off during calls`, () => {
    // A refused reconnect shows at once; a held long poll would look alive (see pbxis.js).
    const refuse = transport === 'long-poll';
    const fx = {};
    before(async () => {
      Object.assign(fx, await startService());
      fx.proxy = await ChaosProxy.start(fx.demo.http);
      fx.browser = await launch();
      fx.view = await open(fx.browser, fx.proxy.url + `client/${transport}/${AGENTS.join(',')}/${QUEUES.join(',')}`,
        undefined, recordApplied);
      fx.page = fx.view.page;
      await showsConnected(fx.page);
    });
    after(async () => {
      await fx.view?.close().catch(() => {});
      await fx.browser?.close().catch(() => {});
      await fx.proxy?.close();
      fx.ami?.close();
      await fx.demo?.stop();
    });

    it('loses none of the events written into a connection that died, nor those sent while cut', async () => {
      const first = await longCall(fx.ami, 'q1');
      await longCall(fx.ami, 'q2');
      await converged(fx, 'both calls shown');
      // What the dying connection swallows is stated once: nothing later repeats it.
      fx.proxy.swallow();
      await hangup(fx.ami, first.Channel);
      await Promise.all(SOME.map((p) => pause(fx.demo.http, p, true, 'swallowed')));
      await eventually(() => fx.proxy.bytesSwallowed > 0, TIMEOUT, 'the service writing into the dark');
      fx.proxy.down({ refuse });
      await showsReconnecting(fx.page);
      for (let round = 1; round <= 3; round += 1) await burst(fx.demo.http, round, OTHERS);
      fx.proxy.up();
      await showsConnected(fx.page);
      await converged(fx, 'the page after the cut');
      const result = checkApplied(await applied(fx.page), { consecutive: true });
      assert.equal(result.tickets, 1, 'resumed on its ticket');
      assert.equal(result.resyncs, 0, 'resumed exactly, without resync');
    });

    it('resumes after cuts in the middle of a burst, even of an event', async () => {
      let round = 10;
      for (const bytes of [1, 90, 700]) {
        fx.proxy.cutAfter(bytes, { refuse });
        // Bursts until one is cut (the burst goes on, its end written into the cut connection).
        await eventually(async () => {
          if (fx.proxy.isUp) await burst(fx.demo.http, round++);
          return !fx.proxy.isUp;
        }, TIMEOUT, `a cut after ${bytes} bytes`);
        await showsReconnecting(fx.page);
        fx.proxy.up();
        await showsConnected(fx.page);
        await converged(fx, `the page after a cut at ${bytes} bytes`);
      }
      const log = await applied(fx.page);
      const result = checkApplied(log, { consecutive: true });
      assert.equal(result.tickets, 1, 'resumed on its ticket');
      assert.equal(result.resyncs, 0, 'resumed exactly, without resync');
    });

    // A long poll takes at most one answer into the dark, so its history cannot overflow.
    it('replaces its state on resync after a cut longer than the ticket\'s history', { skip: refuse && 'long-poll' }, async () => {
      const call = await longCall(fx.ami, 'q1');
      await converged(fx, 'the call shown');
      const before = checkApplied(await applied(fx.page));
      fx.proxy.swallow();
      // Ended while cut off: a snapshot does not mention it, the page must forget it by itself.
      await hangup(fx.ami, call.Channel);
      // The service keeps 512 delivered events per ticket; an event here is at most ~200 bytes.
      let round = 100;
      await eventually(async () => {
        await burst(fx.demo.http, round++);
        return fx.proxy.bytesSwallowed > 600 * 200;
      }, 4 * TIMEOUT, 'more events written into the dark than the history keeps');
      fx.proxy.down();
      await showsReconnecting(fx.page);
      fx.proxy.up();
      await showsConnected(fx.page);
      await converged(fx, 'the page after the resync');
      const after = checkApplied(await applied(fx.page), { consecutive: true });
      assert.equal(after.tickets, before.tickets, 'the same ticket');
      assert.equal(after.resyncs, before.resyncs + 1, 'told to resync');
    });

    it('takes a new ticket when the service restarted, and shows the new truth', async () => {
      fx.proxy.down({ refuse });
      fx.ami.close();
      await fx.demo.stop();
      Object.assign(fx, await startService());
      await longCall(fx.ami, 'q2');
      fx.proxy.retarget(fx.demo.http);
      await showsReconnecting(fx.page);
      fx.proxy.up();
      await showsConnected(fx.page);
      await converged(fx, 'the page after the restart');
      const result = checkApplied(await applied(fx.page), { consecutive: true });
      assert.equal(result.tickets, 2, 'a second ticket');
      assert.equal(fx.view.tickets.length, 2);
    });

    it('logged nothing but the cuts themselves', () => {
      assert.deepEqual(fx.view.problems.filter((p) => !CUT.test(p)), []);
    });
  });
}
