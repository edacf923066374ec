// A TCP proxy on 127.0.0.1 port 0 in front of the service, that can break the network: `down()`
// cuts every open connection and holds new ones (unanswered, like a network that lost its
// route) until `up()` forwards them. For testing that the pages resume their streams.
import net from 'node:net';

export class ChaosProxy {
  static async start(target) {
    const proxy = new ChaosProxy(target);
    await new Promise((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.url = 'http://127.0.0.1:' + proxy.server.address().port + '/';
    return proxy;
  }

  constructor(target) {
    const url = new URL(target);
    this.target = { host: url.hostname, port: Number(url.port) };
    this.isUp = true;
    this.held = [];
    this.pairs = new Set();
    this.server = net.createServer((client) => {
      client.on('error', () => {});
      if (this.isUp) this.forward(client); else this.held.push(client);
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
    upstream.pipe(client);
  }

  /** Sends new connections to another service from now on. */
  retarget(target) {
    const url = new URL(target);
    this.target = { host: url.hostname, port: Number(url.port) };
  }

  /** Cuts every connection; new ones wait until up(). */
  down() {
    this.isUp = false;
    for (const { client, upstream } of this.pairs) { client.destroy(); upstream.destroy(); }
    this.pairs.clear();
  }

  /** Forwards the held connections and every new one. */
  up() {
    this.isUp = true;
    for (const client of this.held.splice(0)) if (!client.destroyed) this.forward(client);
  }

  close() {
    this.down();
    for (const client of this.held.splice(0)) client.destroy();
    return new Promise((resolve) => this.server.close(resolve));
  }
}
