#!/usr/bin/env bash
# Build-engine overhead: a phase of N trivial commands run by lambda-pipeline versus the same N
# commands run as `sh -c` one by one, measured side by side in one run.
#
#   bench/engine.sh [N] [ROUNDS]      (defaults: 500 commands, 5 rounds; the median round counts)
#
# Per-command cost of the engine = (time of the N-command build - time of a 0-command build) / N,
# so the binary's fixed start-up is not charged to the commands. Per-command cost of the baseline
# = time of N `sh -c true` / N. The ratio is engine / baseline (target: at most 2).
set -euo pipefail

N=${1:-500}
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
ROUNDS=${2:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ -x $ROOT/target/release/lambda-pipeline ]]; then
  BIN=$ROOT/target/release/lambda-pipeline PROFILE=release
else
  BIN=$ROOT/target/debug/lambda-pipeline PROFILE=debug
fi
[[ -x $BIN ]] || { echo "build the binary first: cargo build" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/many" "$WORK/none"
{
  printf 'version: 0.2\nphases:\n  build:\n    commands:\n'
  for _ in $(seq "$N"); do printf '      - "true"\n'; done
} > "$WORK/many/buildspec.yml"
printf 'version: 0.2\nphases:\n  build:\n    commands: []\n' > "$WORK/none/buildspec.yml"

now() { date +%s%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
engine() { # dir -> nanoseconds
  local start end
  start=$(now)
  (cd "$WORK/$1" && LAMBDA_PIPELINE_STATE_DIR="$WORK/state" "$BIN" build --report-file "$WORK/$1.json" > /dev/null)
  end=$(now)
  grep -q '"status": *"SUCCEEDED"' "$WORK/$1.json" || { echo "engine run failed" >&2; exit 1; }
  echo $((end - start))
}
# The floor of CodeBuild's model (spec §5.1): the script the engine writes for each command,
# run by `sh` in a plain loop, with no engine around it.
(cd "$WORK/none" && sh -c 'export -p' > "$WORK/env.sh")
cat > "$WORK/script.sh" <<SCRIPT
set -a; . '$WORK/env.sh'
cd -- '$WORK' || exit 1
CODEBUILD_BUILD_SUCCEEDING=1; CODEBUILD_LAST_EXIT=0
true
CODEBUILD_LAST_EXIT=\$?
export -p > '$WORK/env.next' 2>/dev/null
pwd > '$WORK/dir.next' 2>/dev/null
exit \$CODEBUILD_LAST_EXIT
SCRIPT
floor() {
  local start end
  start=$(now)
  for _ in $(seq "$N"); do sh "$WORK/script.sh"; done
  end=$(now)
  echo $((end - start))
}
baseline() {
  local start end
  start=$(now)
  for _ in $(seq "$N"); do sh -c true; done
  end=$(now)
  echo $((end - start))
}

ratios=() manys=() nones=() shs=() floors=()
for round in $(seq "$ROUNDS"); do
  many=$(engine many); none=$(engine none); sh_ns=$(baseline); floor_ns=$(floor)
  ratio=$(calc "(($many - $none) / $N) / ($sh_ns / $N)")
  printf 'round %d: engine %d cmds %.0f ms, engine 0 cmds %.0f ms, sh -c x%d %.0f ms, agent script x%d %.0f ms, ratio %.2f\n' \
    "$round" "$N" "$(calc "$many/1000000")" "$(calc "$none/1000000")" "$N" "$(calc "$sh_ns/1000000")" "$N" "$(calc "$floor_ns/1000000")" "$ratio" >&2
  ratios+=("$ratio") manys+=("$many") nones+=("$none") shs+=("$sh_ns") floors+=("$floor_ns")
done

# The round with the median ratio is the one reported; every round is printed on stderr.
median_round=$(for i in "${!ratios[@]}"; do echo "${ratios[$i]} $i"; done | sort -n | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }')
best_many=${manys[$median_round]} best_none=${nones[$median_round]} best_sh=${shs[$median_round]}
best_floor=${floors[$median_round]}
low=$(printf '%s\n' "${ratios[@]}" | sort -n | head -1)
high=$(printf '%s\n' "${ratios[@]}" | sort -n | tail -1)
engine_per=$(calc "($best_many - $best_none) / $N / 1000000")
sh_per=$(calc "$best_sh / $N / 1000000")
ratio=$(calc "$engine_per / $sh_per")
floor_per=$(calc "$best_floor / $N / 1000000")

cat <<MD
## Build engine

- Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load average at start $LOAD
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Command: \`bench/engine.sh $N $ROUNDS\` ($PROFILE binary \`${BIN#"$ROOT"/}\`; the round with the median ratio of $ROUNDS)

| | total | per command |
|---|---:|---:|
| lambda-pipeline, BUILD phase of $N \`true\` | $(printf '%.0f' "$(calc "$best_many/1000000")") ms | $(printf '%.2f' "$engine_per") ms (after subtracting the $(printf '%.0f' "$(calc "$best_none/1000000")") ms of a 0-command build) |
| \`sh -c true\` × $N, one by one | $(printf '%.0f' "$(calc "$best_sh/1000000")") ms | $(printf '%.2f' "$sh_per") ms |
| CodeBuild's per-command script (§5.1) × $N, run by \`sh\` in a loop, no engine | $(printf '%.0f' "$(calc "$best_floor/1000000")") ms | $(printf '%.2f' "$floor_per") ms |

Per-command overhead ratio (engine / \`sh -c\`): **$(printf '%.2f' "$ratio")×** (median of $ROUNDS rounds, range $(printf '%.2f' "$low")–$(printf '%.2f' "$high")×; target ≤ 2×).
For scale: the same per-command script run by \`sh\` from a shell loop costs $(printf '%.2f' "$(calc "$floor_per / $sh_per")")× \`sh -c\`, and the engine costs $(printf '%.2f' "$(calc "$engine_per / $floor_per")")× that loop: most of the engine's cost is CodeBuild's model itself (restore, run, save per command).
MD
