#!/usr/bin/env bash
# Structure recovery: refit each task's true law from starting values perturbed by 20-50 %
# (tasks/recovery/TASK.json) and print the loss, the rollouts and the fitted parameters.
# Usage: scripts/recovery.sh [TASK...]   (default: all five; release build)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin ansatz >/dev/null
for t in "${@:-jelly plasticine sand imaginary water}"; do
  for task in $t; do
    law=$(sed -n 's/^law = "\(.*\)"/\1/p' "tasks/$task.toml" | head -1)
    params=()
    [ -f "tasks/recovery/$task.json" ] && params=(--params "tasks/recovery/$task.json")
    out="runs/recovery/$task"
    ./target/release/ansatz fit "tasks/$task.toml" "tasks/$law" "${params[@]}" --out "$out" | tail -1
    python3 - "$out/fit.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["feedback"]["record"]
print("  start", dict(zip(r["param_names"], r["start_params"])))
print("  final", dict(zip(r["param_names"], r["final_params"])), "loss", r["fitness"])
PY
  done
done
