#!/bin/bash
# The prompt measurement of issue 21 (BENCHMARKS.md, "What the model reads"): each material
# searched once per feedback format with --proposer human, in run directories whose names
# say nothing about the material (the model answering sees its run's path). Prints, per run,
# the brief to hand to the model (one model session per run) and writes KEY.txt, the
# anonymous label -> material/format table, which the model must not see.
#
#   benches/prompt/run_measurement.sh BINARY OUTDIR [MATERIAL...]
#
# A watcher touches OUTDIR/LABEL.done when a run's process ends.
set -euo pipefail
bin=$(realpath "$1"); out=$(realpath -m "$2"); shift 2
materials=("${@:-arruda_boyce blatz_ko gent}")
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
mkdir -p "$out"
: > "$out/KEY.txt"
n=0
for m in ${materials[@]}; do
  for f in sga full; do
    n=$((n + 1))
    label=$(printf 'run%02d-%04x' "$n" $((RANDOM % 65536)))
    echo "$label $m $f" >> "$out/KEY.txt"
    (cd "$repo" && nohup "$bin" search "tasks/validation/$m.toml" --proposer human --feedback "$f" \
        --rounds 4 --patience 0 --exploit 2 --explore 6 --seed 0 --threads 1 --fit-evaluations 60 \
        --out "$out/$label" > "$out/$label.out" 2> "$out/$label.err") &
    pid=$!
    nohup bash -c "while kill -0 $pid 2>/dev/null; do sleep 5; done; touch $out/$label.done" > /dev/null 2>&1 &
    sed "s#RUNDIR#$out/$label#g" "$here/brief.txt" > "$out/$label.brief.txt"
    echo "$out/$label.brief.txt"
  done
done
