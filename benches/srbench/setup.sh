#!/usr/bin/env bash
# Creates benches/srbench/.venv with the pinned baseline stack (PyPI only).
# PySR is deliberately not installed: its import downloads Julia, impossible offline.
# feyn (QLattice) is skipped: non-commercial licence.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3}"
VENV="$HERE/.venv"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install --disable-pip-version-check -q --upgrade pip
"$VENV/bin/pip" install --disable-pip-version-check \
    numpy==2.4.6 scipy==1.17.1 pandas==3.1.1 scikit-learn==1.9.1 sympy==1.14.0 \
    pyoperon==0.6.2 gplearn==0.4.3 ffx==2.1.0 six==1.17.0 \
    xgboost==3.2.0 lightgbm==4.7.0
"$VENV/bin/python" - <<'PY'
import importlib, importlib.metadata as md, sys
mods = {"numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "sklearn": "scikit-learn", "sympy": "sympy",
        "pyoperon": "pyoperon", "gplearn": "gplearn", "ffx": "ffx", "six": "six", "xgboost": "xgboost",
        "lightgbm": "lightgbm"}
for m, dist in mods.items():
    importlib.import_module(m)  # fails loudly if a package does not import
    print(f"{dist:14s} {md.version(dist)}")
print("python", sys.version.split()[0])
PY
echo "venv ready: $VENV/bin/python"
