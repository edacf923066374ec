/*
 * pbxis-wallboard.js: the wallboard, /wallboard/<tech>/<queues>[?agents=147,148]. Large per-queue
 * figures from `queueSummary` events (a ticket with summaryEvents), waiting callers live from
 * `queueCount` and who they are from `queueCallers` (with a live wait, the longest in red past
 * the service level), and a chart of waiting callers over the last minutes. With ?agents=, a
 * strip of those agents' status per queue.
 */
(function () {
  'use strict';
  const { el, svg, icon, badge, duration, pageParams, serviceBase, showConnection, ask, act, drawCallers,
    serviceLevels, waitedSince } = window.pbxisUi;
  const api = window.pbxis;

  const CHART_MS = 10 * 60 * 1000;
  /** Callers listed per board; the big figure says how many wait in all. */
  const LISTED_CALLERS = 6;
  const params = pageParams(['queues']);
  const agentIds = Array.from(new Set((new URLSearchParams(location.search).get('agents') || '')
    .split(',').filter((a) => /^[A-Za-z0-9_.+-]{1,64}$/.test(a)))).slice(0, 200);
  const boards = new Map();
  /** agent → the remote party's number while in a call (shown on the agent strip). */
  const calls = new Map();

  function newBoard(q) {
    return { q, waiting: null, summary: null, summaryAt: 0, samples: [], members: new Map(),
      callers: null, serviceLevel: null };
  }

  // ---- building ----

  const FIGURES = [
    ['longest', 'Longest wait'], ['answered', 'Answered'], ['abandoned', 'Abandoned'],
    ['sl', 'Service level'], ['loggedIn', 'Logged in'], ['available', 'Available'],
  ];

  function build(b) {
    b.waitingNode = el('span', { class: 'board-waiting', text: '–' });
    b.figureNodes = new Map(FIGURES.map(([key]) => [key, el('dd', { 'data-figure': key, text: '–' })]));
    b.chart = svg('svg', { class: 'chart', viewBox: '0 0 600 100', preserveAspectRatio: 'none',
      role: 'img', 'aria-label': 'Waiting callers in ' + b.q + ' over the last 10 minutes' });
    b.chartMax = el('span', { text: '' });
    b.strip = el('div', { class: 'agent-strip', 'aria-label': 'Agents in ' + b.q });
    b.callersNode = el('div', { class: 'board-callers' });
    b.node = el('section', { class: 'board', 'data-queue': b.q, 'aria-label': 'Queue ' + b.q },
      el('h2', { class: 'board-name', text: b.q }),
      el('div', { class: 'board-main' }, b.waitingNode,
        el('span', { class: 'board-waiting-label', text: 'waiting' })),
      b.callersNode,
      el('dl', { class: 'figures' }, FIGURES.map(([key, label]) =>
        el('div', { class: 'figure' }, el('dt', { text: label }), b.figureNodes.get(key)))),
      el('div', { class: 'chart-box' }, b.chart, el('div', { class: 'chart-caption' },
        el('span', { text: 'Waiting, last 10 minutes' }), b.chartMax)),
      el('div', { class: 'board-foot' }, agentIds.length ? b.strip : el('span'),
        el('button', { type: 'button', class: 'btn btn-quiet', text: 'Reset stats',
          'aria-label': 'Reset statistics of queue ' + b.q, onclick: () => resetQueue(b.q) })));
    return b.node;
  }

  // ---- drawing ----

  function setFigure(b, key, text) {
    b.figureNodes.get(key).textContent = text;
  }

  function draw(b) {
    b.waitingNode.textContent = b.waiting === null ? '–' : String(b.waiting);
    b.node.dataset.waiting = b.waiting === null ? '' : String(b.waiting);
    b.node.dataset.alert = String((b.waiting || 0) > 0);
    const s = b.summary;
    if (!s) return;
    setFigure(b, 'answered', String(s.completed));
    setFigure(b, 'abandoned', String(s.abandoned));
    // No call answered or abandoned yet: no service level to speak of.
    setFigure(b, 'sl', s.completed + s.abandoned > 0 ? Math.round(s.serviceLevelPerf) + '%' : '–');
    b.figureNodes.get('sl').title = 'answered within ' + s.serviceLevel + ' s';
    setFigure(b, 'loggedIn', String(s.loggedIn));
    setFigure(b, 'available', String(s.available));
    drawLongest(b);
  }

  function drawLongest(b) {
    if (b.callers) {
      // Who waits is known: the longest wait is theirs, to the second.
      const longest = b.callers.reduce((m, c) => Math.max(m, waitedSince(c.joined)), 0);
      const late = b.serviceLevel > 0 && longest > b.serviceLevel;
      const figure = b.figureNodes.get('longest');
      figure.dataset.late = String(late);
      figure.replaceChildren(late ? icon('warn') : '', duration(longest));
      figure.title = late ? 'over the service level of ' + duration(b.serviceLevel) : '';
      drawCallers(b.callersNode, b.q, b.callers, b.serviceLevel, LISTED_CALLERS);
      return;
    }
    const s = b.summary;
    if (!s) return;
    // The summary's longest wait grows while callers keep waiting; none waiting, none longest.
    const grown = s.longestWait + (Date.now() - b.summaryAt) / 1000;
    setFigure(b, 'longest', (b.waiting || 0) > 0 && s.longestWait > 0 ? duration(grown)
      : (b.waiting || 0) > 0 ? '<' + duration(Math.max(1, (Date.now() - b.summaryAt) / 1000)) : '0:00');
  }

  function drawChart(b) {
    const now = Date.now();
    const from = now - CHART_MS;
    while (b.samples.length > 1 && b.samples[1].t <= from) b.samples.shift();
    const max = Math.max(4, ...b.samples.map((p) => p.v));
    const x = (t) => ((Math.max(t, from) - from) / CHART_MS) * 600;
    const y = (v) => 97 - (v / max) * 92;
    let d = '';
    let last = null;
    for (const p of b.samples) {
      const px = x(p.t).toFixed(1);
      d += last === null ? 'M' + px + ' ' + y(p.v).toFixed(1) : ' H' + px + ' V' + y(p.v).toFixed(1);
      last = p;
    }
    const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => svg('line', { class: 'chart-grid', x1: 0, x2: 600,
      y1: y(f * max), y2: y(f * max) }));
    const parts = [...grid];
    if (last) {
      d += ' H600';
      parts.push(svg('path', { class: 'chart-area', d: d + ' V' + y(0) + ' H' + x(b.samples[0].t).toFixed(1) + ' Z' }));
      parts.push(svg('path', { class: 'chart-line', d }));
    }
    b.chart.replaceChildren(...parts);
    b.chartMax.textContent = 'scale 0–' + max;
  }

  function sample(b, v) {
    const now = Date.now();
    const last = b.samples[b.samples.length - 1];
    if (last && last.v === v) return;
    if (last && last.t === now) last.v = v; else b.samples.push({ t: now, v });
    if (b.samples.length > 2000) b.samples.shift();
    drawChart(b);
  }

  function drawMember(b, agent) {
    const m = b.members.get(agent);
    let chip = b.strip.querySelector('[data-agent="' + CSS.escape(agent) + '"]');
    if (!chip) {
      chip = el('span', { class: 'agent-chip', 'data-agent': agent });
      b.strip.append(chip);
    }
    const name = m.name || agent;
    const call = calls.get(agent);
    chip.dataset.number = call || '';
    chip.replaceChildren(badge(m.status || 'pending', name
      + (call ? ' · ' + call : '') + (m.calls !== undefined ? ' · ' + m.calls + ' calls' : '')));
  }

  async function resetQueue(q) {
    const v = await ask('Reset the statistics of ' + q + '?', [], 'Reset');
    if (v) await act('Reset statistics of ' + q, () => api.queueAction('reset', { queue: q }, { baseUrl: serviceBase() }));
  }

  // ---- events ----

  function onEvent(e) {
    if (e.type === 'phoneNumber') {
      if (e.number === null || e.number === undefined) calls.delete(e.agent); else calls.set(e.agent, String(e.number));
      boards.forEach((b) => { if (b.members.has(e.agent)) drawMember(b, e.agent); });
      return;
    }
    const b = e.queue !== undefined ? boards.get(e.queue) : null;
    if (!b) return;
    switch (e.type) {
      case 'queueCount':
        b.waiting = e.count;
        sample(b, e.count);
        draw(b);
        break;
      case 'queueSummary':
        if (b.node.querySelector('.board-hint')) b.node.querySelector('.board-hint').remove();
        b.summary = e;
        b.summaryAt = Date.now();
        b.serviceLevel = e.serviceLevel;
        b.waiting = e.waiting;
        sample(b, e.waiting);
        draw(b);
        break;
      case 'queueCallers':
        if (Array.isArray(e.callers)) {
          b.callers = e.callers;
          drawLongest(b);
        }
        break;
      case 'queueMemberStatus': {
        const m = b.members.get(e.agent) || {};
        m.status = e.status;
        b.members.set(e.agent, m);
        drawMember(b, e.agent);
        break;
      }
      case 'memberSummary': {
        const m = b.members.get(e.agent) || {};
        m.name = e.memberName;
        m.calls = e.callsTaken;
        b.members.set(e.agent, m);
        drawMember(b, e.agent);
        break;
      }
      default: break;
    }
  }

  /** Without summary events (summary_refresh_seconds = 0) the figures cannot be drawn: say so. */
  function checkSummaries() {
    for (const b of boards.values()) {
      if (b.summary || b.node.querySelector('.board-hint')) continue;
      b.node.querySelector('.figures').after(el('p', { class: 'board-hint',
        text: 'No figures yet: the service sends them only when summary_refresh_seconds is set.' }));
    }
  }

  function tick() {
    document.getElementById('clock').textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    boards.forEach(drawLongest);
  }

  let summaryTimer = null;

  /** The service levels until summaries tell them (summary_refresh_seconds may be 0). */
  async function loadServiceLevels() {
    const levels = await serviceLevels({ baseUrl: serviceBase() });
    for (const b of boards.values()) {
      if (levels.has(b.q) && !b.summary) b.serviceLevel = levels.get(b.q);
      drawLongest(b);
    }
  }

  function start() {
    const container = document.getElementById('boards');
    for (const q of params.queues) {
      const b = newBoard(q);
      boards.set(q, b);
      container.append(build(b));
      drawChart(b);
    }
    const conn = document.getElementById('conn');
    api.connect({ agents: agentIds, queues: params.queues, transport: params.transport,
      ticket: window.pbxisUi.handedTicket(),
      summaryEvents: true, baseUrl: serviceBase(), onEvent,
      // A new ticket, or `resync`: the snapshot restates member states and counts, calls only if any.
      onReset: () => {
        calls.clear();
        boards.forEach((b) => b.members.forEach((_, a) => drawMember(b, a)));
        loadServiceLevels();
      },
      onState: (s) => {
        showConnection(conn, s);
        if (s.connection === 'connected' && !summaryTimer) summaryTimer = setTimeout(checkSummaries, 20000);
      } });
    tick();
    setInterval(tick, 1000);
    setInterval(() => boards.forEach(drawChart), 5000);
  }

  start();
})();
