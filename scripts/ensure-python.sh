#!/usr/bin/env bash
# Makes sure an interpreter with torch and pytest is at /usr/bin/python3 for the Python tests (python/tests).
# Installs Debian's python3-torch and python3-pytest with apt-get when missing and we are root; otherwise
# says how and exits 1 (the test script then skips with that reason).
set -euo pipefail
if /usr/bin/python3 -c 'import torch, pytest' >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's python3-torch and python3-pytest (needed by the Python tests)..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-pytest >/dev/null
  /usr/bin/python3 -c 'import torch, pytest' >/dev/null 2>&1 && exit 0
fi
echo "no /usr/bin/python3 with torch and pytest: run 'sudo apt-get install -y python3-torch python3-pytest' or set SAE_WORKBENCH_PYTHON" >&2
exit 1
