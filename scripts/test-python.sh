#!/usr/bin/env bash
# A third-party AMI client (panoramisk, see tests/python/requirements.txt) against
# `pbxis-ws simulate` on a free port.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c "import panoramisk" 2>/dev/null; then
  echo "panoramisk is not installed: pip install -r tests/python/requirements.txt" >&2
  exit 1
fi
cargo build --quiet
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/debug/pbxis-ws simulate --listen "127.0.0.1:$port" --call-rate 0 --time-scale 10 &
sim=$!
trap 'kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
timeout 120 python3 tests/python/test_sim.py "$port"
