// A TCP proxy on 127.0.0.1 port 0 in front of the service, that can break the network the ways a
// Wi-Fi or a VPN does, for testing that the pages resume their streams:
// - `down()` cuts every open connection and holds new ones (unanswered, like a network that lost
//   its route) until `up()` forwards them; `down({refuse: true})` closes new ones at once instead
//   (like a port that answers with a reset).
// - `swallow()` goes dark without a word: open connections stay open and the proxy keeps reading
//   what the service writes, but passes nothing on (the service believes it delivered), new ones
//   are held. `down()` then cuts. The events written meanwhile are what a dying connection loses.
// - `cutAfter(n)` lets the next n bytes from the service through (to whichever connection), then
//   cuts in the middle of whatever comes next, even half an event, and is down (`refuse` as for
//   down()).
// `bytesToClient` counts what reached the browser, `bytesSwallowed` what the service wrote into
// the dark.
import net from 'node:net';

export class ChaosProxy {
  static async start(target) {
    const proxy = new ChaosProxy(target);
    await new Promise((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.url = 'http://127.0.0.1:' + proxy.server.address().port + '/';
    return proxy;
  }

  constructor(target) {
    this.retarget(target);
    this.isUp = true;
    this.refuse = false;
    /** Bytes from the service the browser may still get; what is beyond is swallowed or cut. */
    this.budget = Infinity;
    /** What happens when the budget is spent: 'swallow' or 'cut'. */
    this.whenSpent = 'swallow';
    this.refuseWhenCut = false;
    this.bytesToClient = 0;
    this.bytesSwallowed = 0;
    this.held = [];
    this.pairs = new Set();
    this.server = net.createServer((client) => {
      client.on('error', () => {});
      if (this.isUp) this.forward(client);
      else if (this.refuse) client.destroy();
      else this.held.push(client);
    });
  }

  forward(client) {
    const upstream = net.connect(this.target);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => { this.pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.on('data', (chunk) => this.toClient(pair, chunk));
  }

  /** Passes what the budget allows of a chunk from the service; swallows or cuts the rest. */
  toClient({ client, upstream }, chunk) {
    const pass = Math.min(chunk.length, this.budget);
    if (pass > 0) {
      this.budget -= pass;
      this.bytesToClient += pass;
      if (!client.write(pass === chunk.length ? chunk : chunk.subarray(0, pass))) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    }
    if (pass === chunk.length) return;
    if (this.whenSpent === 'cut') this.down({ refuse: this.refuseWhenCut });
    else this.bytesSwallowed += chunk.length - pass;
  }

  /** Sends new connections to another service from now on. */
  retarget(target) {
    const url = new URL(target);
    this.target = { host: url.hostname, port: Number(url.port) };
  }

  /** Goes dark: nothing more reaches the browser, though the service can still write. */
  swallow() {
    this.isUp = false;
    this.refuse = false;
    this.budget = 0;
    this.whenSpent = 'swallow';
  }

  /** Lets `bytes` more through from the service, then cuts everything and is down. */
  cutAfter(bytes, { refuse = false } = {}) {
    this.budget = bytes;
    this.whenSpent = 'cut';
    this.refuseWhenCut = refuse;
  }

  /** Cuts every connection; new ones wait until up(), or are closed at once with `refuse`. */
  down({ refuse = false } = {}) {
    this.isUp = false;
    this.refuse = refuse;
    this.budget = 0;
    for (const { client, upstream } of this.pairs) { client.destroy(); upstream.destroy(); }
    this.pairs.clear();
    if (refuse) for (const client of this.held.splice(0)) client.destroy();
  }

  /** Forwards the held connections and every new one. */
  up() {
    this.isUp = true;
    this.refuse = false;
    this.budget = Infinity;
    this.whenSpent = 'swallow';
    for (const client of this.held.splice(0)) if (!client.destroyed) this.forward(client);
  }

  close() {
    this.down();
    for (const client of this.held.splice(0)) client.destroy();
    return new Promise((resolve) => this.server.close(resolve));
  }
}
