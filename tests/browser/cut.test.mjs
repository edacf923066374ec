// The supervisor panel in Chromium with its connection cut through a chaos proxy during calls,
// over each transport: events the service wrote into a connection that died, bursts while cut
// off, cuts in the middle of a burst (even of an event), a restart of the service. After each,
// the page must show what the simulated Asterisk says (members, waiting callers, who is on the
// phone with whom), having applied no event twice, and it must have said "Reconnecting…" while
// cut off.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from './lib/api.mjs';
import { applied, checkApplied } from './lib/applied.mjs';
import { TRANSPORTS, AGENTS, QUEUES, TIMEOUT } from './lib/steps.mjs';
import { hangup } from './lib/truth.mjs';
import {
  PAIRS, CUT, startService, cutFixture, pause, burst, longCall, overflowHistory, showsReconnecting,
  showsConnected, converged as convergedTo, readPanel,
} from './lib/cut.mjs';

/** Two of the pairs, and the two others. */
const SOME = [PAIRS[0], PAIRS[3]];
const OTHERS = [PAIRS[1], PAIRS[2]];

/** Waits until the panel shows the simulator's truth. */
function converged(fx, what) {
  return convergedTo(fx, readPanel, (t) => t, what);
}

for (const transport of TRANSPORTS) {
  describe(`panel over ${transport}, cut off during calls`, () => {
    // A refused reconnect shows at once; a held long poll would look alive (see pbxis.js).
    const refuse = transport === 'long-poll';
    let fx;
    before(async () => {
      fx = await cutFixture(`client/${transport}/${AGENTS.join(',')}/${QUEUES.join(',')}`);
    });
    after(async () => { if (fx) await fx.teardown(); });

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
      await overflowHistory(fx, 100);
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
