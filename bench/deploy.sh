#!/usr/bin/env bash
# Deploy benchmark, in one run against one moto server (see BENCHMARKS.md, "Deploy"):
#   seed:    the seed pipeline's way: the buildspec's commands in bash (pip install, zip -r),
#            then aws CLI update-function-code, publish-version, update-alias and sns publish;
#   ours:    `lambda-pipeline run` on the same project (examples/hello), same function;
#   no-op:   `lambda-pipeline run` again with unchanged code.
# Each changed deploy edits the handler first, so both ways really upload and publish.
# Uses target/release/lambda-pipeline when it exists, else the debug binary.
#
#   bench/deploy.sh [runs]      # default 5 runs of each; prints medians and ratios
set -euo pipefail

runs="${1:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d -t lambda-pipeline-bench.XXXXXX)"
bin="$root/target/release/lambda-pipeline"
profile=release
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --quiet)
  bin="$root/target/debug/lambda-pipeline"
  profile=debug
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 200); do curl -sf "$endpoint/moto-api/" -o /dev/null && break; sleep 0.05; done
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret-key \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
# The aws CLI v1 does not send every service to AWS_ENDPOINT_URL (SQS); name it explicitly.
aws() { command aws --endpoint-url "$endpoint" "$@"; }
curl -sf -X POST "$endpoint/moto-api/config" -H 'Content-Type: application/json' \
  -d '{"lambda":{"use_docker":false}}' >/dev/null

aws iam create-role --role-name bench-role --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
printf 'def lambda_handler(event, context):\n    return 0\n' >"$work/lambda_function.py"
(cd "$work" && zip -q placeholder.zip lambda_function.py)
for fn in bench-seed bench-ours; do
  aws lambda create-function --function-name "$fn" --runtime python3.12 \
    --role arn:aws:iam::123456789012:role/bench-role --handler lambda_function.lambda_handler \
    --zip-file "fileb://$work/placeholder.zip" >/dev/null
done
aws lambda publish-version --function-name bench-seed >/dev/null
aws lambda create-alias --function-name bench-seed --name live --function-version 1 >/dev/null
topic="$(aws sns create-topic --name bench --query TopicArn --output text)"

now() { date +%s.%N; }
ms() { python3 -c "print(round(($2 - $1) * 1000))"; }

# The seed's way, phase by phase as its buildspec does it (build, then post_build).
seed_once() {
  local dir="$work/seed" t0 t1 t2
  rm -rf "$dir" && cp -r "$root/examples/hello" "$dir" && cd "$dir"
  echo "# run $1" >>lambda_function.py
  t0="$(now)"
  mkdir -p package
  python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt -t ./package
  python3 -m py_compile lambda_function.py
  cp lambda_function.py package/
  t1="$(now)"
  (cd package && zip -q -r ../deployment.zip .)
  aws lambda update-function-code --function-name bench-seed --zip-file fileb://deployment.zip >/dev/null
  version="$(aws lambda publish-version --function-name bench-seed --query Version --output text)"
  aws lambda update-alias --function-name bench-seed --name live --function-version "$version" >/dev/null
  aws sns publish --topic-arn "$topic" --message "Lambda deploy succeeded: bench-seed" >/dev/null
  t2="$(now)"
  cd "$root"
  echo "$(ms "$t0" "$t2") $(ms "$t1" "$t2")"
}

# lambda-pipeline on the same project. Package-and-deploy = the run minus the build phases.
ours_once() {
  local dir="$work/ours" t0 t2
  rm -rf "$dir" && cp -r "$root/examples/hello" "$dir"
  [[ "$1" == noop ]] || echo "# run $1" >>"$dir/lambda_function.py"
  if [[ "$1" == noop ]]; then cp "$work/last_handler.py" "$dir/lambda_function.py"; fi
  cp "$dir/lambda_function.py" "$work/last_handler.py"
  t0="$(now)"
  (cd "$dir" && "$bin" run --function-name bench-ours --sns-topic-arn "$topic" \
    --report-file "$work/report.json" >"$work/ours.log" 2>&1) || { cat "$work/ours.log"; exit 1; }
  t2="$(now)"
  local build
  build="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(p["duration_ms"] for p in r["phases"] if p["name"] in ("INSTALL","PRE_BUILD","BUILD","POST_BUILD")))' "$work/report.json")"
  local total; total="$(ms "$t0" "$t2")"
  echo "$total $((total - build))"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$work/seed.txt"; : >"$work/ours.txt"; : >"$work/noop.txt"
for i in $(seq 1 "$runs"); do
  seed_once "$i" >>"$work/seed.txt"
  ours_once "$i" >>"$work/ours.txt"
  ours_once noop >>"$work/noop.txt"
done
grep -q '"deployed": false' "$work/report.json" || { echo "the no-op run deployed"; exit 1; }

seed_total="$(cut -d' ' -f1 "$work/seed.txt" | median)"
seed_deploy="$(cut -d' ' -f2 "$work/seed.txt" | median)"
ours_total="$(cut -d' ' -f1 "$work/ours.txt" | median)"
ours_deploy="$(cut -d' ' -f2 "$work/ours.txt" | median)"
noop_total="$(cut -d' ' -f1 "$work/noop.txt" | median)"
noop_deploy="$(cut -d' ' -f2 "$work/noop.txt" | median)"
ratio() { python3 -c "print(f'{$1 / max($2, 1):.1f}x')"; }

echo "binary: $profile ($bin); $runs runs each; medians in ms"
printf '%-34s %10s %18s\n' "" "whole run" "package+deploy"
printf '%-34s %10s %18s\n' "seed (bash + aws CLI)" "$seed_total" "$seed_deploy"
printf '%-34s %10s %18s\n' "lambda-pipeline run" "$ours_total" "$ours_deploy"
printf '%-34s %10s %18s\n' "lambda-pipeline run, unchanged" "$noop_total" "$noop_deploy"
printf '%-34s %10s %18s\n' "speed-up (seed / ours)" "$(ratio "$seed_total" "$ours_total")" "$(ratio "$seed_deploy" "$ours_deploy")"
