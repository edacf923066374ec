/*
 * pbxis-control.js: call control shared by the panel and the agent page: transfer (with the
 * choice among an agent's calls when it has several), park, hang up, listen / whisper / barge
 * (the supervisor's own extension asked once and remembered), and which of them the page offers.
 */
(function (global) {
  'use strict';
  const { el, ask, act, notify } = global.pbxisUi;
  const api = global.pbxis;

  /** Where the supervisor's extension is remembered, in this browser. */
  const SUPERVISOR_KEY = 'pbxis.supervisor';
  const AGENT_RE = /^[A-Za-z0-9_.+-]{1,64}$/;

  /**
   * The scopes the page's URL leaves it: a back end that hands the page its ticket may narrow
   * what the user is offered with `scopes=control,supervise` in the fragment
   * (`#ticket=...&scopes=control`) or the query; null when it says nothing. Read once at load
   * (the fragment is cleared once the ticket is taken from it).
   */
  const URL_SCOPES = (function () {
    const hash = new URLSearchParams(location.hash.slice(1)).get('scopes');
    const raw = hash !== null ? hash : new URLSearchParams(location.search).get('scopes');
    return raw === null ? null : new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  })();

  /** The key's scopes (`GET /key`), null until known; empty when the page may not ask. */
  let keyScopes = null;

  /**
   * What the page offers: `control` (transfer, park, hang up) and `supervise` (listen, whisper,
   * barge): what the page's requests may do (`GET /key`: every scope on a service without keys,
   * none when the page has no key for a service that needs one), narrowed by the URL's `scopes`.
   */
  function allowedScopes() {
    const allowed = new Set(keyScopes || []);
    if (URL_SCOPES) for (const s of Array.from(allowed)) if (!URL_SCOPES.has(s)) allowed.delete(s);
    return allowed;
  }

  /** Asks what the page's key may do; calls `then()` once known (to draw the buttons again). */
  async function learnScopes(base, then) {
    try {
      const answer = await api.keyScopes(base);
      keyScopes = new Set(Array.isArray(answer && answer.scopes) ? answer.scopes : []);
    } catch (_) {
      keyScopes = new Set();
    }
    document.body.dataset.scopes = Array.from(allowedScopes()).join(',');
    then();
  }

  /** A modal choice among `items` ({label, value}); resolves with the value chosen, or null. */
  function choose(title, items) {
    return new Promise((resolve) => {
      let result = null;
      const dialog = el('dialog', { class: 'dialog', 'aria-labelledby': 'choose-title' });
      const buttons = items.map((item) => el('button', { type: 'button', class: 'btn choice',
        text: item.label, onclick: () => { result = item.value; dialog.close(); } }));
      dialog.append(el('div', { class: 'ask' }, el('h2', { id: 'choose-title', text: title }),
        el('div', { class: 'choices' }, buttons),
        el('div', { class: 'ask-buttons' }, el('button', { type: 'button', class: 'btn', text: 'Cancel',
          onclick: () => dialog.close() }))));
      dialog.addEventListener('close', () => { dialog.remove(); resolve(result); });
      document.body.append(dialog);
      dialog.showModal();
    });
  }

  /**
   * Runs `call(agentOrChannel)` for the agent; when it has several calls (409 with candidates),
   * asks which and runs it again on that call's channel (`pick(candidate)` names it).
   */
  async function onOneCall(description, agent, call, pick, options) {
    try {
      const result = await call(agent);
      notify(description + ': ' + ((options && options.done && options.done(result)) || 'done'), 'ok');
      return result;
    } catch (err) {
      const candidates = err && err.status === 409 && err.body && Array.isArray(err.body.candidates)
        ? err.body.candidates : null;
      if (!candidates || !candidates.length) {
        notify(description + ' failed: ' + err.message, 'error');
        return null;
      }
      const chosen = await choose(description + ': which call?', candidates.map((c) => ({
        label: (c.callerId || 'Unknown number') + ' · ' + c.bridgedChannel, value: c })));
      if (!chosen) return null;
      const result = await act(description, () => call(pick(chosen)));
      return result;
    }
  }

  /** Transfer: asks for an agent or a number, then moves the agent's caller there. */
  async function transfer(agent, who, base) {
    const v = await ask('Transfer the call of ' + who, [
      { name: 'dest', label: 'To (an agent or a number)', required: true, maxlength: 40, inputmode: 'tel' },
    ], 'Transfer');
    if (!v || !v.dest) return null;
    return onOneCall('Transfer ' + agent + ' to ' + v.dest, agent,
      (target) => api.redirectTo(v.dest, target, base), (c) => c.bridgedChannel);
  }

  function park(agent, base) {
    return onOneCall('Park the caller of ' + agent, agent, (target) => api.parkAndAnnounce(target, base),
      (c) => c.bridgedChannel, { done: (r) => (r && r.space ? 'parked at ' + r.space : null) });
  }

  async function hangup(agent, who, base) {
    const v = await ask('Hang up the call of ' + who + '?', [], 'Hang up');
    if (!v) return null;
    return onOneCall('Hang up ' + agent, agent, (target) => api.hangup(target, base), (c) => c.agentChannel);
  }

  /** The supervisor's own extension: remembered in this browser, asked the first time. */
  async function supervisorExtension() {
    let stored = null;
    try { stored = global.localStorage.getItem(SUPERVISOR_KEY); } catch (_) { /* storage off */ }
    if (stored && AGENT_RE.test(stored)) return stored;
    const v = await ask('Your own extension (it rings, then joins the call)', [
      { name: 'supervisor', label: 'Extension', required: true, maxlength: 64, inputmode: 'tel',
        pattern: '[A-Za-z0-9_.+\\-]{1,64}' },
    ], 'Save');
    if (!v || !AGENT_RE.test(v.supervisor || '')) return null;
    try { global.localStorage.setItem(SUPERVISOR_KEY, v.supervisor); } catch (_) { /* storage off */ }
    return v.supervisor;
  }

  const MODES = { listen: 'Listen', whisper: 'Whisper', barge: 'Barge' };

  async function spy(agent, mode, base) {
    const supervisor = await supervisorExtension();
    if (!supervisor) return null;
    return act(MODES[mode] + ' to ' + agent + ' from ' + supervisor,
      () => api.spy(supervisor, agent, mode, base), 'ringing ' + supervisor);
  }

  /**
   * The call-control buttons for an agent in a call: `who` names the agent in labels; `kinds`
   * which groups to show ('control', 'supervise'), within what the page allows.
   */
  function callButtons(agent, who, kinds, base, button) {
    const allowed = allowedScopes();
    const out = [];
    if (kinds.includes('control') && allowed.has('control')) {
      out.push(button('Transfer…', 'Transfer the call of ' + who, () => transfer(agent, who, base)),
        button('Park', 'Park the call of ' + who, () => park(agent, base)),
        button('Hang up', 'Hang up the call of ' + who, () => hangup(agent, who, base)));
    }
    if (kinds.includes('supervise') && allowed.has('supervise')) {
      for (const [mode, label] of Object.entries(MODES)) {
        out.push(button(label, label + ' to ' + who, () => spy(agent, mode, base)));
      }
    }
    return out;
  }

  /** The words of a `parked` event that ends a parking. */
  const PARK_END = { retrieved: 'picked up', timeout: 'not picked up: ringing back', giveup: 'the caller hung up' };

  global.pbxisControl = { allowedScopes, learnScopes, choose, transfer, park, hangup, spy, callButtons,
    supervisorExtension, MODES, PARK_END };
})(window);
