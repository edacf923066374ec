// Steps of the tests that cut a page off through the chaos proxy: the service and the page behind
// the proxy, bursts of events, long calls, the page's connection banner, convergence of what the
// page shows with the simulator's truth, and a cut longer than a ticket's history.
import assert from 'node:assert/strict';
import { api, eventually } from './api.mjs';
import { startDemo } from './demo.mjs';
import { launch, open } from './browser.mjs';
import { ChaosProxy } from './proxy.mjs';
import { recordApplied } from './applied.mjs';
import { AGENTS, QUEUES, TIMEOUT, callerNumber } from './steps.mjs';
import { amiLogin, inboundCall, queueTruth, callsTruth } from './truth.mjs';

/** The members paused and unpaused in a burst (149 is logged off: it would ring for ever). */
export const PAIRS = [['147', 'q1'], ['147', 'q2'], ['148', 'q1'], ['148', 'q2']];
/** What a browser logs when a stream it has open is cut, or its ticket is gone: expected here. */
export const CUT = new RegExp('ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET'
  + '|ERR_CONNECTION_CLOSED|ERR_CONNECTION_REFUSED|ERR_INVALID_CHUNKED_ENCODING|ERR_INVALID_HTTP_RESPONSE'
  + '|ERR_CONTENT_LENGTH_MISMATCH|ERR_SOCKET_NOT_CONNECTED|^HTTP 404: .*/long-poll(\\?.*)?$|status of 404 \\(Not Found\\)'
  + '|WebSocket connection to .* failed');
/** Delivered events a ticket keeps for a reconnect (the service's default). */
const HISTORY = 512;

/**
 * A fresh demo (with `extra` arguments) with 149 logged off (it never answers, so a call would
 * ring it for ever).
 */
export async function startService(extra = []) {
  const demo = await startDemo(['--call-rate', '0', ...extra]);
  // (Until the service has logged in to the simulator, actions are refused with 503.)
  await eventually(() => api(demo.http, 'POST', 'queue/remove', { queue: QUEUES[0], agent: '149' }),
    TIMEOUT, 'the service connected to Asterisk');
  await api(demo.http, 'POST', 'queue/remove', { queue: QUEUES[1], agent: '149' });
  return { demo, ami: await amiLogin(demo.ami) };
}

/**
 * The service, a proxy in front of it, a browser, and the page at `path` through the proxy with
 * pbxis.js's deliveries recorded; `fx.teardown()` stops everything.
 */
export async function cutFixture(path, extra = []) {
  const fx = await startService(extra);
  fx.proxy = await ChaosProxy.start(fx.demo.http);
  fx.browser = await launch();
  fx.view = await open(fx.browser, fx.proxy.url + path, undefined, recordApplied);
  fx.page = fx.view.page;
  fx.teardown = async () => {
    await fx.view.close().catch(() => {});
    await fx.browser.close().catch(() => {});
    await fx.proxy.close();
    fx.ami?.close();
    await fx.demo.stop();
  };
  await showsConnected(fx.page);
  return fx;
}

export function pause(http, [agent, queue], paused, reason) {
  return api(http, 'POST', 'queue/pause', paused ? { queue, agent, paused, reason } : { queue, agent, paused });
}

/** The pairs paused at once, then unpaused at once but one, which keeps the round's reason. */
export async function burst(http, round, pairs = PAIRS) {
  await Promise.all(pairs.map((p) => pause(http, p, true, 'burst ' + round)));
  await Promise.all(pairs.filter((_, i) => i !== round % pairs.length).map((p) => pause(http, p, false)));
}

/** A caller into `queue` who stays on the line (answered or waiting) until hung up. */
export function longCall(ami, queue) {
  return inboundCall(ami, queue, callerNumber(), 600, 600);
}

/**
 * With the proxy swallowing: bursts of `pairs` (all in the page's filter) until the service has
 * sent the page more events than a ticket's history keeps, quickly (a WebSocket that answers no
 * ping is dropped after ~30 s, and what follows is kept for it, not lost). Returns the next round.
 */
export async function overflowHistory(fx, round, pairs = PAIRS) {
  const perBurst = 2 * pairs.length - 1;
  for (let events = 0; events < HISTORY + 100; events += perBurst) await burst(fx.demo.http, round++, pairs);
  await eventually(() => fx.proxy.bytesSwallowed > 0, TIMEOUT, 'the service writing into the dark');
  return round;
}

/** Waits until the page says it is reconnecting, in its status line and in its alert bar. */
export function showsReconnecting(page) {
  return page.waitForFunction(() => document.body.dataset.connection === 'reconnecting'
    && document.getElementById('conn').textContent.includes('Reconnecting…')
    && !document.getElementById('alert').hidden, null, { timeout: TIMEOUT });
}

export function showsConnected(page) {
  return page.waitForFunction(() => document.body.dataset.connection === 'connected'
    && document.body.dataset.pbx === 'up', null, { timeout: TIMEOUT });
}

/**
 * The simulator's truth for the pages: {members: {agent: {queue: {status, reason}}}, waiting:
 * {queue: count}, calls: {agent: number or null}}.
 */
export async function truth(ami) {
  const q = await queueTruth(ami, AGENTS, QUEUES);
  const members = {};
  for (const [a, qs] of Object.entries(q.members)) {
    members[a] = {};
    for (const [queue, m] of Object.entries(qs)) members[a][queue] = { status: m.status, reason: m.reason };
  }
  return { members, waiting: q.waiting, calls: await callsTruth(ami, AGENTS) };
}

/**
 * Waits until `read(page)` equals `expected(truth)`, both read afresh each time; on time-out,
 * fails with the difference.
 */
export async function converged(fx, read, expected, what) {
  let last = null;
  try {
    await eventually(async () => {
      const want = expected(await truth(fx.ami));
      const got = await read(fx.page);
      last = { want, got };
      return JSON.stringify(got) === JSON.stringify(want);
    }, TIMEOUT, what);
  } catch (err) {
    assert.deepEqual(last && last.got, last && last.want, what);
    throw err;
  }
}

/** The panel as the user sees it: member badges, waiting callers, the caller on each row. */
export function readPanel(page) {
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
