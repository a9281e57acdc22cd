#!/usr/bin/env bash
# Installs the benchmark's peer proxies (bench/run.ts): mitmproxy (mitmdump, the Python TLS-intercepting
# peer) and squid-openssl (squid built with OpenSSL, for ssl-bump: the compiled TLS-intercepting peer,
# whose certificate helper is /usr/lib/squid/security_file_certgen).
# Idempotent and quiet; bench/services.ts runs it when a peer is missing. Needs root (apt-get).
set -euo pipefail

packages=(mitmproxy squid-openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install_bench_peers: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # policy-rc.d 101: Debian's squid package starts a system squid on install; the benchmark starts its own.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v mitmdump >/dev/null
test -x /usr/sbin/squid
test -x /usr/lib/squid/security_file_certgen
