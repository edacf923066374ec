/*
 * pbxis-agent.js: one agent's own page, /agent/<tech>/<agent>/<queues>: phone status, the
 * current caller with transfer, park and hang up (pbxis-control.js) and where a call it parked
 * waits, status in each queue with log on/off and pause/unpause, click-to-call.
 */
(function () {
  'use strict';
  const { el, badge, duration, pageParams, serviceBase, showConnection, notify, ask, act,
    everySecond, statusInfo } = window.pbxisUi;
  const api = window.pbxis;
  const control = window.pbxisControl;

  const params = pageParams(['agent', 'queues']);
  const base = { baseUrl: serviceBase() };
  const me = { id: params.agent[0], name: null, ext: 'pending', extSince: Date.now(), call: null,
    members: new Map(params.queues.map((q) => [q, { status: 'pending', reason: null }])) };
  const rows = new Map();
  const originated = new Map();

  function drawMe() {
    document.getElementById('me-name').textContent = me.name || 'Agent ' + me.id;
    document.getElementById('me-ext').textContent = 'Extension ' + me.id;
    const name = me.name || 'Agent ' + me.id;
    document.getElementById('title').textContent = name === 'Agent ' + me.id ? name : name + ' · ' + me.id;
    document.title = name + ' · pbxis';
    const status = document.getElementById('me-status');
    status.replaceChildren(badge(me.ext));
    status.dataset.status = me.ext;
    drawSince();
  }

  function drawSince() {
    const label = statusInfo(me.ext).label;
    document.getElementById('me-since').textContent = me.ext === 'pending' ? ''
      : label + ' for ' + duration((Date.now() - me.extSince) / 1000);
    const timer = document.querySelector('#current-call .call-time');
    if (timer && me.call) {
      const ringing = me.ext === 'ringing' || me.ext === 'ringinuse';
      timer.textContent = (ringing ? 'Ringing ' : me.ext === 'onhold' ? 'On hold ' : 'In call ')
        + duration((Date.now() - me.call.since) / 1000);
    }
  }

  function drawCall() {
    const node = document.getElementById('current-call');
    if (me.call) {
      node.dataset.number = me.call.number;
      node.replaceChildren(el('span', { class: 'caller-number', text: me.call.number }),
        me.call.name ? el('span', { class: 'caller-name', text: me.call.name }) : null,
        me.call.queue ? el('span', { class: 'caller-queue', text: 'via ' + me.call.queue }) : null,
        el('span', { class: 'call-time time-value', text: '0:00' }));
    } else {
      delete node.dataset.number;
      node.replaceChildren(el('span', { class: 'muted', text: 'No call' }));
    }
    drawCallActions();
    drawSince();
  }

  /** Transfer, park and hang up while in a call (kept while the call lasts: focus stays). */
  function drawCallActions() {
    const node = document.getElementById('call-actions');
    const shown = me.call ? 'call' : 'idle';
    if (node.dataset.shown === shown) return;
    node.dataset.shown = shown;
    node.replaceChildren(...(me.call ? control.callButtons(me.id, 'my call', ['control'], base, button) : []));
  }

  /** A call this agent parked: where it waits, until it is picked up or comes back. */
  function drawParked(parked) {
    const node = document.getElementById('parked');
    node.dataset.space = parked ? parked.space : '';
    node.replaceChildren(parked ? el('span', { class: 'badge st-hold parked', 'data-space': parked.space },
      window.pbxisUi.icon('hold'), el('span', { text: 'Parked at ' + parked.space }),
      el('span', { class: 'badge-detail', text: parked.callerId || parked.channel })) : '');
  }

  function drawQueue(q) {
    const m = me.members.get(q);
    const row = rows.get(q);
    row.dataset.status = m.status;
    const buttons = [];
    if (m.status === 'pending') {
      // Nothing to act on before the snapshot has told what the state is.
    } else if (m.status === 'loggedoff') {
      buttons.push(button('Log on', 'Log on to ' + q, () => logOn(q)));
    } else {
      if (m.status === 'paused') buttons.push(button('Unpause', 'Unpause in ' + q, () => pause([q], false)));
      else buttons.push(button('Pause', 'Pause in ' + q, () => askPause([q])));
      buttons.push(button('Log off', 'Log off from ' + q, () => logOff(q)));
    }
    row.replaceChildren(el('span', { class: 'q-name', text: q }),
      el('span', { class: 'q-state' }, badge(m.status, m.status === 'paused' ? m.reason : null)),
      el('span', { class: 'row-buttons' }, buttons));
  }

  function button(text, label, onclick) {
    return el('button', { type: 'button', class: 'btn', text, 'aria-label': label,
      onclick: async (e) => {
        const b = e.currentTarget;
        b.disabled = true;
        try { await onclick(); } finally { b.disabled = false; }
      } });
  }

  // ---- controls (REST) ----

  async function logOn(q) {
    const v = await ask('Log on to ' + q, [
      { name: 'memberName', label: 'Name shown in the queue', value: me.name || 'Agent ' + me.id, maxlength: 64 },
    ], 'Log on');
    if (!v) return;
    const body = { queue: q, agent: me.id };
    if (v.memberName) body.memberName = v.memberName;
    await act('Log on to ' + q, () => api.queueAction('add', body, base));
  }

  async function logOff(q) {
    await act('Log off from ' + q, () => api.queueAction('remove', { queue: q, agent: me.id }, base));
  }

  async function askPause(qs) {
    const v = await ask(qs.length === 1 ? 'Pause in ' + qs[0] : 'Pause in all my queues',
      [{ name: 'reason', label: 'Reason (optional)', maxlength: 80 }], 'Pause');
    if (v) await pause(qs, true, v.reason);
  }

  async function pause(qs, paused, reason) {
    for (const q of qs) {
      const body = { queue: q, agent: me.id, paused };
      if (paused && reason) body.reason = reason;
      await act((paused ? 'Pause in ' : 'Unpause in ') + q, () => api.queueAction('pause', body, base));
    }
  }

  function loggedOn(wantPaused) {
    return params.queues.filter((q) => {
      const s = me.members.get(q).status;
      return s !== 'loggedoff' && (s === 'paused') === wantPaused;
    });
  }

  async function dial(e) {
    e.preventDefault();
    const input = document.getElementById('dial-number');
    const dest = input.value.trim();
    if (!dest) return;
    const result = document.getElementById('dial-result');
    result.className = 'dial-result';
    result.textContent = 'Calling ' + dest + '…';
    const id = await act('Call ' + dest, () => api.originate(me.id, dest, {}, base), 'pick up your phone');
    if (typeof id === 'string') {
      originated.set(id, dest);
      while (originated.size > 50) originated.delete(originated.keys().next().value);
      result.dataset.actionId = id;
      result.textContent = 'Calling ' + dest + ': pick up your phone.';
    } else {
      result.textContent = '';
    }
  }

  /** A call has ended: an outcome shown for it ("calling ...") is no longer news. */
  function clearDialResult() {
    const result = document.getElementById('dial-result');
    if (result.classList.contains('call-failed')) return;
    result.textContent = '';
    delete result.dataset.actionId;
  }

  // ---- events ----

  function onEvent(e) {
    if (e.agent !== undefined && e.agent !== me.id) return;
    switch (e.type) {
      case 'agentName': me.name = e.name; drawMe(); break;
      case 'extensionStatus':
        if (e.status !== me.ext) me.extSince = Date.now();
        // Answered: the call's time starts now, not at the first ring.
        if (me.call && e.status === 'inuse' && (me.ext === 'ringing' || me.ext === 'ringinuse')) me.call.since = Date.now();
        me.ext = e.status;
        drawMe();
        break;
      case 'queueMemberStatus':
        if (me.members.has(e.queue)) {
          me.members.set(e.queue, { status: e.status, reason: e.reason || null });
          drawQueue(e.queue);
        }
        break;
      case 'phoneNumber':
        if ((e.number === null || e.number === undefined) && me.call) clearDialResult();
        me.call = e.number === null || e.number === undefined ? null
          : { number: String(e.number), name: e.name || null, queue: e.queue || null,
            since: me.call && me.call.number === String(e.number) ? me.call.since : Date.now() };
        drawCall();
        break;
      case 'parked':
        if (e.state === 'parked') drawParked(e);
        else {
          drawParked(null);
          notify('Parked call at ' + e.space + ': ' + (control.PARK_END[e.state] || e.state),
            e.state === 'retrieved' ? 'ok' : 'error');
        }
        break;
      case 'originateFailed': {
        const dest = originated.get(e.actionId);
        const result = document.getElementById('dial-result');
        result.className = 'dial-result call-failed';
        result.dataset.failed = e.actionId;
        result.textContent = 'originateFailed' + (dest ? ' (' + dest + ')' : '') + ': ' + e.reason;
        notify('Call' + (dest ? ' to ' + dest : '') + ' failed: ' + e.reason, 'error');
        break;
      }
      default: break;
    }
  }

  /** A new ticket, or `resync`: the snapshot that follows restates a name or call only if any. */
  function onReset() {
    me.call = null;
    me.name = null;
    drawParked(null);
    drawMe();
    drawCall();
  }

  function start() {
    const list = document.getElementById('queue-list');
    for (const q of params.queues) {
      const row = el('li', { 'data-queue': q });
      rows.set(q, row);
      list.append(row);
      drawQueue(q);
    }
    drawMe();
    drawCall();
    document.getElementById('pause-all').addEventListener('click', () => {
      const qs = loggedOn(false);
      if (qs.length) askPause(qs); else notify('Not logged on unpaused in any queue', 'error');
    });
    document.getElementById('unpause-all').addEventListener('click', () => pause(loggedOn(true), false));
    document.getElementById('dial').addEventListener('submit', dial);
    const conn = document.getElementById('conn');
    api.connect({ agents: [me.id], queues: params.queues, transport: params.transport,
      ticket: window.pbxisUi.handedTicket(),
      baseUrl: base.baseUrl, onEvent, onReset,
      onState: (s) => showConnection(conn, s) });
    control.learnScopes(base, () => {
      delete document.getElementById('call-actions').dataset.shown;
      drawCallActions();
    });
    everySecond(drawSince);
  }

  start();
})();
