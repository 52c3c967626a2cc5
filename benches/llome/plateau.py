#!/usr/bin/env python3
"""Why a sequence search sits on a plateau: how far its best sequences are from a better one.

    benches/llome/plateau.py RUN [--bin BINARY] [--sample N]

RUN is an `ansatz search` run directory of an Ehrlich task. Takes the sequences of the
run's ledger at the best value found (a random sample of --singles of them, default 1,000),
scores all their single substitutions with `ansatz ehrlich eval` (L x (v - 1) each), and,
for a sample of N of them (--sample, default 50), all
substitutions of two adjacent positions (a banned transition next to the needed symbol is
usually what makes a single substitution infeasible). Prints how many of each reach a
higher value, which (position, symbol) edits they are, and the infeasible share.
"""
import argparse
import collections
import json
import pathlib
import random
import subprocess
import tempfile


def evaluate(binary, task, seqs):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(seqs) + "\n")
        path = f.name
    out = subprocess.run(
        [binary, "ehrlich", "eval", "--task", task, "--input", path, "--json"],
        capture_output=True, text=True, check=True)
    pathlib.Path(path).unlink()
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(rows) == len(seqs), out.stderr
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--bin", default=str(pathlib.Path(__file__).resolve().parents[2]
                                         / "target/release/ansatz"))
    ap.add_argument("--sample", type=int, default=50)
    ap.add_argument("--singles", type=int, default=1000)
    a = ap.parse_args()
    run = pathlib.Path(a.run)
    task = json.loads((run / "config.json").read_text())["task"]
    ledger = [json.loads(line) for line in (run / "ledger.jsonl").open()]
    scored = [c for c in ledger if c.get("letters") and c.get("value") is not None]
    best = max(c["value"] for c in scored)
    plateau = sorted({c["letters"] for c in scored if c["value"] == best})
    letters = {}
    for c in scored:
        for i, s in zip(c["sequence"], c["letters"]):
            letters[i] = s
    alphabet = "".join(letters[i] for i in sorted(letters))
    print(f"{run.name}: {len(scored)} feasible sequences, best value {best}, "
          f"{len(plateau)} distinct sequences at it; alphabet of {len(alphabet)} seen")

    def neighbours(s, positions):
        for i in positions:
            for a in alphabet:
                if a != s[i]:
                    yield (i, a), s[:i] + a + s[i + 1:]

    random.seed(0)
    some = random.sample(plateau, min(a.singles, len(plateau)))
    single, src = [], []
    for s in some:
        for edit, t in neighbours(s, range(len(s))):
            single.append(t)
            src.append((s, edit))
    rows = evaluate(a.bin, task, single)
    better = [(src[k], r["value"]) for k, r in enumerate(rows)
              if r["value"] is not None and r["value"] > best]
    infeasible = sum(1 for r in rows if not r["feasible"]) / len(rows)
    edits = collections.Counter(e for (_, e), _ in better)
    print(f"single substitutions: {len(single)}, {len(better)} better "
          f"(from {len({s for (s, _), _ in better})} of the {len(some)} sequences), "
          f"infeasible share {infeasible:.3f}; the better edits (position, symbol): "
          f"{dict(edits.most_common(10))}")

    sample = random.sample(plateau, min(a.sample, len(plateau)))
    double, dsrc = [], []
    for s in sample:
        for i in range(len(s) - 1):
            for (_, a1), t in neighbours(s, [i]):
                for (_, a2), u in neighbours(t, [i + 1]):
                    double.append(u)
                    dsrc.append(s)
    rows = evaluate(a.bin, task, double)
    reach = {dsrc[k] for k, r in enumerate(rows) if r["value"] is not None and r["value"] > best}
    print(f"adjacent double substitutions of {len(sample)} sampled sequences: {len(double)}, "
          f"{sum(1 for r in rows if r['value'] is not None and r['value'] > best)} better; "
          f"{len(reach)} of the {len(sample)} sequences are two adjacent edits from a better one")


if __name__ == "__main__":
    main()
