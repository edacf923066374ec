/*
 * pbxis-panel.js: the supervisor panel, /client/<tech>/<agents>/<queues>. One row per agent
 * (name, extension, device status, status in each queue, remote party, time in state), one tile
 * per queue (waiting callers: how many, and who, with a live wait), and controls that act through
 * the REST API: queue membership, calls from an agent's phone, and on an agent's call transfer,
 * park, hang up, listen, whisper and barge (pbxis-control.js); parked calls and spies shown.
 */
(function () {
  'use strict';
  const { el, badge, duration, pageParams, serviceBase, showConnection, notify, ask, act,
    everySecond, statusInfo, drawCallers, serviceLevels } = window.pbxisUi;
  const api = window.pbxis;
  const control = window.pbxisControl;

  const params = pageParams(['agents', 'queues']);
  const base = { baseUrl: serviceBase() };
  const agents = new Map();
  const queues = new Map();
  /** originate action id → destination, to name the number in an `originateFailed`. */
  const originated = new Map();
  /** Callers listed per queue tile; the count says how many wait in all. */
  const LISTED_CALLERS = 5;

  function newAgent(id) {
    return { id, name: null, ext: 'pending', call: null, failure: null, stateKey: null, parked: null, spy: null,
      since: Date.now(), members: new Map(params.queues.map((q) => [q, { status: 'pending', reason: null }])) };
  }

  /** The one-line state of an agent that "time in state" measures. */
  function overall(a) {
    if (a.call) {
      // The caller is known from the first ring: ringing, talking and holding are different states.
      if (a.ext === 'ringing' || a.ext === 'ringinuse') return { key: 'call-ring', label: 'Ringing' };
      if (a.ext === 'onhold') return { key: 'call-hold', label: 'On hold' };
      return { key: 'call', label: 'In call' };
    }
    const states = Array.from(a.members.values()).map((m) => m.status);
    if (a.ext !== 'not_inuse') return { key: a.ext, label: statusInfo(a.ext).label };
    if (states.includes('pending')) return { key: 'pending', label: statusInfo('pending').label };
    if (states.every((s) => s === 'loggedoff')) return { key: 'off', label: 'Logged off' };
    if (states.every((s) => s === 'loggedoff' || s === 'paused')) return { key: 'paused', label: 'Paused' };
    return { key: 'idle', label: 'Available' };
  }

  function touch(a) {
    const now = overall(a);
    if (now.key !== a.stateKey) {
      a.stateKey = now.key;
      a.since = Date.now();
    }
    a.stateLabel = now.label;
  }

  // ---- building the page ----

  function buildQueueTile(q) {
    const count = el('span', { class: 'tile-count', text: '–' });
    const callers = el('div', { class: 'tile-callers' });
    const tile = el('article', { class: 'tile', 'data-queue': q, 'aria-label': 'Queue ' + q },
      el('h3', { class: 'tile-name', text: q }),
      el('div', { class: 'tile-figure' }, count, el('span', { class: 'tile-unit', text: 'waiting' })),
      callers,
      el('div', { class: 'tile-agents' }),
      el('button', { type: 'button', class: 'btn btn-small', text: 'Reset stats',
        'aria-label': 'Reset statistics of queue ' + q, onclick: () => resetQueue(q) }));
    queues.set(q, { count: null, callers: [], serviceLevel: null, node: tile, countNode: count,
      callersNode: callers });
    return tile;
  }

  function buildHead() {
    const head = document.getElementById('agents-head');
    head.append(el('th', { scope: 'col', text: 'Agent' }), el('th', { scope: 'col', text: 'Phone' }),
      ...params.queues.map((q) => el('th', { scope: 'col', class: 'col-queue', text: q })),
      el('th', { scope: 'col', text: 'Caller' }), el('th', { scope: 'col', text: 'In state' }),
      el('th', { scope: 'col', text: 'Call' }));
  }

  function buildRow(a) {
    a.nameNode = el('td', { class: 'agent-cell', 'data-label': 'Agent' });
    a.devNode = el('td', { class: 'dev-cell', 'data-label': 'Phone' });
    a.memberNodes = new Map(params.queues.map((q) =>
      [q, el('td', { class: 'member-cell', 'data-queue': q, 'data-label': q })]));
    a.callerNode = el('td', { class: 'caller-cell', 'data-label': 'Caller' });
    a.timeNode = el('td', { class: 'time-cell', 'data-label': 'In state' });
    a.actionsNode = el('td', { class: 'actions-cell', 'data-label': 'Call' });
    a.row = el('tr', { 'data-agent': a.id }, a.nameNode, a.devNode,
      Array.from(a.memberNodes.values()), a.callerNode, a.timeNode, a.actionsNode);
    return a.row;
  }

  // ---- drawing state ----

  /** Every cell holds one wrapper, so that cells stack as label + value on narrow screens. */
  function fill(cell, ...children) {
    cell.replaceChildren(el('div', { class: 'cell' }, ...children));
  }

  function drawAgent(a) {
    touch(a);
    drawCounts();
    fill(a.nameNode, el('span', { class: 'agent-name', text: a.name || 'Agent ' + a.id }),
      el('span', { class: 'agent-ext', text: a.id }));
    fill(a.devNode, badge(a.ext));
    drawCaller(a);
    drawTime(a);
    drawActions(a);
  }

  /** Call… always; on a call, transfer, park, hang up, listen, whisper, barge. */
  function drawActions(a) {
    const shown = a.call ? 'call' : 'idle';
    if (a.actionsNode.dataset.shown === shown) return; // keep focus on a button that stays
    a.actionsNode.dataset.shown = shown;
    const who = a.id;
    fill(a.actionsNode, el('span', { class: 'cell-buttons' },
      button('Call…', 'Call a number from ' + a.id, () => callFrom(a)),
      a.call ? control.callButtons(a.id, who, ['control', 'supervise'], base, button) : []));
  }

  function drawCaller(a) {
    const node = a.callerNode;
    if (a.call) {
      node.dataset.number = a.call.number;
      fill(node, el('span', { class: 'caller-number', text: a.call.number }),
        a.call.name ? el('span', { class: 'caller-name', text: a.call.name }) : null,
        a.call.queue ? el('span', { class: 'caller-queue', text: 'via ' + a.call.queue }) : null);
    } else {
      delete node.dataset.number;
      fill(node, a.failure
        ? el('span', { class: 'call-failed', 'data-failed': a.failure.actionId, text: a.failure.text })
        : el('span', { class: 'muted', text: '—' }));
    }
    const cell = node.firstChild;
    if (a.parked) {
      cell.append(el('span', { class: 'badge st-hold parked', 'data-space': a.parked.space },
        window.pbxisUi.icon('hold'), el('span', { text: 'Parked at ' + a.parked.space }),
        el('span', { class: 'badge-detail', text: a.parked.callerId || a.parked.channel })));
    }
    if (a.spy) {
      cell.append(el('span', { class: 'badge st-ring spied', 'data-mode': a.spy.mode || '' },
        window.pbxisUi.icon('bell'), el('span', { text: (control.MODES[a.spy.mode] || 'Spied')
          + (a.spy.supervisor ? ' by ' + a.spy.supervisor : '') })));
    }
  }

  function drawTime(a) {
    fill(a.timeNode, el('span', { class: 'time-label', text: a.stateLabel }),
      a.stateKey === 'pending' ? null
        : el('span', { class: 'time-value', text: duration((Date.now() - a.since) / 1000) }));
  }

  function drawMember(a, q) {
    const m = a.members.get(q);
    const cell = a.memberNodes.get(q);
    cell.dataset.status = m.status;
    const who = a.id + ' in ' + q;
    const buttons = [];
    if (m.status === 'pending') {
      // Nothing to act on before the snapshot has told what the state is.
    } else if (m.status === 'loggedoff') {
      buttons.push(button('Log on', 'Log on ' + who, () => logOn(a, q)));
    } else {
      if (m.status === 'paused') buttons.push(button('Unpause', 'Unpause ' + who, () => pause(a, q, false)));
      else buttons.push(button('Pause', 'Pause ' + who, () => pause(a, q, true)));
      buttons.push(button('Log off', 'Log off ' + who, () => logOff(a, q)));
    }
    fill(cell, badge(m.status, m.status === 'paused' ? m.reason : null),
      el('span', { class: 'cell-buttons' }, buttons));
  }

  function button(text, label, onclick) {
    return el('button', { type: 'button', class: 'btn btn-small', text, 'aria-label': label,
      onclick: async (e) => {
        const b = e.currentTarget;
        b.disabled = true;
        try { await onclick(); } finally { b.disabled = false; }
      } });
  }

  function drawQueue(q) {
    const t = queues.get(q);
    t.countNode.textContent = t.count === null ? '–' : String(t.count);
    t.node.dataset.count = t.count === null ? '' : String(t.count);
    t.node.classList.toggle('tile-busy', (t.count || 0) > 0);
    drawQueueAgents(q);
    drawQueueCallers(q);
  }

  function drawQueueCallers(q) {
    const t = queues.get(q);
    drawCallers(t.callersNode, q, t.callers, t.serviceLevel, LISTED_CALLERS);
  }

  /** Of the agents on this page: how many are logged on to queue q, and how many are free. */
  function drawQueueAgents(q) {
    let on = 0;
    let free = 0;
    for (const a of agents.values()) {
      const status = a.members.get(q).status;
      if (status === 'pending' || status === 'loggedoff') continue;
      on += 1;
      if (status === 'not_inuse') free += 1;
    }
    queues.get(q).node.querySelector('.tile-agents').replaceChildren(
      el('span', { text: on + ' logged on' }), el('span', { text: free + ' available' }));
  }

  /** Counts of the agents by state, beside the "Agents" title. */
  function drawCounts() {
    const counts = new Map();
    for (const a of agents.values()) {
      if (a.stateKey === 'pending') return;
      counts.set(a.stateLabel, (counts.get(a.stateLabel) || 0) + 1);
    }
    document.getElementById('agent-counts').textContent = Array.from(counts)
      .map(([label, n]) => n + ' ' + label.toLowerCase()).join(' · ');
  }

  // ---- controls (REST) ----

  async function logOn(a, q) {
    const v = await ask('Log ' + a.id + ' on to ' + q, [
      { name: 'memberName', label: 'Member name', value: a.name || 'Agent ' + a.id, maxlength: 64 },
      { name: 'paused', label: 'Start paused', type: 'checkbox' },
    ], 'Log on');
    if (!v) return;
    const body = { queue: q, agent: a.id, paused: !!v.paused };
    if (v.memberName) body.memberName = v.memberName;
    await act('Log on ' + a.id + ' to ' + q, () => api.queueAction('add', body, base));
  }

  async function logOff(a, q) {
    await act('Log off ' + a.id + ' from ' + q,
      () => api.queueAction('remove', { queue: q, agent: a.id }, base));
  }

  async function pause(a, q, paused) {
    const body = { queue: q, agent: a.id, paused };
    if (paused) {
      const v = await ask('Pause ' + a.id + ' in ' + q,
        [{ name: 'reason', label: 'Reason (optional)', maxlength: 80 }], 'Pause');
      if (!v) return;
      if (v.reason) body.reason = v.reason;
    }
    await act((paused ? 'Pause ' : 'Unpause ') + a.id + ' in ' + q,
      () => api.queueAction('pause', body, base));
  }

  async function callFrom(a) {
    const v = await ask('Call from ' + (a.name || a.id) + ' (' + a.id + ')', [
      { name: 'dest', label: 'Number', required: true, maxlength: 40, inputmode: 'tel' },
      { name: 'callerId', label: 'Caller ID (optional)', maxlength: 80 },
    ], 'Call');
    if (!v || !v.dest) return;
    const id = await act('Call ' + v.dest + ' from ' + a.id,
      () => api.originate(a.id, v.dest, { callerId: v.callerId || undefined }, base), 'ringing the agent\'s phone');
    if (typeof id === 'string') {
      originated.set(id, v.dest);
      while (originated.size > 100) originated.delete(originated.keys().next().value);
    }
  }

  async function resetQueue(q) {
    const v = await ask('Reset the statistics of ' + q + '?', [], 'Reset');
    if (!v) return;
    await act('Reset statistics of ' + q, () => api.queueAction('reset', { queue: q }, base));
  }

  // ---- events ----

  function onEvent(e) {
    const a = e.agent !== undefined ? agents.get(e.agent) : null;
    switch (e.type) {
      case 'agentName':
        if (a) { a.name = e.name; drawAgent(a); }
        break;
      case 'extensionStatus':
        if (a) { a.ext = e.status; drawAgent(a); }
        break;
      case 'queueMemberStatus':
        if (a && a.members.has(e.queue)) {
          a.members.set(e.queue, { status: e.status, reason: e.reason || null });
          drawMember(a, e.queue);
          drawAgent(a);
          drawQueueAgents(e.queue);
        }
        break;
      case 'phoneNumber':
        if (a) {
          a.call = e.number === null || e.number === undefined ? null
            : { number: String(e.number), name: e.name || null, queue: e.queue || null };
          if (a.call) a.failure = null;
          drawAgent(a);
        }
        break;
      case 'queueCount':
        if (queues.has(e.queue)) { queues.get(e.queue).count = e.count; drawQueue(e.queue); }
        break;
      case 'queueCallers':
        if (queues.has(e.queue) && Array.isArray(e.callers)) {
          queues.get(e.queue).callers = e.callers;
          drawQueueCallers(e.queue);
        }
        break;
      case 'parked':
        if (a) {
          if (e.state === 'parked') {
            a.parked = { space: e.space, callerId: e.callerId, channel: e.channel };
          } else {
            a.parked = null;
            notify('Parked call ' + (e.callerId || e.channel) + ' at ' + e.space + ': '
              + (control.PARK_END[e.state] || e.state), e.state === 'retrieved' ? 'ok' : 'error');
          }
          drawCaller(a);
        }
        break;
      case 'spyStarted':
      case 'spyStopped':
        if (a) {
          a.spy = e.type === 'spyStarted' ? { supervisor: e.supervisor || null, mode: e.mode || null } : null;
          drawCaller(a);
        }
        break;
      case 'originateFailed':
        if (a) {
          const dest = originated.get(e.actionId);
          a.failure = { actionId: e.actionId,
            text: 'originateFailed' + (dest ? ' (' + dest + ')' : '') + ': ' + e.reason };
          notify('Call from ' + a.id + (dest ? ' to ' + dest : '') + ' failed: ' + e.reason, 'error');
          drawAgent(a);
        }
        break;
      default:
        break;
    }
  }

  /**
   * A new ticket, or `resync`: the snapshot that follows restates every device, member status and
   * queue count, but names and calls only where there is one: forget those.
   */
  function onReset() {
    for (const a of agents.values()) {
      a.call = null; a.name = null; a.parked = null; a.spy = null;
      drawAgent(a);
    }
    loadServiceLevels();
  }

  /** The queues' service levels, which mark a wait as late; asked again after every reset. */
  async function loadServiceLevels() {
    const levels = await serviceLevels(base);
    for (const [q, t] of queues) {
      if (levels.has(q)) t.serviceLevel = levels.get(q);
      drawQueueCallers(q);
    }
  }

  function start() {
    document.title = 'Agents ' + params.agents.join(', ') + ' · ' + document.title;
    const tiles = document.getElementById('queues');
    params.queues.forEach((q) => tiles.append(buildQueueTile(q)));
    buildHead();
    const body = document.getElementById('agents-body');
    for (const id of params.agents) {
      const a = newAgent(id);
      agents.set(id, a);
      body.append(buildRow(a));
      params.queues.forEach((q) => drawMember(a, q));
      drawAgent(a);
    }
    const conn = document.getElementById('conn');
    api.connect({ agents: params.agents, queues: params.queues, transport: params.transport,
      ticket: window.pbxisUi.handedTicket(),
      baseUrl: base.baseUrl, onEvent, onReset, onState: (s) => showConnection(conn, s) });
    control.learnScopes(base, () => agents.forEach((a) => {
      delete a.actionsNode.dataset.shown;
      drawActions(a);
    }));
    everySecond(() => {
      agents.forEach(drawTime);
      queues.forEach((_, q) => drawQueueCallers(q));
    });
  }

  start();
})();
