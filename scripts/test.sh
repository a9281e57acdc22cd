#!/usr/bin/env bash
# `deno task test [deno test args…]`: brings what the tests need, then runs the whole suite (or the files
# given). Installs, each only when missing, so a second run prints nothing before the tests:
#   - Debian packages (apt-get, needs root): curl and iproute2 (used by the tests), PostgreSQL 15, Ceph and
#     haproxy (scripts/install_test_services.sh), chromium (scripts/install_browser.sh);
#   - the npm packages of deno.json (`deno install`);
#   - the real agent CLIs, pinned, into .cache/agents (scripts/install_agents.sh, npm).
# Reads nothing outside the repository. Without root: install the Debian packages once as root
# (`sudo bash scripts/install_test_services.sh && sudo bash scripts/install_browser.sh`, plus curl and
# iproute2), after which only the agent tests' `unshare -n` still needs root (or user namespaces).
# RECONDO_TEST_NO_INSTALL=1 skips every install step.
# A test whose dependency is still missing fails naming the install command; an ignored test fails the run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

fail() {
  echo "test.sh: $*" >&2
  exit 1
}

# Runs an install step with its output kept aside: shown only when the step fails or did install something
# (the install scripts print a line only when they act).
step() {
  local log status
  log=$(mktemp)
  set +e
  "$@" >"$log" 2>&1
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    rm -f "$log"
    if [ "$(id -u)" -ne 0 ]; then
      fail "'$*' failed; Debian packages need root: run 'sudo bash scripts/install_test_services.sh && sudo bash scripts/install_browser.sh' once (see README)"
    fi
    fail "'$*' failed (exit $status)"
  fi
  cat "$log"
  rm -f "$log"
}

system_packages() {
  local need=()
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  command -v unshare >/dev/null 2>&1 || need+=(util-linux)
  if [ ${#need[@]} -gt 0 ]; then
    echo "test.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

if [ "${RECONDO_TEST_NO_INSTALL:-}" != "1" ]; then
  step system_packages
  step bash scripts/install_test_services.sh
  step bash scripts/install_browser.sh
  step deno install --quiet
  # Its last line (the bin directory) is for callers that want it; here only its messages matter.
  step bash -c 'bash scripts/install_agents.sh >/dev/null'
fi
# The UI islands' bundle (the one step that may fetch: esbuild from npm on first use); a no-op when current.
step deno task -q build

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
RECONDO_LOG="${RECONDO_LOG:-warn}" deno test --allow-all --unstable-no-legacy-abort --parallel "$@" 2>&1 |
  tee "$log"
status=${PIPESTATUS[0]}
set -e

# "ok | 12 passed (3 steps) | 0 failed | 1 ignored (5s)": nothing may be ignored.
ignored=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1 |
  sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p')
if [ -n "$ignored" ] && [ "$ignored" -gt 0 ]; then
  echo "test.sh: ${ignored} test(s) ignored; a test must fail with the install command, not be skipped:" >&2
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E ' \.\.\. ignored' >&2 || true
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
