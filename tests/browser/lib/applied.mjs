// What pbxis.js delivered to a page, recorded through its own callbacks: an init script wraps
// pbxis.connect() before the page's script calls it, and logs every event the page applied (with
// its id) and every onReset. `checkApplied` asserts on that log: no id applied twice, ids
// strictly increasing per ticket, and with a service that numbers a ticket's events 1, 2, 3...,
// no gap either.
import assert from 'node:assert/strict';

/** Installs the recorder in every page of `context` (before any of its scripts run). */
export function recordApplied(context) {
  return context.addInitScript(() => {
    const log = window.__pbxisLog = [];
    let real;
    Object.defineProperty(window, 'pbxis', {
      configurable: true,
      get: () => real,
      set: (lib) => {
        real = Object.assign({}, lib, {
          connect(options) {
            const conn = lib.connect(Object.assign({}, options, {
              onEvent: (e) => {
                log.push({ event: e.type, id: e.id === undefined ? null : e.id });
                if (options.onEvent) options.onEvent(e);
              },
              onReset: (info) => {
                // On `resync`, lastId is the resync's own id already.
                log.push({ reset: info.reason, resync: info.resync,
                  id: window.__pbxisConn && window.__pbxisConn.lastId ? window.__pbxisConn.lastId.text : null });
                if (options.onReset) options.onReset(info);
              },
            }));
            window.__pbxisConn = conn;
            return conn;
          },
        });
      },
    });
  });
}

/** The recorded log and the connection's counters. */
export function applied(page) {
  return page.evaluate(() => ({ log: window.__pbxisLog.slice(), stats: Object.assign({}, window.__pbxisConn.stats) }));
}

function parse(id) {
  const m = /^([^-]+)-(\d+)$/.exec(id || '');
  return m ? { epoch: m[1], seq: Number(m[2]) } : null;
}

/**
 * Asserts that every event applied has an id, that no id was applied twice and that, per ticket,
 * ids are one run (epoch) and strictly increasing; with `consecutive`, each is the one after the
 * previous (a `resync` counts as one). Returns {tickets, resyncs, events}.
 */
export function checkApplied({ log }, { consecutive = false } = {}) {
  let tickets = 0;
  let resyncs = 0;
  let events = 0;
  let last = null;
  for (const [i, entry] of log.entries()) {
    if (entry.reset !== undefined) {
      if (entry.resync) {
        resyncs += 1;
        const id = parse(entry.id);
        assert.ok(id, `entry ${i}: the resync had an id`);
        if (last) assert.ok(id.epoch === last.epoch && id.seq > last.seq, `entry ${i}: resync id ${entry.id} after ${last.epoch}-${last.seq}`);
        last = id;
      } else {
        tickets += 1;
        last = null;
      }
      continue;
    }
    events += 1;
    const id = parse(entry.id);
    assert.ok(id, `entry ${i} (${entry.event}) has an id: ${entry.id}`);
    if (last) {
      assert.equal(id.epoch, last.epoch, `entry ${i}: one epoch per ticket`);
      assert.ok(id.seq > last.seq, `entry ${i}: ${entry.id} applied after ${last.epoch}-${last.seq}`);
      if (consecutive) assert.equal(id.seq, last.seq + 1, `entry ${i}: no gap after ${last.epoch}-${last.seq}`);
    }
    last = id;
  }
  return { tickets, resyncs, events };
}
