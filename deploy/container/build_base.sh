#!/usr/bin/env bash
# Builds the Debian bookworm base image every Recondo image starts from (no image registry needed):
# mmdebstrap fetches the packages from Debian's repository into a tarball, cached under .cache/ at the
# repository root, and `podman import` turns it into localhost/debian:bookworm-slim. Idempotent: a second
# run with the tarball and the image present does nothing. Needs root, mmdebstrap and podman.
#   deploy/container/build_base.sh [--force]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
image=localhost/debian:bookworm-slim
tarball="$root/.cache/deploy/debian-bookworm-minbase.tar"
if [ "${1:-}" = "--force" ]; then rm -f "$tarball"; podman rmi -f "$image" >/dev/null 2>&1 || true; fi
if [ ! -s "$tarball" ]; then
  mkdir -p "$(dirname "$tarball")"
  echo "build_base: mmdebstrap bookworm -> $tarball" >&2
  mmdebstrap --quiet --format=tar --variant=minbase --include=ca-certificates bookworm "$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
fi
if ! podman image exists "$image"; then
  echo "build_base: podman import -> $image" >&2
  podman import --quiet "$tarball" "$image" >/dev/null
fi
