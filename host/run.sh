#!/usr/bin/env bash
# Host mode's step: download the lambda-pipeline release binary for this runner's platform,
# check it against the release's SHA256SUMS, and run it on the runner. Inputs arrive as
# INPUT_* variables (see action.yml), exactly as the container action passes them.
#
#   LAMBDA_PIPELINE_VERSION      the release to run (action.yml pins it), e.g. 0.1.0
#   LAMBDA_PIPELINE_REPOSITORY   where it is released (owner/name; the action's own repository)
#   LAMBDA_PIPELINE_RELEASES     base URL of the releases (default: the repository's GitHub
#                                releases); the release is <base>/v<version>/
#   RUNNER_OS, RUNNER_ARCH       the platform, as the runner sets them
#   RUNNER_TOOL_CACHE            where the checked binary is kept for later steps and jobs
#                                (else RUNNER_TEMP, else a temporary directory)
set -euo pipefail

fail() {
  echo "::error title=lambda-pipeline host mode::$*" >&2
  exit 2
}

version=${LAMBDA_PIPELINE_VERSION:?LAMBDA_PIPELINE_VERSION is not set}
repository=${LAMBDA_PIPELINE_REPOSITORY:-OWNER/lambda-pipeline}
[ -n "$repository" ] || repository=OWNER/lambda-pipeline
base=${LAMBDA_PIPELINE_RELEASES:-${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download}
base=${base%/}

os=${RUNNER_OS:-$(uname -s)}
arch=${RUNNER_ARCH:-$(uname -m)}
case "$os" in
  Linux | linux) ;;
  *) fail "host mode runs on Linux runners; this runner is $os (use a Linux runner, or the container action)" ;;
esac
case "$arch" in
  X64 | x86_64 | amd64) target=x86_64-unknown-linux-gnu ;;
  ARM64 | aarch64 | arm64) target=aarch64-unknown-linux-gnu ;;
  *) fail "no lambda-pipeline release binary for the $arch architecture (there are X64 and ARM64)" ;;
esac

asset=lambda-pipeline-$version-$target.tar.gz
cache=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-$(mktemp -d)}}/lambda-pipeline/$version/$target
binary=$cache/lambda-pipeline

if [ ! -x "$binary" ] || [ ! -f "$cache.complete" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  fetch() {
    curl --fail --silent --show-error --location --retry 3 --retry-delay 2 \
      --connect-timeout 20 -o "$work/$1" "$base/v$version/$1" ||
      fail "cannot download $base/v$version/$1"
  }
  fetch SHA256SUMS
  fetch "$asset"
  expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$work/SHA256SUMS")
  [ -n "$expected" ] || fail "SHA256SUMS of v$version has no line for $asset"
  actual=$(sha256sum "$work/$asset" | cut -d' ' -f1)
  [ "$expected" = "$actual" ] ||
    fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; nothing was run"
  mkdir -p "$cache"
  tar -xzf "$work/$asset" -C "$cache" lambda-pipeline
  chmod 0755 "$binary"
  : >"$cache.complete"
  rm -rf "$work"
  trap - EXIT
  echo "lambda-pipeline $version ($target) downloaded, SHA-256 $actual verified"
fi

exec "$binary" "$@"
