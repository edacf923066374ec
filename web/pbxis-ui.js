/*
 * pbxis-ui.js: what the three pages share: reading the page URL, status labels and icons,
 * DOM building, durations, the connection banner, dialogs and notices, the callers-waiting list.
 */
(function (global) {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';

  /** Status of a device or queue membership: text label, CSS class, icon. */
  const STATUS = {
    loggedoff: { label: 'Logged off', cls: 'st-off', icon: 'off' },
    paused: { label: 'Paused', cls: 'st-paused', icon: 'pause' },
    not_inuse: { label: 'Available', cls: 'st-idle', icon: 'check' },
    inuse: { label: 'In call', cls: 'st-call', icon: 'phone' },
    busy: { label: 'Busy', cls: 'st-busy', icon: 'busy' },
    ringing: { label: 'Ringing', cls: 'st-ring', icon: 'bell' },
    ringinuse: { label: 'In call, ringing', cls: 'st-ring', icon: 'bell' },
    onhold: { label: 'On hold', cls: 'st-hold', icon: 'hold' },
    unavailable: { label: 'Unavailable', cls: 'st-unavail', icon: 'cross' },
    unknown: { label: 'Unknown', cls: 'st-unknown', icon: 'question' },
    pending: { label: 'Loading…', cls: 'st-pending', icon: 'question' },
  };

  /** Icon shapes on a 16x16 grid: [element, attributes] pairs. */
  const ICONS = {
    off: [['circle', { cx: 8, cy: 8, r: 5.5, fill: 'none', 'stroke-width': 2 }],
      ['line', { x1: 4, y1: 12, x2: 12, y2: 4, 'stroke-width': 2 }]],
    pause: [['rect', { x: 3.5, y: 3, width: 3, height: 10, rx: 0.5 }],
      ['rect', { x: 9.5, y: 3, width: 3, height: 10, rx: 0.5 }]],
    check: [['polyline', { points: '3,8.5 6.5,12 13,4.5', fill: 'none', 'stroke-width': 2.2 }]],
    phone: [['path', { d: 'M4 1.5l2.5 3-1.5 2c.8 1.8 2.2 3.2 4 4l2-1.5 3 2.5-1.5 2.5C7 13.5 2.5 9 1.5 3z' }]],
    busy: [['circle', { cx: 8, cy: 8, r: 6 }],
      ['rect', { x: 4, y: 7, width: 8, height: 2, fill: '#fff', stroke: 'none' }]],
    bell: [['path', { d: 'M8 1.5c2.6 0 4 2 4 4.5v3l1.5 2.5h-11L4 9V6c0-2.5 1.4-4.5 4-4.5z' }],
      ['circle', { cx: 8, cy: 13.5, r: 1.5 }]],
    hold: [['circle', { cx: 8, cy: 8, r: 6, fill: 'none', 'stroke-width': 2 }],
      ['rect', { x: 6, y: 5, width: 1.5, height: 6 }], ['rect', { x: 8.5, y: 5, width: 1.5, height: 6 }]],
    cross: [['line', { x1: 3.5, y1: 3.5, x2: 12.5, y2: 12.5, 'stroke-width': 2.4 }],
      ['line', { x1: 12.5, y1: 3.5, x2: 3.5, y2: 12.5, 'stroke-width': 2.4 }]],
    question: [['path', { d: 'M5 5.5a3 3 0 1 1 4 2.8c-.7.3-1 .8-1 1.5v.7', fill: 'none', 'stroke-width': 2 }],
      ['circle', { cx: 8, cy: 13, r: 1.2 }]],
    link: [['circle', { cx: 8, cy: 8, r: 5 }]],
    clock: [['circle', { cx: 8, cy: 8, r: 6, fill: 'none', 'stroke-width': 1.8 }],
      ['polyline', { points: '8,4.5 8,8 10.5,9.5', fill: 'none', 'stroke-width': 1.8 }]],
    warn: [['path', { d: 'M8 1.5l7 12.5H1z' }],
      ['rect', { x: 7.2, y: 5.5, width: 1.6, height: 4.5, fill: '#fff', stroke: 'none' }],
      ['circle', { cx: 8, cy: 11.8, r: 0.9, fill: '#fff', stroke: 'none' }]],
  };

  function statusInfo(status) {
    return STATUS[status] || STATUS.unknown;
  }

  /** Builds an element: el('div', {class: 'x', 'data-a': 1}, child, 'text', ...). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  /** A decorative 16x16 icon (the text label next to it is what assistive technology reads). */
  function icon(name) {
    const root = svg('svg', { viewBox: '0 0 16 16', class: 'icon', 'aria-hidden': 'true',
      focusable: 'false', fill: 'currentColor', stroke: 'currentColor' });
    for (const [tag, attrs] of ICONS[name] || ICONS.question) {
      const shape = Object.assign({}, attrs);
      if (!('stroke-width' in shape) && !shape.stroke) shape.stroke = 'none';
      root.append(svg(tag, shape));
    }
    return root;
  }

  /** A status badge: colour, icon and text label; `detail` (a pause reason) after the label. */
  function badge(status, detail) {
    const info = statusInfo(status);
    const node = el('span', { class: 'badge ' + info.cls, 'data-status': status });
    node.append(icon(info.icon), el('span', { class: 'badge-label', text: info.label }));
    if (detail) node.append(el('span', { class: 'badge-detail', text: detail }));
    return node;
  }

  /** 75 → "1:15"; 3725 → "1:02:05". */
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h ? h + ':' + String(m).padStart(2, '0') + ':' + ss : m + ':' + ss;
  }

  /**
   * Reads the page's URL: `/<page>/<tech>/<...names>`; `names` lists the segments after the
   * transport (e.g. ['agents', 'queues']). Lists are comma-separated, de-duplicated.
   */
  function pageParams(names) {
    const parts = location.pathname.split('/').filter((p) => p !== '');
    const tail = parts.slice(parts.length - names.length - 1);
    const params = { transport: decodeURIComponent(tail[0]) };
    names.forEach((name, i) => {
      const raw = decodeURIComponent(tail[i + 1] || '');
      params[name] = Array.from(new Set(raw.split(',').filter((x) => x !== '')));
    });
    return params;
  }

  /**
   * A ticket handed to the page in its URL fragment (`#ticket=...`, put there by a back end that
   * holds the API key); removed from the address bar at once, so it is not bookmarked or shared.
   */
  function handedTicket() {
    const ticket = new URLSearchParams(location.hash.slice(1)).get('ticket');
    if (ticket) history.replaceState(null, '', location.pathname + location.search);
    return ticket && /^[A-Za-z0-9_-]{1,200}$/.test(ticket) ? ticket : null;
  }

  /** The service's base URL: where pbxis.js came from. */
  function serviceBase() {
    const script = document.querySelector('script[src$="pbxis.js"]');
    return new URL('.', script ? script.src : location.href).href;
  }

  /** Shows the connection and PBX link state in `node` and on <body data-connection data-pbx>. */
  function showConnection(node, state) {
    let text;
    let cls;
    if (state.connection === 'connected' && state.pbx === false) {
      text = 'PBX link down: states may be stale';
      cls = 'conn-pbxdown';
    } else if (state.connection === 'connected') {
      text = 'Connected';
      cls = 'conn-ok';
    } else if (state.connection === 'reconnecting') {
      const secs = Math.max(1, Math.round((state.retryInMs || 0) / 1000));
      text = 'Reconnecting… (retry in ' + secs + ' s)';
      cls = 'conn-retry';
    } else if (state.connection === 'closed') {
      text = 'Disconnected';
      cls = 'conn-retry';
    } else {
      text = 'Connecting…';
      cls = 'conn-retry';
    }
    node.className = 'conn ' + cls;
    node.replaceChildren(icon('link'), el('span', { text }),
      el('span', { class: 'conn-transport', text: state.transport }));
    if (state.error && state.connection !== 'connected') {
      node.append(el('span', { class: 'conn-error', text: state.error }));
    }
    document.body.dataset.connection = state.connection;
    document.body.dataset.pbx = state.pbx === null ? 'unknown' : state.pbx ? 'up' : 'down';
    showAlert(state);
  }

  /** A bar under the header while what the page shows may be out of date. */
  function showAlert(state) {
    let bar = document.getElementById('alert');
    if (!bar) {
      bar = el('div', { id: 'alert', class: 'alert', role: 'alert', hidden: true });
      document.querySelector('header').after(bar);
    }
    let text = null;
    if (state.connection === 'reconnecting' || state.connection === 'closed') {
      text = 'The connection to the service is lost; reconnecting. What you see may be out of date.';
    } else if (state.connection === 'connected' && state.pbx === false) {
      text = 'The service has lost its link to the phone system. What you see may be out of date.';
    }
    bar.hidden = text === null;
    bar.textContent = text || '';
  }

  /** A short notice at the bottom of the page; kind 'ok' or 'error'. */
  function notify(message, kind) {
    let area = document.getElementById('notices');
    if (!area) {
      area = el('div', { id: 'notices', class: 'notices', role: 'status', 'aria-live': 'polite' });
      document.body.append(area);
    }
    const note = el('div', { class: 'notice notice-' + (kind || 'ok'), text: message });
    area.append(note);
    while (area.children.length > 4) area.firstChild.remove();
    setTimeout(() => note.remove(), kind === 'error' ? 10000 : 4000);
  }

  /**
   * A modal form. fields: [{name, label, value, type, required, maxlength, pattern}].
   * Resolves with {name: value} on submit, null on cancel.
   */
  function ask(title, fields, submitLabel) {
    return new Promise((resolve) => {
      const inputs = fields.map((f) => el('input', {
        name: f.name, id: 'ask-' + f.name, type: f.type || 'text', value: f.value || '',
        required: !!f.required, maxlength: f.maxlength || 80, autocomplete: 'off',
        inputmode: f.inputmode, pattern: f.pattern, checked: f.type === 'checkbox' && f.value,
      }));
      const rows = fields.map((f, i) => el('label', { class: 'ask-row', for: 'ask-' + f.name },
        el('span', { text: f.label }), inputs[i]));
      const form = el('form', { method: 'dialog', class: 'ask' }, el('h2', { id: 'ask-title', text: title }), rows,
        el('div', { class: 'ask-buttons' },
          el('button', { type: 'button', class: 'btn', value: 'cancel', text: 'Cancel' }),
          el('button', { type: 'submit', class: 'btn btn-primary', value: 'ok', text: submitLabel })));
      const dialog = el('dialog', { class: 'dialog', 'aria-labelledby': 'ask-title' }, form);
      let result = null;
      form.querySelector('button[value=cancel]').addEventListener('click', () => dialog.close());
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        result = {};
        fields.forEach((f, i) => {
          result[f.name] = f.type === 'checkbox' ? inputs[i].checked : inputs[i].value.trim();
        });
        dialog.close();
      });
      dialog.addEventListener('close', () => { dialog.remove(); resolve(result); });
      document.body.append(dialog);
      dialog.showModal();
    });
  }

  /** Runs a REST call; shows its outcome as a notice. Resolves with the result or null. */
  async function act(description, call, doneText) {
    try {
      const result = await call();
      notify(description + ': ' + (doneText || 'done'), 'ok');
      return result === null || result === undefined ? true : result;
    } catch (err) {
      notify(description + ' failed: ' + err.message, 'error');
      return null;
    }
  }

  /** Seconds waited since `joined` (epoch seconds), by this browser's clock; never negative. */
  function waitedSince(joined) {
    return Math.max(0, Math.floor(Date.now() / 1000 - joined));
  }

  /**
   * Draws into `node` the callers waiting in `queue` (a `queueCallers` list, first in line
   * first): position, number, name and the wait so far. The longest wait, once past
   * `serviceLevel` seconds (when known), is marked late: red, a warning icon and the words. At
   * most `max` callers are listed, then how many more wait. Call again every second: the waits
   * are computed afresh each time.
   */
  function drawCallers(node, queue, callers, serviceLevel, max) {
    const waits = callers.map((c) => waitedSince(c.joined));
    const longest = waits.length ? Math.max(...waits) : 0;
    const lateAt = typeof serviceLevel === 'number' && serviceLevel > 0 && longest > serviceLevel
      ? waits.indexOf(longest) : -1;
    node.dataset.waiting = String(callers.length);
    node.dataset.longest = String(longest);
    node.dataset.late = String(lateAt >= 0);
    if (!callers.length) {
      node.replaceChildren(el('p', { class: 'wc-none muted', text: 'Nobody waiting' }));
      return;
    }
    const items = callers.slice(0, max).map((c, i) => {
      const late = i === lateAt;
      return el('li', { class: 'wc' + (late ? ' wc-late' : ''), 'data-unique-id': c.uniqueId,
        'data-caller-id': c.callerId, 'data-joined': c.joined, 'data-wait': waits[i],
        'data-late': late ? 'true' : null },
      el('span', { class: 'wc-pos', 'aria-label': 'position ' + c.position, text: String(c.position) }),
      el('span', { class: 'wc-who' },
        el('span', { class: 'wc-number', text: c.callerId || 'Unknown number' }),
        c.name ? el('span', { class: 'wc-name', text: c.name }) : null),
      el('span', { class: 'wc-wait' }, icon(late ? 'warn' : 'clock'),
        el('span', { class: 'wc-time', text: duration(waits[i]) }),
        late ? el('span', { class: 'wc-note', text: 'over ' + duration(serviceLevel) }) : null));
    });
    const more = callers.length - items.length;
    node.replaceChildren(el('ol', { class: 'wc-list', 'aria-label': 'Callers waiting in ' + queue }, items),
      more > 0 ? el('p', { class: 'wc-more muted', text: '+ ' + more + ' more waiting' }) : '');
  }

  /**
   * The service level of each queue, seconds (`GET /queue/status`): resolves with a Map, empty
   * when the status cannot be read (e.g. a page without an API key on a service that needs one).
   */
  async function serviceLevels(options) {
    try {
      const status = await global.pbxis.queueStatus(null, options);
      return new Map((Array.isArray(status) ? status : [status])
        .filter((q) => q && typeof q.serviceLevel === 'number').map((q) => [q.queue, q.serviceLevel]));
    } catch (_) {
      return new Map();
    }
  }

  /** Calls fn every second (for durations). */
  function everySecond(fn) {
    fn();
    return setInterval(fn, 1000);
  }

  global.pbxisUi = {
    STATUS, statusInfo, el, svg, icon, badge, duration, pageParams, serviceBase, handedTicket,
    showConnection, notify, ask, act, everySecond, waitedSince, drawCallers, serviceLevels,
  };
})(window);
