// pbxis.js's resume bookkeeping, in Node with fake transports driven step by step: it resumes
// with the id of the last event it delivered (all three transports), never delivers an id twice,
// replaces the page's state on `resync`, and takes a new ticket when the service says the old one
// is gone, and gives up on a stream that went silent (no event, no heartbeat).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sandbox, ev } from './lib/fakes.mjs';

const ids = (log) => log.events.map((e) => e.id);

describe('pbxis.js resume bookkeeping (fake transports)', () => {
  it('websocket: resumes after the last delivered id, drops replays, resyncs, re-tickets', async () => {
    const box = sandbox();
    const { conn, log } = box.connect({ transport: 'websocket' });
    let ws = await box.sockets.next();
    assert.equal(ws.url.pathname, '/ticket1/websocket');
    assert.equal(ws.url.searchParams.get('lastEventId'), '0', 'a new ticket starts from its first event');
    ws.open();
    ws.send(ev('pbxStatus', 'e1-1', { connected: true }));
    ws.send(ev('queueCount', 'e1-2', { queue: 'q1', count: 0 }));
    ws.close(1006);

    ws = await box.sockets.next();
    assert.equal(ws.url.searchParams.get('lastEventId'), 'e1-2');
    ws.open();
    // A service that replays what was delivered already: dropped, counted.
    ws.send(ev('queueCount', 'e1-2', { queue: 'q1', count: 0 }));
    ws.send(ev('queueCount', 'e1-3', { queue: 'q1', count: 1 }));
    ws.send(ev('queueCount', 'e1-3', { queue: 'q1', count: 1 }));
    assert.deepEqual(ids(log), ['e1-1', 'e1-2', 'e1-3']);
    assert.equal(conn.stats.duplicates, 2);

    ws.send(ev('resync', 'e1-9', { reason: 'historyOverflow' }));
    ws.send(ev('pbxStatus', 'e1-10', { connected: true }));
    assert.deepEqual(log.resets, [{ resync: false, reason: 'newTicket' },
      { resync: true, reason: 'historyOverflow' }]);
    assert.ok(!log.events.some((e) => e.type === 'resync'), 'resync is not an event of the page');
    ws.close(1006);

    ws = await box.sockets.next();
    assert.equal(ws.url.searchParams.get('lastEventId'), 'e1-10');
    ws.send(ev('closed', null, { reason: 'unknownTicket' }));
    ws = await box.sockets.next();
    assert.equal(ws.url.pathname, '/ticket2/websocket');
    assert.equal(ws.url.searchParams.get('lastEventId'), '0', 'the new ticket starts from its snapshot');
    assert.equal(log.resets.length, 3);
    // Another epoch on the new ticket, seq from 1 again: delivered.
    ws.send(ev('pbxStatus', 'f2-1', { connected: true }));
    assert.equal(log.events.at(-1).id, 'f2-1');
    ws.close(4404);
    ws = await box.sockets.next();
    assert.equal(ws.url.pathname, '/ticket3/websocket', 'close code 4404: the ticket is gone');
    conn.close();
    assert.deepEqual(box.ticketRequests.length, 3);
  });

  it('sse: takes the id from the id line, an event without one is new, resumes after it', async () => {
    const box = sandbox();
    const { conn, log } = box.connect({ transport: 'sse' });
    let source = await box.sources.next();
    source.open();
    source.send('pbxStatus', { connected: true }, 'e1-1');
    source.send('queueCount', { queue: 'q1', count: 2 }, 'e1-2');
    // No id line: EventSource repeats the previous lastEventId; it is not a duplicate.
    source.send('queueCount', { queue: 'q1', count: 3 });
    assert.deepEqual(log.events.map((e) => [e.type, e.id, e.count]),
      [['pbxStatus', 'e1-1', undefined], ['queueCount', 'e1-2', 2], ['queueCount', undefined, 3]]);
    source.error();
    assert.ok(source.closed, 'pbxis.js reconnects itself, with the id in the URL');

    source = await box.sources.next();
    assert.equal(source.url.searchParams.get('lastEventId'), 'e1-2');
    source.send('queueCount', { queue: 'q1', count: 2 }, 'e1-2');
    source.send('resync', { reason: 'unknownId' }, 'e1-7');
    source.send('queueCount', { queue: 'q1', count: 4 }, 'e1-8');
    assert.deepEqual(ids(log).slice(3), ['e1-8']);
    assert.equal(conn.stats.duplicates, 1);
    assert.equal(log.resets.at(-1).reason, 'unknownId');
    source.send('closed', { reason: 'replaced' });
    source = await box.sources.next();
    assert.equal(source.url.pathname, '/ticket2/sse');
    assert.equal(source.url.searchParams.get('lastEventId'), '0');
    conn.close();
  });

  it('long-poll: every poll after the first names the last id; a lost answer is asked again', async () => {
    const box = sandbox();
    const asked = [];
    const { conn, log } = box.connect({ transport: 'long-poll',
      getTicket: async () => { asked.push(1); return 'given' + asked.length; } });
    let poll = await box.polls.next();
    assert.equal(poll.url.pathname, '/given1/long-poll');
    assert.equal(poll.url.searchParams.get('lastEventId'), '0');
    poll.answer(200, [ev('pbxStatus', 'e1-1', { connected: true }), ev('queueCount', 'e1-2', { queue: 'q1', count: 0 })]);

    poll = await box.polls.next();
    assert.equal(poll.url.searchParams.get('lastEventId'), 'e1-2', 'acknowledges the answer');
    poll.fail();
    poll = await box.polls.next();
    assert.equal(poll.url.searchParams.get('lastEventId'), 'e1-2', 'the same id again after a failure');
    poll.answer(200, [ev('queueCount', 'e1-2', { queue: 'q1', count: 0 }), ev('queueCount', 'e1-3', { queue: 'q1', count: 1 })]);
    poll = await box.polls.next();
    assert.equal(poll.url.searchParams.get('lastEventId'), 'e1-3');
    assert.deepEqual(ids(log), ['e1-1', 'e1-2', 'e1-3']);

    poll.answer(404, { error: 'unknown ticket' });
    poll = await box.polls.next();
    assert.equal(poll.url.pathname, '/given2/long-poll', 'a new ticket from getTicket');
    assert.equal(poll.url.searchParams.get('lastEventId'), '0');
    assert.deepEqual(log.resets.map((r) => r.reason), ['newTicket', 'newTicket']);
    conn.close();
  });

  it('resumes from the ticket\'s start when its first stream broke before any event', async () => {
    const box = sandbox();
    const { conn } = box.connect({ transport: 'long-poll' });
    let poll = await box.polls.next();
    poll.fail();
    poll = await box.polls.next();
    assert.equal(poll.url.pathname, '/ticket1/long-poll', 'the same ticket');
    assert.equal(poll.url.searchParams.get('lastEventId'), '0');
    conn.close();
  });

  it('keeps working with a service that sends no ids', async () => {
    const box = sandbox();
    const { conn, log } = box.connect({ transport: 'websocket' });
    let ws = await box.sockets.next();
    ws.send(ev('queueCount', null, { queue: 'q1', count: 1 }));
    ws.send(ev('queueCount', null, { queue: 'q1', count: 1 }));
    ws.close(1006);
    ws = await box.sockets.next();
    assert.equal(ws.url.pathname, '/ticket1/websocket', 'the same ticket, as before');
    assert.equal(ws.url.searchParams.get('lastEventId'), '0');
    assert.equal(log.events.length, 2);
    conn.close();
  });

  it('gives up on a silent stream and resumes; heartbeats keep a quiet one alive', async () => {
    const box = sandbox();
    const { conn, log } = box.connect({ transport: 'websocket', silenceMs: 300 });
    let ws = await box.sockets.next();
    assert.equal(ws.url.searchParams.get('heartbeat'), '1');
    ws.open();
    ws.send(ev('queueCount', 'e1-1', { queue: 'q1', count: 0 }));
    // Heartbeats (every 100 ms: silence limit 2.2 s) keep it well past the first 300 ms.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ws.send({ type: 'heartbeat', intervalMs: 100 });
    }
    assert.equal(conn.state.connection, 'connected');
    assert.deepEqual(ids(log), ['e1-1'], 'heartbeats are not events');
    // Then nothing: the link is taken for dead, and the stream resumes on the same ticket.
    ws = await box.sockets.next();
    assert.equal(ws.url.pathname, '/ticket1/websocket');
    assert.equal(ws.url.searchParams.get('lastEventId'), 'e1-1');
    conn.close();
  });
});
