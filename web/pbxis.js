/*
 * pbxis.js: the browser client of pbxis-ws. Plain JavaScript, no dependencies, no build step.
 *
 *   <script src="https://pbxis.example.org/pbxis.js"></script>
 *   const conn = pbxis.connect({agents: ['147'], queues: ['q1'], transport: 'sse',
 *                               onEvent: (e) => ..., onState: (s) => ...});
 *   conn.close();
 *
 * connect() gets a ticket (POST /ticket), opens the chosen stream (long-poll, sse, websocket),
 * and keeps it open. Every event carries an id (`<epoch>-<seq>`); the connection remembers the
 * last one it delivered and, when the stream breaks, reconnects with backoff on the same ticket
 * with `?lastEventId=<id>` (`0` before the first event: from the ticket's start), so the service
 * sends exactly the events after it (long-poll sends it with every poll, which also acknowledges
 * what came before). An event whose id
 * was already delivered is dropped, never delivered twice.
 *
 * onReset(info) tells the page to throw away its state: the events that follow are a full
 * snapshot. It is called when a ticket starts (info.resync false, info.reason 'newTicket') and
 * when the service answers a resume with `resync` (info.resync true, info.reason the service's
 * reason), e.g. after a cut too long for the ticket's history. When the ticket is gone (expired,
 * the service restarted, `closed` with any reason) the connection takes a new ticket by itself,
 * from where it got the first (getTicket or POST /ticket). The REST helpers (queueAction,
 * originate, queueStatus, redirectTo, parkAndAnnounce, hangup, spy, calls, keyScopes) return promises and reject with a PbxisError carrying the service's
 * JSON error message.
 */
