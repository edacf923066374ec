// A minimal AMI client over TCP, for driving the simulated Asterisk from the browser tests the
// way any AMI tool would: log in, send actions, await their responses, watch events.
import net from 'node:net';

export class Ami {
  /** Connects to `host:port` and logs in; resolves with the logged-in client. */
  static async login(address, username = 'pbxis', secret = 'pbxis') {
    const ami = new Ami(address);
    await ami.opened;
    const response = await ami.action({ Action: 'Login', Username: username, Secret: secret });
    if (response.Response !== 'Success') throw new Error('AMI login refused: ' + response.Message);
    return ami;
  }

  constructor(address) {
    const [host, port] = splitAddress(address);
    this.socket = net.connect({ host, port });
    this.socket.setEncoding('utf8');
    this.buffer = '';
    this.banner = null;
    this.pending = new Map();
    this.events = [];
    this.watchers = new Set();
    this.nextId = 1;
    this.closed = false;
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.onBanner = resolve;
    });
    this.socket.on('data', (chunk) => this.read(chunk));
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      for (const { reject } of this.pending.values()) reject(new Error('AMI connection closed'));
      this.pending.clear();
    });
  }

  read(chunk) {
    this.buffer += chunk;
    if (this.banner === null) {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      this.banner = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.onBanner(this.banner);
    }
    let end;
    while ((end = this.buffer.indexOf('\r\n\r\n')) >= 0) {
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 4);
      this.dispatch(parse(text));
    }
  }

  dispatch(message) {
    if (message.Event === undefined && message.Response !== undefined && this.pending.has(message.ActionID)) {
      const { resolve } = this.pending.get(message.ActionID);
      this.pending.delete(message.ActionID);
      resolve(message);
      return;
    }
    if (message.Event !== undefined) {
      this.events.push(message);
      if (this.events.length > 5000) this.events.shift();
      for (const watch of this.watchers) watch(message);
    }
  }

  /** Sends an action; resolves with its response. */
  action(fields) {
    const id = 'browser-test-' + this.nextId++;
    const lines = Object.entries(Object.assign({}, fields, { ActionID: id }))
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => k + ': ' + x));
    return new Promise((resolve, reject) => {
      if (this.closed) { reject(new Error('AMI connection closed')); return; }
      this.pending.set(id, { resolve, reject });
      this.socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
  }

  /** Resolves with the first event (already received or future) for which `test` is true. */
  waitEvent(test, timeoutMs = 20000) {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.watchers.delete(watch); reject(new Error('no such AMI event')); }, timeoutMs);
      const watch = (event) => {
        if (!test(event)) return;
        clearTimeout(timer);
        this.watchers.delete(watch);
        resolve(event);
      };
      this.watchers.add(watch);
    });
  }

  close() {
    this.socket.destroy();
  }
}

function parse(text) {
  const message = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key in message) message[key] = [].concat(message[key], value);
    else message[key] = value;
  }
  return message;
}

function splitAddress(address) {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1))];
}
