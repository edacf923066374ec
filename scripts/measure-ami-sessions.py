#!/usr/bin/env python3
"""What each AMI session costs an AMI server that sends every event to every session.

Starts the simulated Asterisk (`pbxis-ws simulate`, on 127.0.0.1) with `--firehose RATE` events
per second and no call traffic, logs K sessions in, each reading everything as pbxis-ws does,
and reports for each K: the events and bytes each session received per second, and the
server's CPU time per second of wall time (user + system, from /proc/<pid>/stat). The marginal
CPU per session per event is what one more pbxis-ws instance costs the server at that rate.

The simulator is not Asterisk: it encodes an event once per session, where Asterisk's
manager.c formats it once and has each session's thread write it. The scaling with K is the
point, not the absolute figures. Standard library only; Linux only (/proc).

    cargo build --release --bin pbxis-ws
    scripts/measure-ami-sessions.py target/release/pbxis-ws --rate 2000 --sessions 1,2,4,8
"""

import argparse
import os
import re
import socket
import subprocess
import threading
import time


def start_simulator(binary, rate):
    """The simulator on a loopback port of its choosing: (process, port)."""
    process = subprocess.Popen(
        [binary, "simulate", "--listen", "127.0.0.1:0", "--call-rate", "0",
         "--firehose", str(rate)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"listening addr=127\.0\.0\.1:(\d+)", line)
        if found:
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, int(found.group(1))
    process.kill()
    raise SystemExit("the simulator did not say where it listens")


class Session:
    """One logged-in AMI session that reads and counts everything."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"Action: Login\r\nUsername: pbxis\r\nSecret: pbxis\r\n\r\n")
        self.bytes = 0
        self.events = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        pending = b""
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            messages = pending.split(b"\r\n\r\n")
            pending = messages.pop()
            with self.lock:
                self.bytes += len(chunk)
                self.events += sum(1 for m in messages if m.lstrip().startswith(b"Event:"))

    def counts(self):
        with self.lock:
            return self.events, self.bytes

    def close(self):
        self.sock.close()


def cpu_seconds(pid):
    """User + system CPU time of `pid`, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(binary, rate, k, seconds):
    process, port = start_simulator(binary, rate)
    try:
        sessions = [Session(port) for _ in range(k)]
        time.sleep(1.0)  # logins done, the firehose at its pace
        before = [s.counts() for s in sessions]
        cpu0, t0 = cpu_seconds(process.pid), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = cpu_seconds(process.pid), time.monotonic()
        after = [s.counts() for s in sessions]
        for s in sessions:
            s.close()
    finally:
        process.kill()
        process.wait()
    wall = t1 - t0
    events = sum(a[0] - b[0] for a, b in zip(after, before)) / k / wall
    data = sum(a[1] - b[1] for a, b in zip(after, before)) / k / wall
    return events, data, (cpu1 - cpu0) / wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary", help="the pbxis-ws binary")
    parser.add_argument("--rate", type=int, default=2000, help="events per second")
    parser.add_argument("--sessions", default="1,2,4,8", help="session counts to try")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per count")
    args = parser.parse_args()
    print("sessions | events/s per session | bytes/s per session | bytes/event | server CPU")
    for k in [int(x) for x in args.sessions.split(",")]:
        events, data, cpu = measure(args.binary, args.rate, k, args.seconds)
        per_event = data / events if events else 0
        print(f"{k} | {events:,.0f} | {data:,.0f} | {per_event:,.0f} | {cpu * 100:.1f} %")


if __name__ == "__main__":
    main()
