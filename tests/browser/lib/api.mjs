// The service's REST API from Node, as a web application's back end would call it.
export async function api(base, method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(new URL(path, base), init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!response.ok) throw new Error(method + ' ' + path + ' → ' + response.status + ' ' + text);
  return data;
}

/** Polls `fn` until it returns a truthy value (an assertion helper for state outside the page). */
export async function eventually(fn, timeoutMs = 20000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what + ': ' + (last && last.message || JSON.stringify(last)));
    await new Promise((r) => setTimeout(r, 200));
  }
}
