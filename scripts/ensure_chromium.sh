#!/usr/bin/env bash
# The browser tests drive Debian's chromium (never a browser Playwright downloads).
# Install it when missing: as root with apt-get (CI runs as root); otherwise say how.
set -euo pipefail
CHROMIUM=${DANDI_ARCHIVE_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
    exit 0
fi
if [ -n "${CI:-}" ]; then
    echo "chromium is missing at $CHROMIUM and cannot be installed (not root, or no apt-get)." >&2
    exit 1
fi
echo "NOTE: $CHROMIUM is missing; the browser tests will be skipped." >&2
echo "      Install it with: sudo apt-get install chromium" >&2
