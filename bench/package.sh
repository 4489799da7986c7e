#!/usr/bin/env bash
# Packaging benchmark (issue 3): our `package --package-directory` against Info-ZIP `zip -r -q`
# (level 6) and Python's zipfile (ZIP_DEFLATED), side by side on one deterministic tree
# (≥ 50 MB, ≥ 2,000 files), then our peak RSS on a 300 MB tree. Prints a Markdown report.
#
# usage: bench/package.sh            (env: BENCH_DIR, RUNS, BIN, PACKAGER)
#   PACKAGER=zipbench measures bench/zipbench, a release build of the same src/package sources
#   without the AWS SDKs, for machines where the full release build takes too long.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${BENCH_DIR:-/tmp/lambda-pipeline-bench}"
runs="${RUNS:-5}"
bin="${BIN:-$repo/target/release/lambda-pipeline}"
mkdir -p "$work"

# The 300 MB tree is over Lambda's 250 MB unzipped limit, which `package` enforces: peak memory
# is measured with zipbench `--no-limit` (the same selection and zip code).
(cd "$repo/bench/zipbench" && CARGO_TARGET_DIR="$repo/target/zipbench" cargo build --release --quiet --offline)
zipbench="$repo/target/zipbench/release/zipbench"
if [[ "${PACKAGER:-full}" == zipbench ]]; then
  ours() { echo "$repo/target/zipbench/release/zipbench $1 $2"; }
  label="zipbench (src/package, release)"
else
  [[ -n "${BIN:-}" ]] || (cd "$repo" && cargo build --release --quiet)
  ours() { echo "$bin package --package-directory $1 --output $2"; }
  label="lambda-pipeline package (release)"
fi
for tool in hyperfine zip python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "error: \`$tool\` is required (apt-get install hyperfine zip time)" >&2; exit 2; }
done

tree() { # tree NAME SCALE: generates once, keyed by scale
  local dir="$work/$1"
  if [[ ! -f "$dir.scale" || "$(cat "$dir.scale")" != "$2" ]]; then
    rm -rf "$dir"
    python3 "$repo/bench/gen_tree.py" "$dir" "$2" >&2
    echo "$2" >"$dir.scale"
  fi
}
tree small 1
tree large 3.6

cat >"$work/pyzip.py" <<'PY'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            z.write(path, os.path.relpath(path, src))
PY

cd "$work"
files=$(find small -type f | wc -l)
bytes=$(du -sb small | cut -f1)
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/times.json" \
  --prepare "rm -f $work/ours.zip $work/zip.zip $work/python.zip" \
  -n "lambda-pipeline package" "cd $work && $(ours small "$work/ours.zip")" \
  -n "zip -r -q (Info-ZIP, level 6)" "cd $work/small && zip -r -q -6 $work/zip.zip ." \
  -n "python zipfile (ZIP_DEFLATED)" "python3 $work/pyzip.py $work/small $work/python.zip" >&2

# One more run of each to keep the archives for the size comparison.
(cd "$work" && $(ours small "$work/ours.zip") >/dev/null)
rm -f "$work/zip.zip" && (cd "$work/small" && zip -r -q -6 "$work/zip.zip" .)
python3 "$work/pyzip.py" "$work/small" "$work/python.zip"
unzip -tq "$work/ours.zip" >&2

rss_kb=$( { /usr/bin/time -v "$zipbench" large "$work/large.zip" --no-limit >/dev/null; } 2>&1 \
  | awk -F': ' '/Maximum resident set size/ {print $2}')
large_bytes=$(du -sb large | cut -f1)
large_files=$(find large -type f | wc -l)

python3 - "$work" "$files" "$bytes" "$rss_kb" "$large_bytes" "$large_files" "$label" <<'PY'
import json, os, statistics, sys, platform, datetime, subprocess
work, files, tree_bytes, rss_kb, large_bytes, large_files, label = sys.argv[1:]
results = json.load(open(os.path.join(work, "times.json")))["results"]
zips = {"lambda-pipeline package": "ours.zip", "zip -r -q (Info-ZIP, level 6)": "zip.zip",
        "python zipfile (ZIP_DEFLATED)": "python.zip"}
sizes = {name: os.path.getsize(os.path.join(work, z)) for name, z in zips.items()}
medians = {r["command"]: statistics.median(r["times"]) for r in results}
ours, zip_name = "lambda-pipeline package", "zip -r -q (Info-ZIP, level 6)"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}")
print(f"- machine: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}")
print(f"- tree: {int(files):,} files, {int(tree_bytes)/1e6:.1f} MB (bench/gen_tree.py, scale 1)")
print(f"- our packager: {label}")
print(f"- timing: hyperfine, 1 warm-up + {len(results[0]['times'])} runs each, median wall time\n")
print("| tool | median wall time | min–max | zip size | size vs zip -r | speed vs zip -r |")
print("|---|---:|---:|---:|---:|---:|")
for r in results:
    name = r["command"]
    t = medians[name]
    print(f"| {name} | {t:.2f} s | {min(r['times']):.2f}–{max(r['times']):.2f} s | "
          f"{sizes[name]/1e6:.2f} MB | {100*(sizes[name]/sizes[zip_name]-1):+.2f} % | "
          f"{medians[zip_name]/t:.2f}× |")
print(f"\n- peak RSS of our packager on {int(large_files):,} files, "
      f"{int(large_bytes)/1e6:.0f} MB: **{int(rss_kb)/1024:.1f} MB** (`/usr/bin/time -v`, zipbench `--no-limit`)")
print(f"- targets: ≥ 3× faster than zip -r → {medians[zip_name]/medians[ours]:.2f}×; "
      f"size within 2 % → {100*(sizes[ours]/sizes[zip_name]-1):+.2f} %; RSS < 64 MB → {int(rss_kb)/1024:.1f} MB")
PY
