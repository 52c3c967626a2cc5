# Two tables for the prompt measurement of issue 21 (BENCHMARKS.md, "What the model reads").
# Run: python3 make_tables.py OUT_DIR. They were kept outside the repository while the
# measurement runs, so the model answering the prompts cannot read the laws.
import sys
import numpy as np
out = sys.argv[1] if len(sys.argv) > 1 else "."
rng = np.random.default_rng(7)
def write(path, cols, data):
    with open(path, "w") as f:
        f.write(",".join(cols) + "\n")
        for row in data:
            f.write(",".join(f"{v:.6g}" for v in row) + "\n")
# Table A: a decay with a saturating inhibitor, 3 inputs
n = 600
c = rng.uniform(0.2, 5.0, n); t = rng.uniform(0.0, 4.0, n); s = rng.uniform(0.0, 3.0, n)
y = 3.2 * c * np.exp(-0.7 * t) / (1.0 + 0.5 * s**2)
y = y * (1 + 0.01 * rng.standard_normal(n))
write(out + "/decay.csv", ["c", "t", "s", "y"], np.column_stack([c, t, s, y]))
# Table B: a flow law with 4 inputs
d = rng.uniform(0.5, 3.0, n); p = rng.uniform(0.1, 10.0, n); h = rng.uniform(0.0, 5.0, n); w = rng.uniform(0.0, 2.0, n)
q = 0.8 * d**1.5 * np.sqrt(p) / (h + 2.0) + 0.3 * w
q = q * (1 + 0.01 * rng.standard_normal(n))
write(out + "/flow.csv", ["d", "p", "h", "w", "q"], np.column_stack([d, p, h, w, q]))
