// Starts `pbxis-ws demo` on free ports, reads the addresses it prints, and stops it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BINARY = process.env.PBXIS_WS_BIN || path.join(ROOT, 'target/debug/pbxis-ws');

/**
 * Runs the demo; resolves with {http, ami, output, stop()} once both addresses are printed.
 * `http` is the service's base URL with a trailing slash, `ami` the simulator's host:port.
 */
export function startDemo(extraArgs = [], timeoutMs = 60000) {
  const args = ['demo', '--listen', '127.0.0.1:0', '--ami-listen', '127.0.0.1:0', ...extraArgs];
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.assign({}, process.env, { RUST_LOG: process.env.RUST_LOG || 'warn' }) });
  const output = [];
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));
  const ready = new Promise((resolve, reject) => {
    let http = null;
    let ami = null;
    let partial = '';
    const timer = setTimeout(() => reject(new Error('demo printed no addresses:\n' + output.join('\n'))), timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        output.push(line);
        let m = /pbxis-ws listening on (http:\/\/\S+)/.exec(line);
        if (m) http = m[1].replace(/\/?$/, '/');
        m = /simulated Asterisk \(AMI\) on (\S+)/.exec(line);
        if (m) ami = m[1];
        if (http && ami) { clearTimeout(timer); resolve({ http, ami }); }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => output.push(...chunk.split('\n').filter(Boolean)));
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    exit.then(() => { clearTimeout(timer); reject(new Error('demo exited ' + JSON.stringify(exited) + ':\n' + output.join('\n'))); });
  });
  return ready.then(({ http, ami }) => ({
    http, ami, output,
    /** Stops the demo (SIGTERM, then SIGKILL after 5 s); resolves when it has exited. */
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const result = await exit;
      clearTimeout(killer);
      return result;
    },
  }), async (err) => { child.kill('SIGKILL'); throw err; });
}
