#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust tests, then the suites that need outside tools
# when those tools are installed (.ci/run installs them all).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets

for extra in scripts/test-*.sh; do
  [ -e "$extra" ] || continue
  echo "== $extra"
  bash "$extra"
done
