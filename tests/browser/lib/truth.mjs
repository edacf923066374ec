// What the simulated Asterisk itself says (over AMI), to compare the pages with.
import { Ami } from './ami.mjs';
import { eventually } from './api.mjs';

const DEVICE = { 0: 'unknown', 1: 'not_inuse', 2: 'inuse', 3: 'busy', 4: 'unavailable',
  5: 'unavailable', 6: 'ringing', 7: 'ringinuse', 8: 'onhold' };

/** The agent of a queue interface: `PJSIP/147` → `147`, `Local/147@agents/n` → `147`. */
export function agentOf(location) {
  const m = /^[^/]+\/([^@/]+)/.exec(location || '');
  return m ? m[1] : null;
}

/** Runs an AMI list action; resolves with its items. */
export async function list(ami, fields, complete) {
  const response = await ami.action(fields);
  if (response.Response !== 'Success') throw new Error(fields.Action + ': ' + response.Message);
  const id = response.ActionID;
  await ami.waitEvent((e) => e.Event === complete && e.ActionID === id);
  return ami.events.filter((e) => e.ActionID === id && e.Event !== complete);
}

/**
 * The queue state as the page should show it: {members: {agent: {queue: {status, reason,
 * name}}}, waiting: {queue: count}} for the given agents and queues.
 */
export async function queueTruth(ami, agents, queues) {
  const items = await list(ami, { Action: 'QueueStatus' }, 'QueueStatusComplete');
  const members = {};
  const waiting = {};
  for (const a of agents) {
    members[a] = {};
    for (const q of queues) members[a][q] = { status: 'loggedoff', reason: null, name: null };
  }
  for (const item of items) {
    if (item.Event === 'QueueParams' && queues.includes(item.Queue)) waiting[item.Queue] = Number(item.Calls);
    if (item.Event !== 'QueueMember' || !queues.includes(item.Queue)) continue;
    const agent = agentOf(item.Location);
    if (!(agent in members)) continue;
    const paused = item.Paused === '1';
    members[agent][item.Queue] = {
      status: paused ? 'paused' : DEVICE[item.Status] || 'unknown',
      reason: paused && item.PausedReason ? item.PausedReason : null,
      name: item.Name || null,
    };
  }
  return { members, waiting };
}

/** Logs in to the simulator, retrying while it restarts. */
export function amiLogin(address, timeoutMs = 30000) {
  return eventually(() => Ami.login(address), timeoutMs, 'AMI login to ' + address);
}

/**
 * Puts a caller into `queue` the way the recorded rig does (Originate of Local/<queue>@callers
 * with Application Wait); resolves with the OriginateResponse event (its Channel is the caller).
 */
export async function inboundCall(ami, queue, number, patience = 30, talkTime = 3) {
  const response = await ami.action({
    Action: 'Originate', Channel: 'Local/' + queue + '@callers', Application: 'Wait',
    Data: String(patience), CallerID: '"Browser test ' + number + '" <' + number + '>',
    Variable: ['CALLER=' + number, '__TALKTIME=' + talkTime], Timeout: '10000', Async: 'true',
  });
  if (response.Response !== 'Success') throw new Error('Originate refused: ' + response.Message);
  return ami.waitEvent((e) => e.Event === 'OriginateResponse' && e.ActionID === response.ActionID);
}

/** Ends a call by hanging up the caller's channel. */
export async function hangup(ami, channel) {
  const response = await ami.action({ Action: 'Hangup', Channel: channel });
  return response.Response === 'Success';
}

/** The PBX-restart fault: `core restart now` over AMI. The AMI connection closes. */
export async function restartPbx(ami) {
  await ami.action({ Action: 'Command', Command: 'core restart now' }).catch(() => null);
  ami.close();
}

/**
 * Who each agent is on the phone with (ringing or talking), as the simulator's channels say:
 * {agent: number or null}. An agent's channel is `<tech>/<agent>-<n>`; its connected line is
 * the other party.
 */
export async function callsTruth(ami, agents) {
  const channels = await list(ami, { Action: 'CoreShowChannels' }, 'CoreShowChannelsComplete');
  const calls = Object.fromEntries(agents.map((a) => [a, null]));
  for (const c of channels) {
    const m = /^[^/]+\/([^-/@;]+)-[0-9a-f]+$/.exec(c.Channel || '');
    if (m && m[1] in calls && c.ConnectedLineNum) calls[m[1]] = c.ConnectedLineNum;
  }
  return calls;
}

/**
 * The callers waiting in each queue, as the simulator lists them (QueueStatus's QueueEntry
 * events): {queue: [{uniqueId, callerId, position}]}, first in line first.
 */
export async function callersTruth(ami, queues) {
  const items = await list(ami, { Action: 'QueueStatus' }, 'QueueStatusComplete');
  const out = Object.fromEntries(queues.map((q) => [q, []]));
  for (const e of items) {
    if (e.Event !== 'QueueEntry' || !(e.Queue in out)) continue;
    out[e.Queue].push({ uniqueId: e.Uniqueid, callerId: e.CallerIDNum || '', position: Number(e.Position) });
  }
  for (const q of queues) out[q].sort((a, b) => a.position - b.position);
  return out;
}
