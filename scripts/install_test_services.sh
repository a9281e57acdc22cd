#!/usr/bin/env bash
# Installs what the storage tests start on their own: PostgreSQL 15 server binaries (throwaway clusters,
# tests/support/postgres.ts) and Ceph's monitor, OSD and RADOS gateway (a real S3 with Object Lock,
# tests/support/s3.ts), haproxy (the balancer in front of a gateway fleet, tests/support/haproxy.ts), and the
# deployment tools tests/deploy/ drives: podman, buildah, runc (the default crun fails here on setrlimit),
# mmdebstrap (the Debian base image), podman-compose, kubectl (Debian's kubernetes-client, unless a kubectl
# is already installed) and systemd-analyze.
# Idempotent and quiet; called from .ci/run. Needs root (apt-get).
set -euo pipefail

packages=(postgresql-15 postgresql-client-15 ceph-mon ceph-osd radosgw ceph-common
  podman buildah runc mmdebstrap uidmap slirp4netns fuse-overlayfs haproxy podman-compose systemd)
# Another package may own /usr/bin/kubectl (e.g. Google Cloud SDK's kubectl); any kubectl with kustomize does.
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install_test_services: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # The Debian postgresql package creates and starts a default cluster; the tests do not use it.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
id postgres >/dev/null 2>&1 || { echo "install_test_services: the postgres OS user is missing" >&2; exit 1; }
test -x /usr/lib/postgresql/15/bin/initdb
test -x /usr/bin/radosgw
command -v podman >/dev/null && command -v mmdebstrap >/dev/null && command -v runc >/dev/null
command -v kubectl >/dev/null && command -v systemd-analyze >/dev/null
test -x /usr/sbin/haproxy
