/*
 * pbxis.js: the browser client of pbxis-ws. Plain JavaScript, no dependencies, no build step.
 *
 *   <script src="https://pbxis.example.org/pbxis.js"></script>
 *   const conn = pbxis.connect({agents: ['147'], queues: ['q1'], transport: 'sse',
 *                               onEvent: (e) => ..., onState: (s) => ...});
 *   conn.close();
 *
 * connect() gets a ticket (POST /ticket), opens the chosen stream (long-poll, sse, websocket),
 * and keeps it open: when the stream breaks it reconnects with backoff on the same ticket (the
 * service keeps the events it could not deliver), and takes a new ticket when the old one is gone
 * (404, or a `closed`/`close` event); a new ticket starts with a full snapshot, announced by
 * onReset(). The REST helpers (queueAction, originate, queueStatus) return promises and reject
 * with a PbxisError carrying the service's JSON error message.
 */
(function (global) {
  'use strict';

  const TRANSPORTS = ['long-poll', 'sse', 'websocket'];
  /** Every event type the service sends (SSE needs the names to listen for). */
  const EVENT_TYPES = [
    'agentName', 'extensionStatus', 'queueMemberStatus', 'phoneNumber', 'queueCount',
    'agentComplete', 'originateFailed', 'queueSummary', 'memberSummary', 'pbxStatus',
    'closed', 'close',
  ];
  const DEFAULTS = {
    backoffMinMs: 500,
    // With jitter at most 12 s: inside the service's default unsub delay (15 s), so a ticket
    // outlives a reconnect and nothing is lost.
    backoffMaxMs: 10000,
    longPollTimeoutMs: 65000,
    longPollAliveMs: 2000,
  };

  /** Where this script was loaded from: the service, unless told otherwise. */
  const SCRIPT_BASE = (function () {
    const script = global.document && global.document.currentScript;
    if (script && script.src) return new URL('.', script.src).href;
    return global.location ? new URL('/', global.location.href).href : 'http://localhost/';
  })();

  /** An error from the service: `status` is the HTTP status (0 for a network error). */
  class PbxisError extends Error {
    constructor(message, status, body) {
      super(message);
      this.name = 'PbxisError';
      this.status = status;
      this.body = body;
    }
  }

  function baseOf(options) {
    const base = (options && options.baseUrl) || SCRIPT_BASE;
    const url = new URL(base, SCRIPT_BASE);
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url;
  }

  function seg(value) {
    return encodeURIComponent(String(value));
  }

  /** One JSON request to the service; resolves with the parsed body. */
  async function request(method, path, body, options) {
    const headers = Object.assign({ Accept: 'application/json' }, options && options.headers);
    const init = { method, headers, signal: options && options.signal };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(new URL(path, baseOf(options)), init);
    } catch (err) {
      if (err && err.name === 'AbortError') throw err;
      throw new PbxisError('the service cannot be reached', 0, null);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = text; }
    }
    if (!response.ok) {
      const message = data && typeof data === 'object' && data.error
        ? String(data.error) : 'HTTP ' + response.status;
      throw new PbxisError(message, response.status, data);
    }
    return data;
  }

  /** POST /ticket: resolves with the ticket string. */
  function ticket(filter, options) {
    const body = { agents: filter.agents || [], queues: filter.queues || [] };
    if (filter.summaryEvents) body.summaryEvents = true;
    return request('POST', 'ticket', body, options);
  }

  /** POST /queue/<action> with the parameters as a JSON body (add, remove, pause, reset). */
  function queueAction(action, params, options) {
    return request('POST', 'queue/' + seg(action), params || {}, options);
  }

  /** POST /originate/<src>/<dest>: resolves with the action id (see `originateFailed`). */
  function originate(src, dest, params, options) {
    const body = {};
    if (params && params.callerId) body.callerId = params.callerId;
    return request('POST', 'originate/' + seg(src) + '/' + seg(dest), body, options);
  }

  /** GET /queue/status[?queue=]: resolves with the queue status list. */
  function queueStatus(queue, options) {
    const query = queue ? '?queue=' + seg(queue) : '';
    return request('GET', 'queue/status' + query, undefined, options);
  }

  function sleep(ms, wake) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() { clearTimeout(timer); wake.delete(done); resolve(); }
      wake.add(done);
    });
  }

  /** A live subscription; made by connect(). */
  class Connection {
    constructor(options) {
      if (!TRANSPORTS.includes(options.transport)) {
        throw new PbxisError('transport must be one of ' + TRANSPORTS.join(', '), 0, null);
      }
      this.options = Object.assign({}, DEFAULTS, options);
      this.filter = {
        agents: Array.from(new Set(options.agents || [])),
        queues: Array.from(new Set(options.queues || [])),
        summaryEvents: !!options.summaryEvents,
      };
      this.state = { connection: 'connecting', pbx: null, transport: options.transport,
        retryInMs: 0, error: null };
      // A ticket handed over (e.g. by the web application's back end) is used first.
      this.ticket = typeof options.ticket === 'string' && options.ticket ? options.ticket : null;
      this.closed = false;
      this.abortStream = null;
      this.wake = new Set();
      this.onOnline = () => this.wake.forEach((f) => f());
      if (global.addEventListener) global.addEventListener('online', this.onOnline);
      // The first state, once the caller has the connection object in hand.
      Promise.resolve().then(() => {
        if (!this.closed && this.options.onState) this.call(this.options.onState, Object.assign({}, this.state));
      });
      this.run();
    }

    /** Stops the stream for good; no callback is called afterwards. */
    close() {
      if (this.closed) return;
      this.closed = true;
      if (global.removeEventListener) global.removeEventListener('online', this.onOnline);
      if (this.abortStream) this.abortStream();
      this.wake.forEach((f) => f());
      this.setState({ connection: 'closed' });
    }

    setState(change) {
      const next = Object.assign({}, this.state, change);
      const same = Object.keys(next).every((k) => next[k] === this.state[k]);
      this.state = next;
      if (!same && this.options.onState && (!this.closed || change.connection === 'closed')) {
        this.call(this.options.onState, Object.assign({}, next));
      }
    }

    call(fn, arg) {
      try { fn(arg); } catch (err) { console.error('pbxis: callback failed', err); }
    }

    deliver(event) {
      if (this.closed) return;
      if (event.type === 'pbxStatus') this.setState({ pbx: !!event.connected });
      if (this.options.onEvent) this.call(this.options.onEvent, event);
    }

    markConnected() {
      if (!this.closed) this.setState({ connection: 'connected', retryInMs: 0, error: null });
    }

    async run() {
      let attempt = 0;
      if (this.ticket && this.options.onReset) this.call(this.options.onReset);
      while (!this.closed) {
        let outcome;
        let error = null;
        try {
          if (!this.ticket) {
            const fresh = this.options.getTicket
              ? await this.options.getTicket(this.filter)
              : await ticket(this.filter, this.options);
            if (typeof fresh !== 'string' || fresh === '') throw new PbxisError('bad ticket', 0, null);
            this.ticket = fresh;
            if (this.closed) break;
            if (this.options.onReset) this.call(this.options.onReset);
          }
          outcome = await this.stream(this.ticket);
        } catch (err) {
          outcome = { gone: false, delivered: false };
          error = err;
          if (err instanceof PbxisError && err.status >= 400 && err.status < 500) {
            this.setState({ error: err.message });
          }
        }
        if (this.closed) break;
        if (outcome.gone) this.ticket = null;
        attempt = outcome.delivered ? 0 : attempt + 1;
        const delay = this.backoff(attempt);
        this.setState({ connection: 'reconnecting', retryInMs: delay,
          error: error ? error.message : this.state.error });
        await sleep(delay, this.wake);
      }
    }

    backoff(attempt) {
      if (attempt === 0) return this.options.backoffMinMs;
      const base = Math.min(this.options.backoffMaxMs,
        this.options.backoffMinMs * Math.pow(2, attempt - 1));
      return Math.round(base * (0.8 + 0.4 * Math.random()));
    }

    /** Runs one stream until it ends; resolves with {gone, delivered}. */
    stream(ticketId) {
      const url = new URL(seg(ticketId) + '/' + this.options.transport, baseOf(this.options));
      if (this.options.transport === 'websocket') return this.websocket(url);
      if (this.options.transport === 'sse') return this.sse(url);
      return this.longPoll(url);
    }

    websocket(url) {
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      return new Promise((resolve) => {
        const ws = new WebSocket(url.href);
        let delivered = false;
        let done = false;
        const finish = (gone) => {
          if (done) return;
          done = true;
          this.abortStream = null;
          ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
          try { ws.close(); } catch (_) { /* already closed */ }
          // A stream that delivered nothing at all had no live ticket behind it.
          resolve({ gone: gone || !delivered, delivered });
        };
        this.abortStream = () => finish(false);
        ws.onopen = () => this.markConnected();
        ws.onmessage = (message) => {
          let event;
          try { event = JSON.parse(message.data); } catch (_) { return; }
          if (!event || typeof event.type !== 'string') return;
          if (event.type === 'closed' || event.type === 'close') { finish(true); return; }
          delivered = true;
          this.deliver(event);
        };
        ws.onerror = () => { /* onclose follows */ };
        ws.onclose = () => finish(false);
      });
    }

    sse(url) {
      return new Promise((resolve) => {
        const source = new EventSource(url.href);
        let delivered = false;
        let done = false;
        const finish = (gone) => {
          if (done) return;
          done = true;
          this.abortStream = null;
          source.close();
          resolve({ gone: gone || !delivered, delivered });
        };
        this.abortStream = () => finish(false);
        source.onopen = () => this.markConnected();
        source.onerror = () => finish(false);
        for (const type of EVENT_TYPES) {
          source.addEventListener(type, (message) => {
            if (done) return;
            if (type === 'closed' || type === 'close') { finish(true); return; }
            let data;
            try { data = JSON.parse(message.data); } catch (_) { return; }
            delivered = true;
            this.deliver(Object.assign({ type }, data));
          });
        }
      });
    }

    async longPoll(url) {
      let delivered = false;
      for (;;) {
        const controller = new AbortController();
        let stopped = false;
        this.abortStream = () => { stopped = true; controller.abort(); };
        const timeout = setTimeout(() => controller.abort(), this.options.longPollTimeoutMs);
        // A poll the service has held this long without failing means the link is up.
        const alive = setTimeout(() => this.markConnected(), this.options.longPollAliveMs);
        let response = null;
        let events = null;
        try {
          response = await fetch(url, { headers: this.options.headers, signal: controller.signal });
          if (response.ok) events = await response.json();
        } catch (_) {
          response = null;
        } finally {
          clearTimeout(timeout);
          clearTimeout(alive);
          this.abortStream = null;
        }
        if (stopped || this.closed) return { gone: false, delivered };
        if (response && response.status === 404) return { gone: true, delivered };
        if (!response || !Array.isArray(events)) return { gone: false, delivered };
        this.markConnected();
        for (const event of events) {
          if (!event || typeof event.type !== 'string') continue;
          if (event.type === 'closed' || event.type === 'close') return { gone: true, delivered };
          delivered = true;
          this.deliver(event);
        }
      }
    }
  }

  /**
   * Subscribes to events. Options: agents, queues (arrays of strings), transport ('long-poll',
   * 'sse' or 'websocket'), summaryEvents (boolean), baseUrl (the service; default: where this
   * script came from), headers (extra request headers), ticket (a ticket to use first),
   * getTicket(filter) (an async function that returns a ticket, e.g. from the web application's
   * back end, instead of POST /ticket),
   * onEvent(event), onState({connection, pbx, transport, retryInMs, error}), onReset().
   */
  function connect(options) {
    return new Connection(options || {});
  }

  global.pbxis = {
    connect, ticket, queueAction, originate, queueStatus, PbxisError,
    TRANSPORTS: TRANSPORTS.slice(), EVENT_TYPES: EVENT_TYPES.slice(),
  };
})(typeof window !== 'undefined' ? window : globalThis);
