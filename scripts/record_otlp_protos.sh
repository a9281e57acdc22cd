#!/usr/bin/env bash
# Records the official opentelemetry-proto definitions the OTel tests decode exports with into
# tests/fixtures/otlp_proto/, from the npm package that ships them (nothing is fetched at test time).
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE="@opentelemetry/otlp-grpc-exporter-base@0.38.0"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null && tar xzf ./*.tgz)
dest=tests/fixtures/otlp_proto/opentelemetry/proto
rm -rf "$dest"
for f in common/v1/common.proto resource/v1/resource.proto trace/v1/trace.proto metrics/v1/metrics.proto \
  collector/trace/v1/trace_service.proto collector/metrics/v1/metrics_service.proto; do
  mkdir -p "$dest/$(dirname "$f")"
  cp "$work/package/build/protos/opentelemetry/proto/$f" "$dest/$f"
done
echo "recorded $(find "$dest" -name '*.proto' | wc -l) files from $PACKAGE"