(function (global) {
  'use strict';

  const TRANSPORTS = ['long-poll', 'sse', 'websocket'];
  /** Every event type the service sends (SSE needs the names to listen for). */
  const EVENT_TYPES = [
    'agentName', 'extensionStatus', 'queueMemberStatus', 'phoneNumber', 'queueCount',
    'queueCallers', 'agentComplete', 'originateFailed', 'parked', 'spyStarted', 'spyStopped',
    'queueSummary', 'memberSummary', 'pbxStatus', 'resync', 'closed', 'close',
  ];
  /** WebSocket close code of an unknown or expired ticket. */
  const WS_UNKNOWN_TICKET = 4404;
  const DEFAULTS = {
    backoffMinMs: 500,
    // With jitter at most 12 s: inside the service's default unsub delay (15 s), so a ticket
    // outlives a reconnect and nothing is lost.
    backoffMaxMs: 10000,
    longPollTimeoutMs: 65000,
    longPollAliveMs: 2000,
    // SSE and WebSocket streams ask for heartbeats; one silent for this long (before the first
    // heartbeat told the interval; after it, two intervals and 2 s) is taken for dead.
    silenceMs: 45000,
  };

  /**
   * Gives up on a stream that went silent: a link that died without a word (no reset, no close)
   * shows nothing else. `feed(intervalMs)` on every message, with the heartbeat's interval when
   * it tells one; `stop()` when the stream ends.
   */
  function watchdog(silenceMs, onSilence) {
    let limit = silenceMs;
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(onSilence, limit);
    };
    arm();
    return {
      feed(intervalMs) {
        if (typeof intervalMs === 'number' && intervalMs > 0) limit = intervalMs * 2 + 2000;
        arm();
      },
      stop() { clearTimeout(timer); },
    };
  }

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

  /**
   * POST /redirect-to/<dest>: moves the party bridged to an agent (an agent id) or a channel (a
   * name with a `/`) to `dest`. An agent with several calls rejects with status 409 and
   * `err.body.candidates` ({agentChannel, bridgedChannel, callerId}): ask again with a channel.
   */
  function redirectTo(dest, agentOrChannel, options) {
    return request('POST', 'redirect-to/' + seg(dest), { 'agent-or-channel': agentOrChannel }, options);
  }

  /** POST /park-and-announce: parks the party bridged to the agent (see `parked` events). */
  function parkAndAnnounce(agentOrChannel, options) {
    return request('POST', 'park-and-announce', { 'agent-or-channel': agentOrChannel }, options);
  }

  /** POST /hangup: hangs up the agent's own channel, or the channel named. */
  function hangup(agentOrChannel, options) {
    return request('POST', 'hangup', { 'agent-or-channel': agentOrChannel }, options);
  }

  /** POST /spy/<supervisor>/<agent>: mode 'listen' | 'whisper' | 'barge'; resolves with the action id. */
  function spy(supervisor, agent, mode, options) {
    return request('POST', 'spy/' + seg(supervisor) + '/' + seg(agent), { mode }, options);
  }

  /** GET /key: the scopes of the request's key ({scopes: [...]}; every scope without keys). */
  function keyScopes(options) {
    return request('GET', 'key', undefined, options);
  }

  /** GET /calls?agent=: the agent's calls in progress. */
  function calls(agent, options) {
    return request('GET', 'calls?agent=' + seg(agent), undefined, options);
  }

  /** GET /queue/status[?queue=]: resolves with the queue status list. */
  function queueStatus(queue, options) {
    const query = queue ? '?queue=' + seg(queue) : '';
    return request('GET', 'queue/status' + query, undefined, options);
  }

  /** An event id `<epoch>-<seq>` as {epoch, seq, text}; null when it is not one. */
  function parseId(id) {
    const m = typeof id === 'string' ? /^([0-9A-Za-z]{1,32})-(\d{1,15})$/.exec(id) : null;
    return m ? { epoch: m[1], seq: Number(m[2]), text: id } : null;
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
      /** The id of the last event delivered on this ticket ({epoch, seq, text}), or null. */
      this.lastId = null;
      /** Counters: events delivered, duplicates dropped, resyncs and tickets taken. */
      this.stats = { delivered: 0, duplicates: 0, resyncs: 0, tickets: 0 };
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

    /** The page's state is void: the events that follow restate it. */
    reset(resync, reason) {
      if (this.options.onReset) this.call(this.options.onReset, { resync, reason });
    }

    /** Delivers one event of the ticket's stream, unless its id says it was delivered already. */
    deliver(event) {
      if (this.closed) return;
      const id = parseId(event.id);
      if (id) {
        const last = this.lastId;
        if (last && last.epoch === id.epoch && id.seq <= last.seq) {
          this.stats.duplicates += 1;
          return;
        }
        this.lastId = id;
      }
      if (event.type === 'resync') {
        this.stats.resyncs += 1;
        this.reset(true, typeof event.reason === 'string' ? event.reason : 'resync');
        return;
      }
      this.stats.delivered += 1;
      if (event.type === 'pbxStatus') this.setState({ pbx: !!event.connected });
      if (this.options.onEvent) this.call(this.options.onEvent, event);
    }

    markConnected() {
      if (!this.closed) this.setState({ connection: 'connected', retryInMs: 0, error: null });
    }

    /** Takes a new ticket (getTicket or POST /ticket); its stream starts from a snapshot. */
    async newTicket() {
      const fresh = this.options.getTicket
        ? await this.options.getTicket(this.filter)
        : await ticket(this.filter, this.options);
      if (typeof fresh !== 'string' || fresh === '') throw new PbxisError('bad ticket', 0, null);
      if (this.closed) return;
      this.ticket = fresh;
      this.lastId = null;
      this.stats.tickets += 1;
      this.reset(false, 'newTicket');
    }

    async run() {
      let attempt = 0;
      if (this.ticket) this.reset(false, 'newTicket');
      while (!this.closed) {
        let outcome;
        let error = null;
        try {
          if (!this.ticket) await this.newTicket();
          if (this.closed) break;
          outcome = await this.stream(this.ticket);
        } catch (err) {
          outcome = { ended: false, delivered: false };
          error = err;
          if (err instanceof PbxisError && err.status >= 400 && err.status < 500) {
            this.setState({ error: err.message });
          }
        }
        if (this.closed) break;
        // Gone only when the service says so (`closed`, 404, close code 4404): a stream that
        // broke before its first event resumes from the ticket's start (`lastEventId=0`).
        if (outcome.ended) this.ticket = null;
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

    /** The stream's URL, with the id to resume after. */
    streamUrl(ticketId) {
      const url = new URL(seg(ticketId) + '/' + this.options.transport, baseOf(this.options));
      // `0`: nothing applied yet, so from the ticket's first event (a first connection that
      // broke may have taken some).
      url.searchParams.set('lastEventId', this.lastId ? this.lastId.text : '0');
      return url;
    }

    /**
     * Runs one stream until it breaks; resolves with {ended, delivered}: ended when the service
     * closed the ticket, delivered when an event came.
     */
    stream(ticketId) {
      if (this.options.transport === 'websocket') return this.websocket(ticketId);
      if (this.options.transport === 'sse') return this.sse(ticketId);
      return this.longPoll(ticketId);
    }

    websocket(ticketId) {
      const url = this.streamUrl(ticketId);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.searchParams.set('heartbeat', '1');
      return new Promise((resolve) => {
        const ws = new WebSocket(url.href);
        let delivered = false;
        let done = false;
        const dog = watchdog(this.options.silenceMs, () => finish(false));
        const finish = (ended) => {
          if (done) return;
          done = true;
          dog.stop();
          this.abortStream = null;
          ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
          try { ws.close(); } catch (_) { /* already closed */ }
          resolve({ ended, delivered });
        };
        this.abortStream = () => finish(false);
        ws.onopen = () => this.markConnected();
        ws.onmessage = (message) => {
          let event;
          try { event = JSON.parse(message.data); } catch (_) { return; }
          if (!event || typeof event.type !== 'string') return;
          dog.feed(event.intervalMs);
          if (event.type === 'heartbeat') return;
          if (event.type === 'closed' || event.type === 'close') { finish(true); return; }
          delivered = true;
          this.deliver(event);
        };
        ws.onerror = () => { /* onclose follows */ };
        ws.onclose = (e) => finish(e.code === WS_UNKNOWN_TICKET);
      });
    }

    sse(ticketId) {
      const url = this.streamUrl(ticketId);
      url.searchParams.set('heartbeat', '1');
      return new Promise((resolve) => {
        const source = new EventSource(url.href);
        let delivered = false;
        let done = false;
        const dog = watchdog(this.options.silenceMs, () => finish(false));
        // An event without an `id:` line keeps the previous lastEventId: it is not the event's.
        let previousId = '';
        const finish = (ended) => {
          if (done) return;
          done = true;
          dog.stop();
          this.abortStream = null;
          source.close();
          resolve({ ended, delivered });
        };
        this.abortStream = () => finish(false);
        source.onopen = () => this.markConnected();
        source.onerror = () => finish(false);
        source.addEventListener('heartbeat', (message) => {
          let data = null;
          try { data = JSON.parse(message.data); } catch (_) { /* a heartbeat all the same */ }
          dog.feed(data && data.intervalMs);
        });
        for (const type of EVENT_TYPES) {
          source.addEventListener(type, (message) => {
            if (done) return;
            dog.feed();
            if (type === 'closed' || type === 'close') { finish(true); return; }
            const id = message.lastEventId !== previousId ? message.lastEventId : '';
            previousId = message.lastEventId;
            let data;
            try { data = JSON.parse(message.data); } catch (_) { return; }
            delivered = true;
            this.deliver(Object.assign({ type }, id ? { id } : {}, data));
          });
        }
      });
    }

    /** Polls until a poll fails; each poll after the first names (and so acknowledges) the last id. */
    async longPoll(ticketId) {
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
          response = await fetch(this.streamUrl(ticketId),
            { headers: this.options.headers, signal: controller.signal });
          if (response.ok) events = await response.json();
        } catch (_) {
          response = null;
        } finally {
          clearTimeout(timeout);
          clearTimeout(alive);
          this.abortStream = null;
        }
        if (stopped || this.closed) return { ended: false, delivered };
        if (response && response.status === 404) return { ended: true, delivered };
        if (!response || !Array.isArray(events)) return { ended: false, delivered };
        this.markConnected();
        for (const event of events) {
          if (!event || typeof event.type !== 'string') continue;
          if (event.type === 'closed' || event.type === 'close') return { ended: true, delivered };
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
   * onEvent(event) (every event but `resync`, with its `id`),
   * onState({connection, pbx, transport, retryInMs, error}),
   * onReset({resync, reason}) (throw away the state: a snapshot follows; see above).
   * The connection's `stats` counts events delivered, duplicates dropped, resyncs, tickets taken.
   */
  function connect(options) {
    return new Connection(options || {});
  }

  global.pbxis = {
    connect, ticket, queueAction, originate, queueStatus, redirectTo, parkAndAnnounce, hangup, spy,
    calls, keyScopes, PbxisError,
    TRANSPORTS: TRANSPORTS.slice(), EVENT_TYPES: EVENT_TYPES.slice(),
  };
})(typeof window !== 'undefined' ? window : globalThis);
