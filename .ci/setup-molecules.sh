#!/usr/bin/env bash
# Installs the external tools of kinds/molecules (ansatz-molecules) and checks that they work:
# GFN2-xTB (Debian xtb 6.5.1), Open Babel, and RDKit for /usr/bin/python3 (python3-rdkit).
# Idempotent: installs only what is missing. Exits non-zero if a tool is still missing.
set -euo pipefail

need=()
command -v xtb >/dev/null 2>&1 || need+=(xtb)
command -v obabel >/dev/null 2>&1 || need+=(openbabel)
/usr/bin/python3 -c 'import rdkit.Chem.AllChem' >/dev/null 2>&1 || need+=(python3-rdkit)

if [ ${#need[@]} -gt 0 ]; then
    echo "setup-molecules: installing ${need[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    # apt may be busy with another job on a shared machine: retry for a while.
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}"; then
            break
        fi
        echo "setup-molecules: apt-get failed (attempt $attempt), retrying in 10 s" >&2
        sleep 10
    done
fi

export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
fail=0
xtb --version >/dev/null 2>&1 || { echo "setup-molecules: xtb missing (apt-get install xtb)" >&2; fail=1; }
obabel -V >/dev/null 2>&1 || { echo "setup-molecules: obabel missing (apt-get install openbabel)" >&2; fail=1; }
/usr/bin/python3 -c 'import rdkit.Chem.AllChem' >/dev/null 2>&1 \
    || { echo "setup-molecules: RDKit missing for /usr/bin/python3 (apt-get install python3-rdkit)" >&2; fail=1; }
if [ "$fail" -ne 0 ]; then exit 1; fi
echo "setup-molecules: $(xtb --version 2>/dev/null | grep -m1 'xtb version' | sed 's/^ *\* *//'), $(obabel -V), RDKit $(/usr/bin/python3 -c 'import rdkit; print(rdkit.__version__)')"
