// The callers-waiting lists of the panel's queue tiles and of the wallboard's boards, against
// the demo: who waits, in line order, as the simulator has them, and a live wait that turns red
// past the queue's service level. The page's clock is set with Playwright's clock (Date.now in
// the page), never waited for.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually } from './lib/api.mjs';
import { inboundCall, hangup, callersTruth } from './lib/truth.mjs';
import {
  AGENTS, QUEUES, TIMEOUT, fixture, waitInPage, screenshots, noProblems, callerNumber, snap,
} from './lib/steps.mjs';

/** The simulator's service level of every queue (QueueParams ServiceLevel), seconds. */
const SERVICE_LEVEL = 30;

const PAGES = [
  { name: 'panel', path: `client/sse/${AGENTS.join(',')}/${QUEUES.join(',')}`, box: '.tile' },
  { name: 'wallboard', path: `wallboard/websocket/${QUEUES.join(',')}`, box: '.board' },
];

/** A CSS colour whose red clearly dominates: rgb(196, 36, 47) is, rgb(255, 235, 233) is not. */
function isRed(color) {
  const m = /^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$/.exec(color);
  if (!m || (m[4] !== undefined && Number(m[4]) === 0)) return false;
  const [r, g, b] = m.slice(1, 4).map(Number);
  return r > g + 60 && r > b + 60;
}

/** 95 → '1:35'. */
const mmss = (s) => Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');

/** The callers each queue's list shows: {queue: [{uniqueId, callerId, name, position}]}. */
function readLists(page, box) {
  return page.evaluate((sel) => Object.fromEntries(Array.from(document.querySelectorAll(sel)).map((b) => [
    b.dataset.queue, Array.from(b.querySelectorAll('li.wc')).map((li) => ({
      uniqueId: li.dataset.uniqueId, callerId: li.dataset.callerId,
      name: li.querySelector('.wc-name')?.textContent ?? null,
      position: Number(li.querySelector('.wc-pos').textContent) })),
  ])), box);
}

/**
 * Waits until the simulator's QueueEntry list holds `count` callers in q1 and the page's lists
 * agree with it (the name is what the caller sent); resolves with the page's lists.
 */
async function listsConverge(fx, box, names, count, what) {
  let last = null;
  try {
    await eventually(async () => {
      const truth = await callersTruth(fx.ami, QUEUES);
      if (truth.q1.length !== count) return false;
      const want = Object.fromEntries(Object.entries(truth).map(([q, cs]) =>
        [q, cs.map((c) => ({ uniqueId: c.uniqueId, callerId: c.callerId, name: names[c.callerId] ?? null,
          position: c.position }))]));
      const got = await readLists(fx.page, box);
      last = { got, want };
      return JSON.stringify(got) === JSON.stringify(want);
    }, TIMEOUT, what);
  } catch (err) {
    assert.deepEqual(last && last.got, last && last.want, what);
    throw err;
  }
  return last.got;
}

/** The items of queue q1's list, as drawn: wait text, late or not, the note, the colour. */
function readWaits(page, box) {
  return page.evaluate((sel) => Array.from(document.querySelectorAll(sel + '[data-queue="q1"] li.wc'))
    .map((li) => ({ callerId: li.dataset.callerId, wait: li.querySelector('.wc-time').textContent,
      late: li.dataset.late === 'true', note: li.querySelector('.wc-note')?.textContent ?? null,
      icon: !!li.querySelector('.wc-wait svg'),
      color: [getComputedStyle(li).color, getComputedStyle(li).backgroundColor] })), box);
}

