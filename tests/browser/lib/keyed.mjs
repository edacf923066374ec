// `pbxis-ws simulate` and `pbxis-ws serve` with API keys (PBXIS_AUTH_KEYS), on free ports: the
// demo has no keys. Resolves with {http, ami, stop()}.
import { spawn } from 'node:child_process';
import { BINARY } from './demo.mjs';

/** Runs `args`; resolves with the first match of `pattern` in its output, and the child. */
function run(args, env, pattern, timeoutMs = 60000) {
  const child = spawn(BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'],
    env: Object.assign({}, process.env, { RUST_LOG: 'info' }, env) });
  const output = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(args[0] + ' printed no address:\n' + output.join(''))); }, timeoutMs);
    const read = (chunk) => {
      output.push(chunk);
      const m = pattern.exec(output.join(''));
      if (m) { clearTimeout(timer); resolve({ child, address: m[1] }); }
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(args[0] + ' exited ' + code + ':\n' + output.join(''))); });
  });
}

/** `keys`: [{name, key, scopes}] (plain keys, at least 16 characters). */
export async function startKeyed(keys) {
  const sim = await run(['simulate', '--listen', '127.0.0.1:0', '--call-rate', '0'], {}, /AMI\) listening addr=(\S+)/);
  const [host, port] = [sim.address.slice(0, sim.address.lastIndexOf(':')), sim.address.slice(sim.address.lastIndexOf(':') + 1)];
  const toml = '[' + keys.map((k) => `{ name = "${k.name}", key = "${k.key}", scopes = [${k.scopes.map((s) => `"${s}"`).join(', ')}] }`).join(', ') + ']';
  let service;
  try {
    service = await run(['serve', '--listen', '127.0.0.1:0', '--ami-host', host, '--ami-port', port,
      '--ami-user', 'pbxis', '--ami-secret', 'pbxis'], { PBXIS_AUTH_KEYS: toml }, /service bound addr=(\S+)/);
  } catch (err) {
    sim.child.kill('SIGKILL');
    throw err;
  }
  const stop = async (child) => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  return {
    http: 'http://' + service.address + '/', ami: sim.address,
    async stop() { await stop(service.child); await stop(sim.child); },
  };
}
