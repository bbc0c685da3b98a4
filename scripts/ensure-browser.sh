#!/usr/bin/env bash
# A Chromium for the browser suites: the system's, else Debian's (as root), else Playwright's own.
# Prints nothing on success but what it did; exits non-zero only when no way worked.
set -euo pipefail

have_system_chromium() {
  [ -n "${PLAYWRIGHT_CHROMIUM_EXECUTABLE:-}" ] && [ -x "$PLAYWRIGHT_CHROMIUM_EXECUTABLE" ] && return 0
  for name in chromium chromium-browser google-chrome; do
    command -v "$name" >/dev/null 2>&1 && return 0
  done
  return 1
}

if have_system_chromium; then
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Debian's chromium (and a Korean font for screenshots)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-nanum >/dev/null
  have_system_chromium && exit 0
fi

echo "== no system Chromium: installing Playwright's own (needs the internet)"
"${BIN:-.venv/bin}/playwright" install chromium
