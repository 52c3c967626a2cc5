#!/bin/bash
# LLOME against the GA through the search engine (issue 18): 4 methods (the Ehrlich paper's
# GA, LLOME-SFT, LLOME-DPO, LLOME-MargE) x 2 functions (Ehr(32, 32, c=2, k=4, q=4) from the
# reference vector file, and LLOME's f2) x 3 seeds, each an `ansatz search` run; then
# `ansatz ehrlich compare` writes the table and the regret-against-oracle-calls plots.
#
#   benches/llome/compare.sh [BINARY] [OUTDIR] [PARALLEL]
#
# LLOME runs 9 rounds of its seed-data GA and 6 trained rounds (the CPU preset:
# kinds/llome/README.md); the GA runs until f = 1 or 10,000 oracle calls. Each run uses one
# thread; PARALLEL (default 2) run side by side. A run that exists is resumed, not redone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/target/release/ansatz}")
out=$(realpath -m "${2:-$repo/runs/llome-compare}")
parallel=${3:-2}
mkdir -p "$out"
jobs=()
# the longest runs (DPO) first
for method in llome-dpo llome-marge llome-sft ga; do
  for task in ehrlich_v32_L32_c2_k4 ehrlich_llome_f2; do
    for seed in 0 1 2; do
      jobs+=("$method $task $seed")
    done
  done
done
run_one() {
  local method=$1 task=$2 seed=$3
  local dir="$out/$task-$method-s$seed"
  local rounds=15 budget=()
  if [ "$method" = ga ]; then rounds=1000; budget=(--max-evaluations 10000); fi
  local resume=()
  if [ -f "$dir/config.json" ]; then resume=(--resume); fi
  RAYON_NUM_THREADS=1 "$bin" search "$repo/tasks/$task.toml" --sequence-search "$method" \
    --rounds "$rounds" --seed "$seed" --threads 1 "${budget[@]}" "${resume[@]}" \
    --out "$dir" > "$dir.out" 2> "$dir.err" || echo "$dir failed: see $dir.err" >&2
  echo "$(date -u +%H:%M:%S) done $task $method seed $seed"
}
export -f run_one
export bin out repo
start=$(date +%s)
printf '%s\n' "${jobs[@]}" | xargs -P "$parallel" -L 1 bash -c 'run_one "$@"' _
echo "all runs: $(( $(date +%s) - start )) s wall"
"$bin" ehrlich compare --out "$out" "$out"/*/
