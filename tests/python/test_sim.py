"""A client nobody here wrote, against the simulator: panoramisk logs in, runs QueueStatus,
QueueAdd and Originate, and asserts on the responses and on the events that follow.

Usage: python3 test_sim.py PORT   (the simulator runs with credentials pbxis/pbxis)
"""

import asyncio
import sys

from panoramisk import Manager

TIMEOUT = 30


async def main(port):
    events = asyncio.Queue()
    manager = Manager(host="127.0.0.1", port=port, username="pbxis", secret="pbxis",
                      ping_delay=3600, ping_interval=3600)
    booted = asyncio.get_running_loop().create_future()

    def on_event(_manager, message):
        events.put_nowait(message)
        if message.event == "FullyBooted" and not booted.done():
            booted.set_result(True)

    manager.register_event("*", on_event)
    await manager.connect()
    await asyncio.wait_for(booted, TIMEOUT)
    assert manager.authenticated, "login failed"

    async def wait_event(name, **fields):
        while True:
            msg = await asyncio.wait_for(events.get(), TIMEOUT)
            if msg.event == name and all(msg.get(k) == v for k, v in fields.items()):
                return msg

    status = await manager.send_action({"Action": "QueueStatus", "Queue": "q1"})
    names = [m.event for m in status if m.event]
    assert names[0] == "QueueParams", names
    assert names.count("QueueMember") == 3, names
    assert names[-1] == "QueueStatusComplete", names
    locations = sorted(m.Location for m in status if m.event == "QueueMember")
    assert locations == ["PJSIP/147", "PJSIP/148", "PJSIP/149"], locations

    # panoramisk takes "Added interface to queue" for the start of a list (as_list=None): say
    # it is a single response, as it is with Asterisk 22.
    added = await manager.send_action({"Action": "QueueAdd", "Queue": "q1", "Interface": "PJSIP/150",
                                       "MemberName": "Agent 150", "Paused": "true",
                                       "Reason": "training"}, as_list=False)
    assert added.Response == "Success" and added.Message == "Added interface to queue", added
    member = await wait_event("QueueMemberAdded", Interface="PJSIP/150")
    assert member.Queue == "q1" and member.MemberName == "Agent 150", member
    assert member.Paused == "1" and member.PausedReason == "training", member

    again = await manager.send_action({"Action": "QueueAdd", "Queue": "q1", "Interface": "PJSIP/150"},
                                      as_list=False)
    assert again.Response == "Error" and again.Message == "Unable to add interface: Already there"

    # An async Originate: panoramisk collects the response and the OriginateResponse event
    # that carries the same ActionID.
    orig = await manager.send_action({"Action": "Originate", "Channel": "Local/q1@callers",
                                      "Application": "Wait", "Data": "60",
                                      "CallerID": '"Customer 0911222333" <0911222333>',
                                      "Async": "true"})
    assert len(orig) == 2, orig
    assert orig[0].Response == "Success" and orig[0].Message == "Originate successfully queued"
    result = orig[1]
    assert result.event == "OriginateResponse", result
    assert result.Response == "Success" and result.Reason == "4", result
    join = await wait_event("QueueCallerJoin", Queue="q1")
    assert join.CallerIDNum == "0911222333" and join.Position == "1", join
    called = await wait_event("AgentCalled", Queue="q1")
    assert called.Interface.startswith("PJSIP/14"), called
    connect = await wait_event("AgentConnect", Queue="q1")
    assert connect.MemberName == "Agent 147" and connect.HoldTime == "2", connect

    manager.close()
    print("panoramisk: login, QueueStatus, QueueAdd, Originate and their events: ok")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
