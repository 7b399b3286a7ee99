#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium (webview tests and the VS Code UI tests drive it with
# playwright-core). Installs it with apt-get when missing and we are root; otherwise says how.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ]; then
  echo "installing Debian's chromium (needed by the webview tests)..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
else
  echo "Chromium is missing: run 'sudo apt-get install -y chromium' (the webview tests need /usr/bin/chromium)" >&2
  exit 1
fi
