#!/usr/bin/env python3
"""Compares two search ledgers (ledger.jsonl) line by line, as JSON, ignoring the timing fields.

Usage: scripts/compare_ledgers.py BEFORE/ledger.jsonl AFTER/ledger.jsonl

Used to check that a refactor leaves a seeded search unchanged (issue 13): run the same
one-round search with the binary before and after, then compare. Prints every difference with
its JSON path and exits 1 if there is one. Key order is not compared (it is serialisation
order, not content); `seconds` and `finished` are dropped at every level.
"""
import json
import sys

TIMING = {"seconds", "finished"}


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def differences(a, b, path=""):
    if type(a) is not type(b):
        yield path, a, b
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                yield f"{path}/{k}", a.get(k, "<absent>"), b.get(k, "<absent>")
            else:
                yield from differences(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        if len(a) != len(b):
            yield f"{path} (length)", len(a), len(b)
        for i, (u, v) in enumerate(zip(a, b)):
            yield from differences(u, v, f"{path}[{i}]")
    elif a != b:
        yield path, a, b


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        before = [strip(json.loads(line)) for line in f if line.strip()]
    with open(sys.argv[2]) as f:
        after = [strip(json.loads(line)) for line in f if line.strip()]
    found = 0
    if len(before) != len(after):
        print(f"line count: {len(before)} before, {len(after)} after")
        found += 1
    for i, (x, y) in enumerate(zip(before, after)):
        for path, u, v in differences(x, y):
            found += 1
            print(f"line {i + 1} {path}: {json.dumps(u)[:200]} -> {json.dumps(v)[:200]}")
    same = sum(x == y for x, y in zip(before, after))
    print(f"{same} of {max(len(before), len(after))} lines equal apart from timing")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
