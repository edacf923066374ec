// The call actions a page offers follow what its requests may do (`GET /key`), against
// `pbxis-ws serve` with API keys and the simulator: a page without a key (its ticket handed
// over by a back end) offers none; a page whose requests carry a key (as behind a proxy that
// authenticates them) offers what the key's scopes allow; the URL's `scopes` narrows that.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from './lib/api.mjs';
import { startKeyed } from './lib/keyed.mjs';
import { launch, open } from './lib/browser.mjs';
import { amiLogin, inboundCall, callsTruth } from './lib/truth.mjs';
import { TIMEOUT, callerNumber } from './lib/steps.mjs';

const KEYS = [
  { name: 'backend', key: 'backend-key-0123456789abcdef', scopes: ['events', 'control'] },
  { name: 'agents', key: 'agents-key-0123456789abcdef', scopes: ['control'] },
  { name: 'supervisor', key: 'supervisor-key-0123456789abcdef', scopes: ['control', 'supervise'] },
];
const keyOf = (name) => KEYS.find((k) => k.name === name).key;

async function rest(http, method, path, key, body) {
  const response = await fetch(new URL(path, http), { method, headers: {
    Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(method + ' ' + path + ' → ' + response.status + ' ' + text);
  return JSON.parse(text);
}

describe('call actions follow the page\'s key', () => {
  let service;
  let browser;
  let ami;
  let number;
  before(async () => {
    service = await startKeyed(KEYS);
    browser = await launch();
    ami = await amiLogin(service.ami);
    for (const agent of ['148', '149']) {
      await rest(service.http, 'POST', 'queue/pause', keyOf('backend'), { queue: 'q1', agent, paused: true });
    }
    number = callerNumber();
    await inboundCall(ami, 'q1', number, 600, 600);
    await eventually(async () => (await callsTruth(ami, ['147']))['147'] === number, TIMEOUT, '147 talks to the caller');
  });
  after(async () => {
    if (ami) ami.close();
    if (browser) await browser.close();
    if (service) await service.stop();
  });

  const CASES = [
    { key: null, fragment: '', scopes: '', transfer: 0, listen: 0 },
    { key: 'agents', fragment: '', scopes: 'control', transfer: 1, listen: 0 },
    { key: 'supervisor', fragment: '', scopes: 'control,supervise', transfer: 1, listen: 1 },
    { key: 'supervisor', fragment: '&scopes=supervise', scopes: 'supervise', transfer: 0, listen: 1 },
  ];
  for (const c of CASES) {
    it(`${c.key ? 'with the ' + c.key + ' key' : 'without a key'}${c.fragment ? ' and ' + c.fragment.slice(1) : ''}: ${c.scopes || 'nothing'}`, async () => {
      const ticket = await rest(service.http, 'POST', 'ticket', keyOf('backend'), { agents: ['147'], queues: ['q1'] });
      const headers = c.key ? { Authorization: 'Bearer ' + keyOf(c.key) } : null;
      const view = await open(browser, service.http + 'client/sse/147/q1#ticket=' + ticket + c.fragment,
        undefined, headers ? (context) => context.setExtraHTTPHeaders(headers) : null);
      try {
        await view.page.waitForFunction((n) => document.querySelector('td.caller-cell')?.dataset.number === n
          && document.body.dataset.scopes !== undefined, number, { timeout: TIMEOUT });
        assert.equal(await view.page.evaluate(() => document.body.dataset.scopes), c.scopes);
        const count = (name) => view.page.getByRole('button', { name, exact: true }).count();
        assert.deepEqual({ transfer: await count('Transfer the call of 147'), listen: await count('Listen to 147') },
          { transfer: c.transfer, listen: c.listen });
        // Refused, as they should be: without a key, its question to GET /key; without scope
        // `events`, the service levels (GET /queue/status), so no wait is marked late.
        const problems = view.problems.filter((p) => !(c.key === null && /\/key\b|401/.test(p))
          && !/\/queue\/status|403/.test(p));
        assert.deepEqual(problems, []);
      } finally {
        await view.close();
      }
    });
  }
});
