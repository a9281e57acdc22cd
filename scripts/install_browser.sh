#!/usr/bin/env bash
# Installs Debian's chromium for the UI browser tests (tests/ui/, driven by playwright-core with
# executablePath /usr/bin/chromium). Idempotent and quiet; called from .ci/run. Needs root (apt-get).
set -euo pipefail

if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
  echo "install_browser: installing chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
test -x /usr/bin/chromium
