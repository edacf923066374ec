// A link that dies without a word (no reset, no close: packets swallowed) on the panel over SSE
// and WebSocket: the service's heartbeats stop reaching the page, pbxis.js gives up on the
// stream, the page says "Reconnecting…" by itself, and once the network is back it resumes on
// its ticket exactly (no event lost or applied twice) and shows the simulator's truth. The
// service runs with a one-second keep-alive so that silence is noticed in seconds.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { applied, checkApplied } from './lib/applied.mjs';
import { AGENTS, QUEUES } from './lib/steps.mjs';
import {
  PAIRS, cutFixture, pause, showsReconnecting, showsConnected, converged, readPanel,
} from './lib/cut.mjs';

for (const transport of ['sse', 'websocket']) {
  describe(`panel over ${transport}, its link gone silent`, () => {
    let fx;
    before(async () => {
      fx = await cutFixture(`client/${transport}/${AGENTS.join(',')}/${QUEUES.join(',')}`,
        ['--keep-alive-seconds', '1']);
    });
    after(async () => { if (fx) await fx.teardown(); });

    it('notices the silence, says it is reconnecting, and resumes exactly', async () => {
      fx.proxy.swallow();
      await pause(fx.demo.http, PAIRS[0], true, 'silent link');
      await showsReconnecting(fx.page);
      fx.proxy.up();
      await showsConnected(fx.page);
      await converged(fx, readPanel, (t) => t, 'the page after the silence');
      const result = checkApplied(await applied(fx.page), { consecutive: true });
      assert.equal(result.tickets, 1, 'resumed on its ticket');
      assert.equal(result.resyncs, 0, 'resumed exactly');
    });
  });
}