for (const p of PAGES) {
  describe(`callers waiting on the ${p.name}`, () => {
    let fx;
    const first = callerNumber();
    const second = String(Number(first) + 1).padStart(first.length, '0');
    const names = { [first]: 'Browser test ' + first, [second]: 'Browser test ' + second };
    let calls = [];
    before(async () => {
      fx = await fixture(p.path, `callers-${p.name}`);
      // Nobody takes a call in q1: its callers wait.
      for (const agent of AGENTS) {
        await api(fx.demo.http, 'POST', 'queue/pause', { queue: 'q1', agent, paused: true, reason: 'callers test' });
      }
    });
    after(async () => { if (fx) await fx.teardown(); });

    it('lists the callers in line order, with their names, as the simulator has them', async () => {
      await waitInPage(fx, () => document.body.dataset.connection === 'connected');
      const empty = await listsConverge(fx, p.box, names, 0, 'no caller yet');
      assert.deepEqual(empty, { q1: [], q2: [] });
      assert.equal(await fx.page.locator(`${p.box}[data-queue="q1"] .wc-none`).textContent(), 'Nobody waiting');
      calls.push(await inboundCall(fx.ami, 'q1', first, 600));
      await waitInPage(fx, ([sel, n]) => !!document.querySelector(`${sel} li.wc[data-caller-id="${n}"]`), [p.box, first]);
      calls.push(await inboundCall(fx.ami, 'q1', second, 600));
      const lists = await listsConverge(fx, p.box, names, 2, 'two callers in q1');
      assert.deepEqual(lists.q1.map((c) => [c.callerId, c.position]), [[first, 1], [second, 2]]);
    });

    it('counts each wait on the page\'s clock and marks the longest, past the service level', async () => {
      const joined = await fx.page.locator(`${p.box}[data-queue="q1"] li.wc`).evaluateAll((lis) =>
        lis.map((li) => Number(li.dataset.joined)));
      assert.equal(joined.length, 2);
      assert.ok(joined[0] <= joined[1], 'the first in line joined first');
      const plain = { late: false, note: null, icon: true };

      await fx.page.clock.setFixedTime((joined[0] + SERVICE_LEVEL - 1) * 1000);
      await waitInPage(fx, ([sel, want]) => document.querySelector(`${sel}[data-queue="q1"] .wc-time`)
        .textContent === want, [p.box, '0:29']);
      let waits = await readWaits(fx.page, p.box);
      assert.deepEqual(waits.map(({ color, wait, ...rest }) => rest),
        [{ callerId: first, ...plain }, { callerId: second, ...plain }], 'nobody late at 29 s');
      const normal = waits[0].color;

      await fx.page.clock.setFixedTime((joined[0] + 95) * 1000);
      await waitInPage(fx, ([sel, want]) => document.querySelector(`${sel}[data-queue="q1"] .wc-time`)
        .textContent === want, [p.box, '1:35']);
      waits = await readWaits(fx.page, p.box);
      assert.deepEqual(waits.map(({ color, ...rest }) => rest), [
        { callerId: first, wait: '1:35', late: true, note: 'over 0:30', icon: true },
        { callerId: second, wait: mmss(95 - (joined[1] - joined[0])), late: false, note: null, icon: true },
      ], 'the longest wait is late, and only it');
      assert.notDeepEqual(waits[0].color, normal, 'the late wait has its own colours');
      assert.ok(waits[0].color.some(isRed), 'the late wait is red (text or background): ' + waits[0].color);
      assert.ok(!normal.some(isRed), 'a wait in time is not red: ' + normal);
      assert.equal(await fx.page.locator(`${p.box}[data-queue="q1"] li[data-late="true"] .wc-wait svg`).count(), 1,
        'the late wait has a warning icon');
      if (p.name === 'wallboard') {
        const figure = fx.page.locator('.board[data-queue="q1"] [data-figure="longest"]');
        assert.equal(await figure.textContent(), '1:35');
        assert.equal(await figure.getAttribute('data-late'), 'true');
        assert.equal(await fx.page.locator('.board[data-queue="q2"] [data-figure="longest"]').textContent(), '0:00');
      }
      await snap(fx, 'late');
    });

    it('writes screenshots at 1080p and 360 px with callers waiting', async () => {
      await screenshots(fx, `callers-${p.name}`, () => document.querySelectorAll('li.wc').length === 2);
    });

    it('drops a caller who hangs up and renumbers the line', async () => {
      assert.ok(await hangup(fx.ami, calls[0].Channel), 'the first caller hung up');
      const lists = await listsConverge(fx, p.box, names, 1, 'one caller left in q1');
      assert.deepEqual(lists.q1.map((c) => [c.callerId, c.position]), [[second, 1]]);
    });

    it('empties the list when the last caller is answered', async () => {
      await api(fx.demo.http, 'POST', 'queue/pause', { queue: 'q1', agent: '147', paused: false });
      const lists = await listsConverge(fx, p.box, names, 0, 'nobody waiting after the answer');
      assert.deepEqual(lists, { q1: [], q2: [] });
      await waitInPage(fx, (sel) => !!document.querySelector(sel + '[data-queue="q1"] .wc-none'), p.box);
      await hangup(fx.ami, calls[1].Channel).catch(() => false);
    });

    it('logged no console errors', () => noProblems(fx));
  });
}
