#!/usr/bin/env python3
"""Stand-in for `ansatz regress` that follows the result.json contract, for testing the harness adapter only.

  fake_ansatz.py regress TRAIN.csv --test TEST.csv --target T --time-limit S --seed N --threads 1 --out DIR --quiet

Behaviour (environment):
  FAKE_ANSATZ_EXPR   expression to report for a scalar target (default "0.5*k_spring*x**2")
  FAKE_ANSATZ_MODE   ok (default) | no_file | missing_field | bad_expr | exit1
For --target tau it writes predictions_test.csv with the exact Neo-Hookean stress of the test rows
(FAKE_ANSATZ_TAU_SCALE multiplies them, default 1); FAKE_ANSATZ_TAU_EXPR=1 also reports the 9 exact expressions. Standard library only, so any python3 runs it.
"""
import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("cmd")
ap.add_argument("train")
ap.add_argument("--test", required=True)
ap.add_argument("--target", required=True)
ap.add_argument("--time-limit", type=float, required=True)
ap.add_argument("--seed", type=int, required=True)
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--quiet", action="store_true")
a = ap.parse_args()
assert a.cmd == "regress", a.cmd
mode = os.environ.get("FAKE_ANSATZ_MODE", "ok")
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)
if mode == "exit1":
    print("fake failure", file=sys.stderr)
    sys.exit(1)
if mode == "no_file":
    sys.exit(0)
res = {"law": "fake", "complexity": 5, "fits": 1, "evaluations": 1234, "seconds": 0.01}
if a.target == "tau":
    E, nu = math.exp(13.0), 0.245
    mu, lam = E / (2 * (1 + nu)), E * nu / ((1 + nu) * (1 - 2 * nu))
    scale = float(os.environ.get("FAKE_ANSATZ_TAU_SCALE", "1"))
    cols = [f"tau{i}{j}" for i in range(3) for j in range(3)]
    with open(a.test) as fi, open(out / "predictions_test.csv", "w", newline="") as fo:
        w = csv.writer(fo)
        w.writerow(cols)
        for row in csv.DictReader(fi):
            F = [[float(row[f"F{i}{j}"]) for j in range(3)] for i in range(3)]
            det = (F[0][0] * (F[1][1] * F[2][2] - F[1][2] * F[2][1]) - F[0][1] * (F[1][0] * F[2][2] - F[1][2] * F[2][0])
                   + F[0][2] * (F[1][0] * F[2][1] - F[1][1] * F[2][0]))
            tau = [[mu * (sum(F[i][k] * F[j][k] for k in range(3)) - (i == j)) + (lam * math.log(det) if i == j else 0.0)
                    for j in range(3)] for i in range(3)]
            w.writerow([repr(scale * tau[i][j]) for i in range(3) for j in range(3)])
    res["law"] = "tau = mu*(F*F^T - I) + lam*ln(det F)*I"
    if os.environ.get("FAKE_ANSATZ_TAU_EXPR"):  # also report the 9 expressions as {tau_ij: string}
        f = lambda i, j: f"F{i}{j}"
        det = (f"({f(0,0)}*({f(1,1)}*{f(2,2)} - {f(1,2)}*{f(2,1)}) - {f(0,1)}*({f(1,0)}*{f(2,2)} - {f(1,2)}*{f(2,0)})"
               f" + {f(0,2)}*({f(1,0)}*{f(2,1)} - {f(1,1)}*{f(2,0)}))")
        res["expression"] = {
            f"tau{i}{j}": f"{mu!r}*(" + " + ".join(f"{f(i,k)}*{f(j,k)}" for k in range(3)) + (" - 1)" if i == j else ")")
            + (f" + {lam!r}*log({det})" if i == j else "") for i in range(3) for j in range(3)}
else:
    res["expression"] = os.environ.get("FAKE_ANSATZ_EXPR", "0.5*k_spring*x**2")
    if mode == "bad_expr":
        res["expression"] = "0.5*k_spring*x**2 + I"
if mode == "missing_field":
    res.pop("evaluations")
(out / "result.json").write_text(json.dumps(res))
