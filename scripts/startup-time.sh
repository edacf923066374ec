#!/bin/sh
# Start-up to ready: starts `pbxis-ws demo` (the simulated Asterisk and the service connected to
# it), polls GET /ready every 2 ms until it answers 200, prints the milliseconds from the start of
# the process to that answer, and stops the process. Repeats RUNS times (default 10).
#
#   scripts/startup-time.sh [path/to/pbxis-ws] [runs]
set -eu
bin=${1:-target/release/pbxis-ws}
runs=${2:-10}
port=${PORT:-18765}
i=0
while [ "$i" -lt "$runs" ]; do
    start=$(date +%s%N)
    "$bin" demo --listen "127.0.0.1:$port" --call-rate 0 >/dev/null 2>&1 &
    pid=$!
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" = 200 ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "pbxis-ws exited before it was ready" >&2
            exit 1
        fi
        sleep 0.002
    done
    end=$(date +%s%N)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$(( (end - start) / 1000000 )) ms"
    i=$((i + 1))
done
