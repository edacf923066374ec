#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust tests, then the suites that need outside tools
# (scripts/test-*.sh). Those tools must be installed, or their suites fail: HAProxy (for
# tests/it/ha_failover.rs), chromium, the npm packages of tests/browser (`npm ci` there) and the
# Python packages of tests/python/requirements.txt (panoramisk); systemd-analyze (Debian's systemd,
# for tests/it/api/packaging.rs). .ci/run installs them all, then
# runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
cargo test --doc

for extra in scripts/test-*.sh; do
  [ -e "$extra" ] || continue
  echo "== $extra"
  bash "$extra"
done
