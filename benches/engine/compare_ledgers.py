#!/usr/bin/env python3
"""Compare two search ledgers (ledger.jsonl) value by value, ignoring every `seconds` field.

    python3 benches/engine/compare_ledgers.py [--old-stage-name] BEFORE/ledger.jsonl AFTER/ledger.jsonl

With --old-stage-name, the second ledger's stage `evaluate` is read as the pre-engine
`simulate` (the engine issue renamed it), in the stage fields and the feedback's words.

Prints, per record, the paths whose values differ (and whether the order of the keys
differs), then a summary, with the number of lines that are equal byte for byte once every
`"seconds":NUMBER` is blanked. Exit status 0 when no value differs, 1 otherwise. Used to check
that a refactoring of the engine leaves a seeded run's ledger as it was (BENCHMARKS.md,
"The ledger before and after the engine").
"""
import json
import re
import sys

SECONDS = re.compile(r'"seconds":(-?[0-9][0-9.eE+-]*|null)')


def blank_seconds(line):
    return SECONDS.sub('"seconds":_', line)


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k != "seconds"}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


def diff(a, b, path=""):
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: only in the second")
            elif k not in b:
                out.append(f"{path}.{k}: only in the first")
            else:
                out += diff(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]")
    elif a != b:
        out.append(f"{path}: {str(a)[:70]!r} -> {str(b)[:70]!r}")
    return out


def main():
    args = sys.argv[1:]
    old_stage = "--old-stage-name" in args
    args = [a for a in args if a != "--old-stage-name"]
    if len(args) != 2:
        sys.exit(__doc__)
    text_a = open(args[0], encoding="utf-8").read().splitlines()
    text_b = open(args[1], encoding="utf-8").read().splitlines()
    if old_stage:
        text_b = [
            line.replace('"stage":"evaluate"', '"stage":"simulate"').replace(
                "at the evaluate stage", "at the simulate stage")
            for line in text_b
        ]
    a = [json.loads(line) for line in text_a]
    b = [json.loads(line) for line in text_b]
    same_bytes = sum(blank_seconds(x) == blank_seconds(y) for x, y in zip(text_a, text_b))
    differing = reordered = 0
    for x, y in zip(a, b):
        d = diff(strip(x), strip(y))
        if d:
            differing += 1
            print(f"record {x.get('id')}:")
            for line in d:
                print("   ", line)
        if list(x) != list(y):
            reordered += 1
    print(f"records: {len(a)} and {len(b)}; with a differing value (seconds ignored): "
          f"{differing}; with the keys in another order: {reordered}; equal byte for byte "
          f"(seconds blanked): {same_bytes}")
    sys.exit(0 if differing == 0 and len(a) == len(b) else 1)


if __name__ == "__main__":
    main()
