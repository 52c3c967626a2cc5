#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for a developer (root; Debian bookworm), the same as
# CI's: `up` installs slurmctld, slurmd, slurm-client and munge if needed, configures one node
# and waits until it is idle (.ci/slurm-up); `test` runs the cluster tests of ansatz-slurm and of
# the Slurm executor against it; `down` stops the daemons (.ci/slurm-down).
# Usage: scripts/local-slurm.sh up|test|down   (default: up, test, down)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(up test down)
for step in "${steps[@]}"; do
    case "$step" in
    up) .ci/slurm-up ;;
    down) .ci/slurm-down ;;
    test)
        export ANSATZ_SLURM_TESTS=1
        cargo test -p ansatz-slurm
        cargo test -p ansatz --test integration executor::
        ;;
    *)
        echo "local-slurm.sh: unknown step $step (up, test, down)" >&2
        exit 2
        ;;
    esac
done
