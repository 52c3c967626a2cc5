"""A noisy 5-input table for timing `ansatz regress --time-limit`: python3 scripts/regress_time_table.py ROWS SEED > table.csv

The law (x0 sin(x1 x2) + exp(x3) / (1 + x4 x0) − 0.3 x2 x4, inputs in [0.5, 3), noise ±0.2)
is not found exactly, so a run goes to its time limit.
"""
import math, random, sys
rows, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
print("x0,x1,x2,x3,x4,y")
for _ in range(rows):
    x = [rng.uniform(0.5, 3.0) for _ in range(5)]
    y = x[0] * math.sin(x[1] * x[2]) + math.exp(x[3]) / (1 + x[4] * x[0]) - 0.3 * x[2] * x[4]
    y += 0.05 * sum(rng.uniform(-1, 1) for _ in range(4))
    print(",".join(repr(v) for v in x + [y]))
