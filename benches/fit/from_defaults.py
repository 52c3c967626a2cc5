#!/usr/bin/env python3
"""Fits the right form of a law from moduli far from the observed ones (issue 15, item 2).

For each task, its true law (the `[target] law` of the task file, or TASK:LAW for a validation
task) is written with its moduli moved down: the k-th modulus (k = 0, 1, ...) by FACTOR * 3^k
(so by different amounts, none on the grid's half decades for the default 37: 37, 111, 333);
a parameter whose name contains `log` (a log modulus, used as exp(p)) gets `- log(factor)`,
one whose value is at least 100 in magnitude (a raw modulus, a yield stress) is divided by
it; the other parameters keep their values. The law is then fitted with `ansatz fit` (the task's own fit settings), with the
start grid (default) or without it (`--no-start-grid`), and one Markdown row per task is
printed: task, start, best loss, rollouts, wall seconds, whether it reached 1e-6.

    benches/fit/from_defaults.py [--bin target/release/ansatz] [--factor 37] [--no-start-grid] \\
        --out DIR TASK.toml[:LAW.law] ...
"""
import argparse
import json
import math
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

PARAM = re.compile(r"^(param\s+([A-Za-z_][A-Za-z_0-9]*)\s*=\s*)([-+0-9.eE]+)(.*)$")


def moved(text, base):
    out, moves = [], []
    for line in text.splitlines():
        m = PARAM.match(line)
        if m:
            name, value = m.group(2), float(m.group(3))
            factor = base * 3 ** len(moves)
            if "log" in name:
                new = value - math.log(factor)
            elif abs(value) >= 100:
                new = value / factor
            else:
                new = None
            if new is not None:
                moves.append(f"{name} {value:g} -> {new:.6g}")
                line = f"{m.group(1)}{new!r}{m.group(4)}"
        out.append(line)
    return "\n".join(out) + "\n", moves


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tasks", nargs="+")
    ap.add_argument("--bin", default="target/release/ansatz")
    ap.add_argument("--factor", type=float, default=37.0)
    ap.add_argument("--no-start-grid", action="store_true")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    print("| task | moved | start grid | best loss | rollouts | wall s | <= 1e-6 |")
    print("|---|---|---|---|---|---|---|")
    for spec in a.tasks:
        task, _, law = spec.partition(":")
        task = Path(task)
        if not law:
            target = tomllib.loads(task.read_text())["target"]["law"]
            law = task.parent / target
        law = Path(law)
        text, moves = moved(law.read_text(), a.factor)
        if not moves:
            print(f"| {task.stem} | (no modulus) | | | | | |", flush=True)
            continue
        grid = "off" if a.no_start_grid else "on"
        variant = out / f"{task.stem}-{grid}.law"
        variant.write_text(text)
        cmd = [a.bin, "fit", str(task), str(variant), "--out", str(out / f"{task.stem}-{grid}")]
        if a.no_start_grid:
            cmd.append("--no-start-grid")
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        (out / f"{task.stem}-{grid}.log").write_text(p.stdout + p.stderr)
        try:
            record = json.loads((out / f"{task.stem}-{grid}" / "fit.json").read_text())["feedback"]["record"]
            loss = record["fitness"]
            loss = math.inf if loss is None else loss
            n = len(record["evaluations"])
        except (OSError, KeyError, json.JSONDecodeError) as e:
            print(f"| {task.stem} | {'; '.join(moves)} | {grid} | failed: {e} (exit {p.returncode}) | | {wall:.0f} | no |",
                  flush=True)
            continue
        print(f"| {task.stem} | {'; '.join(moves)} | {grid} | {loss:.2e} | {n} | {wall:.0f} | "
              f"{'yes' if loss <= 1e-6 else 'no'} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
