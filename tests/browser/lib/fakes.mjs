// pbxis.js in Node, with the browser's transports replaced by fakes the test drives by hand:
// a fake service behind fetch (tickets and long polls), fake WebSocket and EventSource classes.
// Every fake records what pbxis.js asked for, so that a test sees the URLs it resumed with.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SOURCE = fs.readFileSync(path.join(ROOT, 'web/pbxis.js'), 'utf8');
export const BASE = 'http://service.test/';

/** A queue of values with an awaitable `next()`: what the code under test produced, in order. */
class Arrivals {
  constructor() { this.items = []; this.waiters = []; this.taken = 0; }
  push(item) {
    this.items.push(item);
    const waiter = this.waiters.shift();
    if (waiter) waiter();
  }
  /** Resolves with the next item not yet taken (waiting for it if need be). */
  async next() {
    while (this.taken >= this.items.length) await new Promise((r) => this.waiters.push(r));
    return this.items[this.taken++];
  }
}

/**
 * A sandbox running pbxis.js. `tickets` is the fake service's ticket counter; `polls` the long
 * polls (each {url, answer(status, body), fail()}), `sockets` the WebSockets (each {url, open(),
 * send(obj), close(code)}), `sources` the EventSources (each {url, open(), send(type, data, id),
 * error()}).
 */
export function sandbox() {
  const polls = new Arrivals();
  const sockets = new Arrivals();
  const sources = new Arrivals();
  const ticketRequests = [];

  async function fetch(url, init = {}) {
    const u = new URL(String(url));
    if (u.pathname === '/ticket' && init.method === 'POST') {
      ticketRequests.push(JSON.parse(init.body));
      return response(200, 'ticket' + ticketRequests.length);
    }
    return new Promise((resolve, reject) => {
      init.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
      polls.push({ url: u, answer: (status, body) => resolve(response(status, body)),
        fail: () => reject(new TypeError('Failed to fetch')) });
    });
  }

  class WebSocket {
    constructor(url) {
      this.url = new URL(url);
      sockets.push(this);
    }
    open() { this.onopen?.({}); }
    send(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
    close(code = 1000) {
      if (this.closedByClient) return;
      this.closedByClient = code === 1000;
      this.onclose?.({ code });
    }
  }

  class EventSource {
    constructor(url) {
      this.url = new URL(url);
      this.listeners = new Map();
      this.lastEventId = '';
      this.closed = false;
      sources.push(this);
    }
    addEventListener(type, fn) { this.listeners.set(type, fn); }
    close() { this.closed = true; }
    open() { this.onopen?.({}); }
    /** An SSE event; without `id` the source keeps its previous lastEventId, as browsers do. */
    send(type, data, id) {
      if (id !== undefined) this.lastEventId = id;
      this.listeners.get(type)?.({ data: JSON.stringify(data), lastEventId: this.lastEventId });
    }
    error() { this.onerror?.({}); }
  }

  const context = vm.createContext({
    URL, AbortController, console, setTimeout, clearTimeout, Promise, fetch, WebSocket, EventSource,
  });
  vm.runInContext(SOURCE, context, { filename: 'pbxis.js' });
  const pbxis = context.pbxis;

  /**
   * connect() with fast backoff, recording what the page would see: `log.events` (every
   * delivered event), `log.resets` (every onReset argument), `log.states`.
   */
  function connect(options) {
    const log = { events: [], resets: [], states: [] };
    const conn = pbxis.connect(Object.assign({ baseUrl: BASE, agents: ['147'], queues: ['q1'],
      backoffMinMs: 1, backoffMaxMs: 1,
      // (Copied into this realm: objects made inside the sandbox have its prototypes.)
      onEvent: (e) => log.events.push({ ...e }), onReset: (r) => log.resets.push({ ...r }),
      onState: (s) => log.states.push(s.connection) }, options));
    return { conn, log };
  }

  return { pbxis, connect, polls, sockets, sources, ticketRequests };
}

function response(status, body) {
  const text = JSON.stringify(body);
  return { ok: status >= 200 && status < 300, status, json: async () => JSON.parse(text),
    text: async () => text };
}

/** An event as the service sends it over WebSocket and long-poll: type, id, then the fields. */
export function ev(type, id, fields = {}) {
  return Object.assign({ type }, id === null ? {} : { id }, fields);
}
