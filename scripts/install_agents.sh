#!/usr/bin/env bash
# Installs the real coding-agent CLIs that tests/agents_test.ts drives through the gateway.
# Pinned to the versions whose traffic is recorded in tests/fixtures/clients/ (scripts/record_fixtures.ts),
# into <repo>/.cache/agents
# (git-ignored). Idempotent: does nothing when every package is already there at its pinned version.
# Usage: bash scripts/install_agents.sh            (prints the bin directory on the last line)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${RECONDO_AGENTS_DIR:-$ROOT/.cache/agents}"

# Claude Code 2.1.332 declares node >= 22 but its CLI is a native binary shipped in a per-platform
# package, so it runs on Node 20; without a pin npm on Node 20 resolves an older 2.1.x.
PINS=(
  "@anthropic-ai/claude-code@2.1.332"
  "@openai/codex@0.169.0"
  "@google/gemini-cli@0.61.0"
  # The official OpenAI SDK and the undici proxy agent it needs on Node 20 (tests/agents/sdk/openrouter_openai_sdk.cjs).
  # openai 7 declares node >= 22; 6.49 is the last line without an engines floor. Same pins as the SDK
  # recordings (scripts/record_fixtures.ts); undici 6 is the line Node 20 bundles.
  "openai@6.49.0"
  "undici@6.29.1"
)

installed_version() {
  local pkg_json="$DEST/node_modules/$1/package.json"
  [[ -f "$pkg_json" ]] || return 0
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$pkg_json"
}

missing=()
for pin in "${PINS[@]}"; do
  name="${pin%@*}"
  want="${pin##*@}"
  have="$(installed_version "$name")"
  if [[ "$have" != "$want" ]]; then missing+=("$pin"); fi
done

# Quiet when every pin is already there (deno task test runs this before every run).
if ((${#missing[@]} > 0)); then
  echo "installing ${missing[*]} into $DEST" >&2
  mkdir -p "$DEST"
  [[ -f "$DEST/package.json" ]] || echo '{"name":"recondo-test-agents","private":true}' >"$DEST/package.json"
  # --engine-strict=false: Claude Code's engines field says node >= 22 (see above).
  npm install --prefix "$DEST" --no-audit --no-fund --engine-strict=false --loglevel=error \
    --save-exact "${PINS[@]}" >&2
fi

for bin in claude codex gemini; do
  if [[ ! -x "$DEST/node_modules/.bin/$bin" ]]; then
    echo "install_agents: $DEST/node_modules/.bin/$bin is missing after install" >&2
    exit 1
  fi
done
echo "$DEST/node_modules/.bin"
