#!/usr/bin/env bash
# The pages in a real browser: builds the binary, then runs tests/browser (Node's test runner,
# playwright-core driving Debian's Chromium) against `pbxis-ws demo` on free ports.
# Screenshots go to test-output/. Needs chromium and `npm ci` in tests/browser (.ci/run does both).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 && [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "test-browser: chromium is not installed (apt-get install chromium)" >&2
  exit 1
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

cargo build --bin pbxis-ws
mkdir -p test-output
cd tests/browser
node --test --test-concurrency=1 "$@"
