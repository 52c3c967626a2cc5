#!/usr/bin/env python3
"""SRBench-style side-by-side comparison harness for ansatz and the baselines that run offline.

Run with the venv made by setup.sh:  benches/srbench/.venv/bin/python benches/srbench/srbench.py ...

Subcommands
  gen      write train.csv/test.csv of one problem (same split every method sees)
  run      fit methods on problems x seeds x noise levels; one JSON line per fit, resumable, --jobs N
  stress   the 9-output Neo-Hookean stress task (F -> tau) on the SGA jelly ground-truth F
  table    Markdown results table(s) from one or more .jsonl files
  check    symbolic-equivalence check of a model string against a problem's true formula
  selftest known-answer tests of the symbolic check
  fit / fit-stress  (internal) one fit in a child process

Protocol: notes/srbench.md sections 1.3, 1.4, 6.2-6.6 (SRBench 2021 ground-truth track; symbolic check with fixes A-F).
"""
import argparse
import contextlib
import json
import math
import os
import platform
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import sympy as sp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# The SRBench data come from the shared folder beside the repository (not needed by the tests),
# unless the environment says otherwise.
SHARED = Path(os.environ.get("SRBENCH_SHARED", REPO.parent / "shared" / "srbench"))
FEYNMAN_CSV = SHARED / "feynman_equations.csv"
STROGATZ_CSV = SHARED / "strogatz_odes.csv"
NEO_NPZ = Path(os.environ.get("SRBENCH_NEO_NPZ", REPO / "tests" / "data" / "reference" / "gt_neohookean.npz"))
DEFAULT_ANSATZ = REPO / "target" / "release" / "ansatz"

ALL_METHODS = ["ansatz", "ansatz-cli", "operon", "gplearn", "ffx", "mlp", "xgboost", "lightgbm"]
SYMBOLIC_METHODS = {"ansatz", "ansatz-cli", "operon", "gplearn", "ffx"}
MAX_TRAIN = 10_000
SYM_TIMEOUT = 60.0          # seconds per symbolic check (fix B); a timeout counts as "not solved"
ACC_THRESHOLD = 0.999       # accuracy solution: R2 test > 0.999
SYM_R2_MIN = 0.5            # symbolic check only if R2 test > 0.5 (SRBench)
NUM_R2_MIN = 0.99           # numeric extrapolation check only if R2 test > 0.99 (fix C)
NUM_TOL = 1e-4
NUM_POINTS = 5000
NUM_STRETCH = 1.5

# Neo-Hookean stress task constants (SGA jelly defaults)
NEO_E = math.exp(13.0)
NEO_NU = 0.245
NEO_MU = NEO_E / (2 * (1 + NEO_NU))
NEO_LAM = NEO_E * NEO_NU / ((1 + NEO_NU) * (1 - 2 * NEO_NU))
F_COLS = [f"F{i}{j}" for i in range(3) for j in range(3)]
TAU_COLS = [f"tau{i}{j}" for i in range(3) for j in range(3)]

PYSR_NOTE = ("PySR: not run. `pysr==2.7.2` installs, but `import pysr` downloads Julia (juliapkg -> julialang-s3) "
             "and SymbolicRegression.jl from the Julia registry; neither is reachable offline. Cite published numbers only.")
FEYN_NOTE = "Feyn/QLattice: not run (community edition licence is non-commercial only)."


# ----------------------------------------------------------------------------------------------------------
# problems
# ----------------------------------------------------------------------------------------------------------
class Problem:
    def __init__(self, pid, kind, names, lows, highs, formula, data_file=None):
        self.id, self.kind, self.names = pid, kind, list(names)
        self.lows, self.highs = list(lows), list(highs)
        self.formula, self.data_file = formula, data_file

    def symbols(self):
        # fix F: non-negative symbols where the sampling range is non-negative
        return {n: sp.Symbol(n, real=True, nonnegative=bool(lo >= 0)) for n, lo in zip(self.names, self.lows)}


_FEYNMAN = None
_STROGATZ = None


def feynman_table():
    global _FEYNMAN
    if _FEYNMAN is None:
        _FEYNMAN = pd.read_csv(FEYNMAN_CSV, dtype={"formula": str, "id": str})
    return _FEYNMAN


def feynman_problem(row):
    k = int(row["n_vars"])
    names = [str(row[f"v{i}_name"]) for i in range(1, k + 1)]
    lows = [float(row[f"v{i}_low"]) for i in range(1, k + 1)]
    highs = [float(row[f"v{i}_high"]) for i in range(1, k + 1)]
    return Problem(str(row["id"]), "feynman", names, lows, highs, str(row["formula"]))


def strogatz_problems():
    global _STROGATZ
    if _STROGATZ is None:
        t = pd.read_csv(STROGATZ_CSV)
        _STROGATZ = [Problem(str(r["dataset"]), "strogatz", ["x", "y"], [float(r["x_min"]), float(r["y_min"])],
                             [float(r["x_max"]), float(r["y_max"])], str(r["formula"]),
                             data_file=str(SHARED / r["data_file"])) for _, r in t.iterrows()]
    return _STROGATZ


def feynman3_ids():
    t = feynman_table()
    sel = t[(t["in_srbench_2021_groundtruth"] == 1) & (t["n_vars"] <= 3)]
    return [str(i) for i in sel["id"]]


def feynman_ids():
    """Every Feynman problem of SRBench 2021's ground-truth track in the shared table."""
    t = feynman_table()
    return [str(i) for i in t[t["in_srbench_2021_groundtruth"] == 1]["id"]]


def resolve_problems(spec):
    """Comma-separated ids and/or the sets feynman (all of SRBench's), feynman3, feynman3-half, strogatz,
    all (feynman and strogatz)."""
    out = []
    for tok in [s.strip() for s in spec.split(",") if s.strip()]:
        if tok == "all":
            ids = feynman_ids() + [p.id for p in strogatz_problems()]
        elif tok == "feynman":
            ids = feynman_ids()
        elif tok == "feynman3":
            ids = feynman3_ids()
        elif tok == "feynman3-half":
            ids = feynman3_ids()[::2]
        elif tok == "strogatz":
            ids = [p.id for p in strogatz_problems()]
        else:
            ids = [tok]
        for i in ids:
            if i not in out:
                out.append(i)
    return [get_problem(i) for i in out]


def get_problem(pid):
    t = feynman_table()
    hit = t[t["id"] == pid]
    if len(hit) == 1:
        return feynman_problem(hit.iloc[0])
    for p in strogatz_problems():
        if pid in (p.id, p.id.replace("strogatz_", ""), Path(p.data_file).stem):
            return p
    raise SystemExit(f"unknown problem id {pid!r} (Feynman ids as in {FEYNMAN_CSV.name}, or strogatz_<name>)")


# ----------------------------------------------------------------------------------------------------------
# parsing (explicit symbol table, fix D/E/F helpers)
# ----------------------------------------------------------------------------------------------------------
_GLOBALS = {"Symbol": sp.Symbol, "Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational,
            "Function": sp.Function}


def _sqrt_abs(a):
    return sp.sqrt(sp.Abs(a))


def _log_abs(a):
    return sp.log(sp.Abs(a))


BASE_FUNCS = {
    "exp": sp.exp, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh,
    "sinh": sp.sinh, "cosh": sp.cosh, "log": sp.log, "ln": sp.log, "arcsin": sp.asin, "arccos": sp.acos,
    "arctan": sp.atan, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "abs": sp.Abs, "Abs": sp.Abs,
    "square": lambda a: a ** 2, "cube": lambda a: a ** 3, "max": sp.Max, "min": sp.Min, "Max": sp.Max,
    "Min": sp.Min, "log10": lambda a: sp.log(a, 10), "pow": lambda a, b: a ** b, "pi": sp.pi,
    # strogatz_shearflow1's truth is cot(y) cos(x); without these, cot parsed as an undefined
    # function, and the NumPy printer's attempt to rewrite it never ended (RecursionError).
    "cot": sp.cot, "sec": sp.sec, "csc": sp.csc,
}

# method-specific operator maps (notes 6.4.1 item 2)
GPLEARN_FUNCS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
                 "div": lambda a, b: a / b, "sqrt": _sqrt_abs, "log": _log_abs, "neg": lambda a: -a,
                 "inv": lambda a: 1 / a, "abs": sp.Abs, "max": sp.Max, "min": sp.Min, "sin": sp.sin, "cos": sp.cos,
                 "tan": sp.tan}
OPERON_FUNCS = {"aq": lambda a, b: a / sp.sqrt(1 + b ** 2), "logabs": _log_abs, "sqrtabs": _sqrt_abs,
                "square": lambda a: a ** 2, "cbrt": sp.cbrt}


def parse_model(s, symtab, extra=None):
    """Parse a model string with only the given variable names allowed as symbols.

    Unknown names (including I, E, N, S, gamma, beta, lambda that are not columns) raise ValueError.
    """
    if not isinstance(s, str) or not s.strip():
        raise ValueError(f"empty model string {s!r}")
    local = dict(BASE_FUNCS)
    local.update(extra or {})
    local.update(symtab)
    txt = s.replace("^", "**")
    expr = sp.parse_expr(txt, local_dict=local, global_dict=dict(_GLOBALS), evaluate=True)
    if not isinstance(expr, sp.Basic):
        expr = sp.sympify(expr)
    allowed = set(symtab.values())
    bad = [str(v) for v in expr.free_symbols if v not in allowed]
    if bad:
        raise ValueError(f"model uses names that are not columns: {sorted(bad)} in {s[:200]!r}")
    if expr.has(sp.I) or expr.has(sp.zoo) or expr.has(sp.nan):
        raise ValueError(f"model contains I/zoo/nan: {s[:200]!r}")
    return expr


def parse_truth(formula, symtab):
    # SRBench evaluates pi numerically in the true model
    return parse_model(formula, symtab, extra={"pi": sp.Float(math.pi)})


def round_floats(ex):
    """SRBench round_floats (|c| < 1e-4 -> 0, others rounded to 3 decimals) plus fix E (integral -> Integer)."""
    reps = {}
    for a in sp.preorder_traversal(ex):
        if isinstance(a, sp.Float) and a not in reps:
            v = float(a)
            if not math.isfinite(v):
                continue
            if abs(v) < 1e-4:
                reps[a] = sp.Integer(0)
            else:
                r = round(v, 3)
                reps[a] = sp.Integer(int(r)) if r == int(r) else sp.Float(r)
    return ex.xreplace(reps) if reps else ex


def model_size(ex):
    return sum(1 for _ in sp.preorder_traversal(ex))


class SymTimeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds):
    """SIGALRM-based timeout (main thread of a process only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise SymTimeout()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _finite_constant(ex, symtab_point):
    try:
        v = complex(ex.subs(symtab_point).evalf())
        return math.isfinite(v.real) and math.isfinite(v.imag)
    except Exception:
        return False


def symbolic_check(model_expr, truth_expr, r2_test, point, timeout=SYM_TIMEOUT):
    """SRBench rule + fixes A-F. Returns dict with symbolic_solution (fix A), symbolic_solution_srbench
    (original rule, no fix A), symbolic_timeout, simplified model and its size."""
    res = {"symbolic_solution": False, "symbolic_solution_srbench": False, "symbolic_timeout": False,
           "symbolic_checked": False, "model_simplified": None, "model_size_simplified": None}
    if r2_test is None or not (r2_test > SYM_R2_MIN):
        return res
    res["symbolic_checked"] = True
    try:
        with time_limit(timeout):
            m = round_floats(model_expr)
            m = round_floats(sp.simplify(m, ratio=1))
            res["model_simplified"] = str(m)
            res["model_size_simplified"] = model_size(m)
            if m == 0 or m.has(sp.nan) or m.has(sp.zoo):
                return res
            t = round_floats(truth_expr)
            diff = round_floats(t - m)
            if not (diff == 0 or diff.is_constant()):
                diff = round_floats(sp.simplify(diff, ratio=1))
            frac = round_floats(m / t)
            if not frac.is_constant():
                frac = round_floats(sp.simplify(frac, ratio=1))
            diff_ok = bool(diff == 0) or bool(diff.is_constant() and _finite_constant(diff, point))
            frac_const = bool(frac.is_constant())
            frac_ok = frac_const and frac != 0 and _finite_constant(frac, point)  # fix A
            res["symbolic_solution"] = bool(diff_ok or frac_ok)
            res["symbolic_solution_srbench"] = bool(diff_ok or frac_const)
            res["sym_diff"] = str(diff)[:300]
            res["sym_frac"] = str(frac)[:300]
    except SymTimeout:
        res["symbolic_timeout"] = True
        res["symbolic_solution"] = res["symbolic_solution_srbench"] = False
    except Exception as e:  # a check that crashes counts as not solved, but is reported
        res["symbolic_error"] = f"{type(e).__name__}: {e}"[:300]
    return res


def lambdify_expr(expr, names, symtab):
    syms = [symtab[n] for n in names]
    f = sp.lambdify(syms, expr, modules="numpy")

    def predict(X):
        X = np.asarray(X, dtype=float)
        with np.errstate(all="ignore"):
            out = f(*[X[:, j] for j in range(X.shape[1])])
        out = np.asarray(out, dtype=float)
        if out.ndim == 0:
            out = np.full(X.shape[0], float(out))
        return out
    return predict


def r2(y, yhat):
    from sklearn.metrics import r2_score
    yhat = np.asarray(yhat, dtype=float)
    if yhat.shape != np.asarray(y).shape or not np.all(np.isfinite(yhat)):
        return None
    return float(r2_score(y, yhat))


def numeric_check(predict, problem, truth_expr, symtab, seed, r2_test):
    """Fix C: extrapolation check on fresh points from ranges stretched x1.5 (upward), best affine map."""
    if predict is None or r2_test is None or not (r2_test > NUM_R2_MIN):
        return None
    rng = np.random.default_rng(seed + 10007)
    lows = np.array(problem.lows)
    highs = lows + NUM_STRETCH * (np.array(problem.highs) - lows)
    X = rng.uniform(lows, highs, size=(NUM_POINTS, len(lows)))
    y = lambdify_expr(truth_expr, problem.names, symtab)(X)
    ok = np.isfinite(y)
    X, y = X[ok], y[ok]
    try:
        with np.errstate(all="ignore"):
            p = np.asarray(predict(X), dtype=float)
    except Exception:
        return False
    if p.shape != y.shape or not np.all(np.isfinite(p)):
        return False
    A = np.column_stack([p, np.ones_like(p)])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    err = np.max(np.abs(A @ coef - y)) / max(np.max(np.abs(y)), 1e-300)
    return bool(err < NUM_TOL)


# ----------------------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------------------
def add_noise(y_train, noise, rng):
    if noise > 0:
        y_train = y_train + rng.normal(0.0, noise * math.sqrt(float(np.mean(y_train ** 2))), size=y_train.shape)
    return y_train


def make_data(problem, n, seed, noise):
    from sklearn.model_selection import train_test_split
    rng = np.random.default_rng(seed)
    symtab = problem.symbols()
    if problem.kind == "feynman":
        X = rng.uniform(np.array(problem.lows), np.array(problem.highs), size=(n, len(problem.names)))
        y = lambdify_expr(parse_truth(problem.formula, symtab), problem.names, symtab)(X)
    else:  # strogatz: the real data file (label,x,y); n is ignored
        d = pd.read_csv(problem.data_file)
        X = d[problem.names].to_numpy(float)
        y = d["label"].to_numpy(float)
    ok = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
    X, y = X[ok], y[ok]
    Xtr, Xte, ytr, yte = train_test_split(X, y, train_size=0.75, test_size=0.25, random_state=seed)
    if len(ytr) > MAX_TRAIN:
        idx = np.sort(rng.choice(len(ytr), MAX_TRAIN, replace=False))
        Xtr, ytr = Xtr[idx], ytr[idx]
    ytr = add_noise(ytr, noise, rng)
    return Xtr, ytr, Xte, yte, int((~ok).sum())


def write_csv(path, X, y, names, target="target"):
    df = pd.DataFrame(X, columns=names)
    if y is not None:
        if y.ndim == 1:
            df[target] = y
        else:
            for j, c in enumerate(target):
                df[c] = y[:, j]
    df.to_csv(path, index=False, float_format="%.17g")


def data_dir(root, problem_id, seed, noise, n):
    safe = problem_id.replace("/", "_")
    return Path(root) / safe / f"seed{seed}_noise{noise:g}_n{n}"


def prepare_data(problem, n, seed, noise, root):
    d = data_dir(root, problem.id, seed, noise, n)
    spec = {"problem": problem.id, "kind": problem.kind, "n": n, "seed": seed, "noise": noise,
            "formula": problem.formula, "names": problem.names}
    meta = d / "data.json"
    if meta.exists() and (d / "train.csv").exists() and (d / "test.csv").exists():
        old = json.loads(meta.read_text())
        if all(old.get(k) == v for k, v in spec.items()):
            return d
    d.mkdir(parents=True, exist_ok=True)
    Xtr, ytr, Xte, yte, dropped = make_data(problem, n, seed, noise)
    write_csv(d / "train.csv", Xtr, ytr, problem.names)
    write_csv(d / "test.csv", Xte, yte, problem.names)
    spec.update({"n_train": len(ytr), "n_test": len(yte), "dropped_nonfinite": dropped})
    meta.write_text(json.dumps(spec, indent=1))
    return d


def read_split(d, names, target="target"):
    tr = pd.read_csv(Path(d) / "train.csv")
    te = pd.read_csv(Path(d) / "test.csv")
    if list(tr.columns[:len(names)]) != list(names):
        raise RuntimeError(f"{d}/train.csv columns {list(tr.columns)} do not start with {names}")
    return (carr(tr[names]), carr(tr[target]), carr(te[names]), carr(te[target]))


def carr(df):
    """Writeable, C-contiguous float64 copy (pandas 3 copy-on-write hands out read-only arrays, which pyoperon's
    nanobind bindings reject)."""
    return np.array(df.to_numpy(float), dtype=np.float64, order="C", copy=True)


# ----------------------------------------------------------------------------------------------------------
# methods: each returns dict(predict=callable, model=str|None, expr=sympy|None, extra={...})
# ----------------------------------------------------------------------------------------------------------
def fit_operon(X, y, names, symtab, budget, seed, opts):
    from pyoperon.sklearn import SymbolicRegressor
    est = SymbolicRegressor(
        allowed_symbols="add,sub,mul,div,exp,log,sin,cos,sqrt,square,constant,variable",
        population_size=1000, pool_size=1000, max_length=50, max_depth=10, tournament_size=5,
        optimizer="lm", optimizer_iterations=10,  # default 0 disables constant fitting
        objectives=["r2"], max_evaluations=int(1e6), max_time=max(1, int(round(budget))), n_threads=1,
        random_state=seed)
    t0 = time.perf_counter()
    est.fit(X, y)
    fit_s = time.perf_counter() - t0
    s = est.get_model_string(est.model_, 16, names)
    st = dict(est.stats_)
    return {"predict": est.predict, "model": s, "expr": parse_model(s, symtab, OPERON_FUNCS), "fit_seconds": fit_s,
            "extra": {"evaluations": int(st.get("residual_evaluations", 0)) + int(st.get("jacobian_evaluations", 0)),
                      "operon_stats": st}}


def fit_gplearn(X, y, names, symtab, budget, seed, opts):
    from gplearn.genetic import SymbolicRegressor
    gens = opts.get("gplearn_gens", "auto")
    max_gens = 707 if gens == "auto" else int(gens)
    est = SymbolicRegressor(
        population_size=1000, generations=1 if gens == "auto" else max_gens, tournament_size=20,
        init_depth=(2, 6), init_method="half and half", metric="mean absolute error",
        parsimony_coefficient=0.001, p_crossover=0.9, p_subtree_mutation=0.01, p_hoist_mutation=0.01,
        p_point_mutation=0.01, p_point_replace=0.05,
        function_set=("add", "sub", "mul", "div", "log", "sqrt", "sin", "cos"),
        random_state=seed, n_jobs=1, warm_start=(gens == "auto"))
    t0 = time.perf_counter()
    est.fit(X, y)
    g = est.generations
    if gens == "auto":  # grow generation by generation (warm start) while the next one fits in the budget
        while g < max_gens:
            el = time.perf_counter() - t0
            if el + el / g > budget:
                break
            g += 1
            est.set_params(generations=g)
            est.fit(X, y)
            if est._program.raw_fitness_ <= 0.0:
                break
    fit_s = time.perf_counter() - t0
    s = str(est._program)
    local = dict(GPLEARN_FUNCS)
    local.update({f"X{i}": symtab[n] for i, n in enumerate(names)})
    expr = parse_model(s, {n: symtab[n] for n in names}, extra=local)
    return {"predict": est.predict, "model": s, "expr": expr, "fit_seconds": fit_s,
            "extra": {"generations": g, "evaluations": 1000 * g}}


def fit_ffx(X, y, names, symtab, budget, seed, opts):
    import warnings
    import ffx
    warnings.filterwarnings("ignore")
    est = ffx.FFXRegressor()
    t0 = time.perf_counter()
    est.fit(X, y)
    fit_s = time.perf_counter() - t0
    s = est.model_.str2()
    local = {f"X{i}": symtab[n] for i, n in enumerate(names)}
    expr = parse_model(s, {n: symtab[n] for n in names}, extra=local)
    return {"predict": est.predict, "model": s, "expr": expr, "fit_seconds": fit_s, "extra": {}}


def fit_mlp(X, y, names, symtab, budget, seed, opts):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    est = make_pipeline(StandardScaler(), TransformedTargetRegressor(
        regressor=MLPRegressor(hidden_layer_sizes=(100,), max_iter=2000, random_state=seed),
        transformer=StandardScaler()))
    t0 = time.perf_counter()
    est.fit(X, y)
    return {"predict": est.predict, "model": None, "expr": None, "fit_seconds": time.perf_counter() - t0, "extra": {}}


def fit_xgboost(X, y, names, symtab, budget, seed, opts):
    from xgboost import XGBRegressor
    est = XGBRegressor(max_depth=6, n_estimators=500, learning_rate=0.05, subsample=0.75, n_jobs=1,
                       random_state=seed)
    t0 = time.perf_counter()
    est.fit(X, y)
    return {"predict": est.predict, "model": None, "expr": None, "fit_seconds": time.perf_counter() - t0, "extra": {}}


def fit_lightgbm(X, y, names, symtab, budget, seed, opts):
    from lightgbm import LGBMRegressor
    est = LGBMRegressor(max_depth=6, n_estimators=500, learning_rate=0.05, subsample=0.75, subsample_freq=1,
                        n_jobs=1, random_state=seed, verbose=-1)
    t0 = time.perf_counter()
    est.fit(X, y)
    return {"predict": est.predict, "model": None, "expr": None, "fit_seconds": time.perf_counter() - t0, "extra": {}}


ANSATZ_REQUIRED = ["expression", "law", "complexity", "fits", "evaluations", "seconds"]


class AnsatzError(RuntimeError):
    pass


def run_ansatz(binary, train, test, target, time_limit, seed, rundir, guard):
    binary = Path(binary)
    if not binary.exists():
        raise AnsatzError(f"ansatz binary not found: {binary} (build it: cargo build --release, or pass --ansatz)")
    rundir = Path(rundir)
    rundir.mkdir(parents=True, exist_ok=True)
    for stale in ("result.json", "predictions_test.csv"):
        (rundir / stale).unlink(missing_ok=True)
    cmd = [str(binary), "regress", str(train), "--test", str(test), "--target", target,
           "--time-limit", f"{time_limit:g}", "--seed", str(seed), "--threads", "1", "--out", str(rundir), "--quiet"]
    env = dict(os.environ, OMP_NUM_THREADS="1", RAYON_NUM_THREADS="1")
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=guard, env=env)
    except subprocess.TimeoutExpired:
        raise AnsatzError(f"ansatz exceeded the guard of {guard:g} s: {shlex.join(cmd)}")
    wall = time.perf_counter() - t0
    (rundir / "ansatz_stdout.txt").write_text(p.stdout or "")
    (rundir / "ansatz_stderr.txt").write_text(p.stderr or "")
    if p.returncode != 0:
        raise AnsatzError(f"ansatz exited with {p.returncode}: {shlex.join(cmd)}\n{(p.stderr or '')[-2000:]}")
    rj = rundir / "result.json"
    if not rj.exists():
        raise AnsatzError(f"ansatz wrote no {rj} (exit 0): {shlex.join(cmd)}")
    try:
        result = json.loads(rj.read_text())
    except json.JSONDecodeError as e:
        raise AnsatzError(f"{rj} is not valid JSON: {e}")
    if not isinstance(result, dict):
        raise AnsatzError(f"{rj} is not a JSON object")
    return result, wall, cmd


def ansatz_params(pairs):
    """`NAME=VALUE` strings as keywords of ansatz.Regressor (integers, then floats, else text)."""
    out = {}
    for kv in pairs:
        name, sep, value = kv.partition("=")
        if not sep or not name.isidentifier():
            raise SystemExit(f"--ansatz-param wants NAME=VALUE, got {kv!r}")
        for conv in (int, float):
            try:
                out[name] = conv(value)
                break
            except ValueError:
                pass
        else:
            out[name] = value
    return out


def fit_ansatz(X, y, names, symtab, budget, seed, opts):
    """ansatz through its Python package (`ansatz.Regressor`, as SRBench runs it: python/srbench/regressor.py),
    one thread, the time limit the budget."""
    try:
        import ansatz
    except ImportError as e:
        raise AnsatzError(f"the Python package ansatz is not installed in {sys.executable} ({e}); install it "
                          f"from the repository: {sys.executable} -m pip install {REPO / 'python'}")
    est = ansatz.Regressor(time_limit=float(budget), random_state=seed, threads=1, **opts.get("ansatz_params", {}))
    frame = pd.DataFrame(np.asarray(X, dtype=np.float64), columns=list(names))
    t0 = time.perf_counter()
    est.fit(frame, np.asarray(y, dtype=np.float64))
    fit_s = time.perf_counter() - t0
    s = str(est.sympy())
    try:
        expr = parse_model(s, symtab)
    except Exception as e:
        raise AnsatzError(f"the fitted law {s!r} does not parse with the column symbol table: {e}")
    row = est.equations_.iloc[est.best_index_]
    extra = {"law": est.law(), "complexity": int(row["complexity"]), "evaluations": est.n_evaluations_,
             "generations": est.n_generations_, "seconds": est.search_seconds_, "stopped": est.stopped_,
             "front_size": len(est.equations_), "ansatz_version": getattr(ansatz, "__version__", None)}
    return {"predict": lambda A: est.predict(pd.DataFrame(np.asarray(A, dtype=np.float64), columns=list(names))),
            "model": s, "expr": expr, "fit_seconds": fit_s, "extra": extra}


def fit_ansatz_cli(X, y, names, symtab, budget, seed, opts):
    """The command line (`ansatz regress`, --ansatz PATH). Adapter to the contract: result.json with expression, law, complexity, fits, evaluations, seconds."""
    rundir = Path(opts["rundir"])
    d = Path(opts["data"])
    result, wall, cmd = run_ansatz(opts["ansatz"], d / "train.csv", d / "test.csv", "target", budget, seed, rundir,
                                   guard=opts.get("ansatz_guard", 2 * budget + 60))
    missing = [k for k in ANSATZ_REQUIRED if k not in result]
    if missing:
        raise AnsatzError(f"{rundir}/result.json lacks required field(s) {missing}; has {sorted(result)}")
    s = result["expression"]
    if not isinstance(s, str):
        raise AnsatzError(f"result.json 'expression' must be a string for a scalar target, got {type(s).__name__}")
    try:
        expr = parse_model(s, symtab)
    except Exception as e:
        raise AnsatzError(f"result.json 'expression' does not parse with the column symbol table: {e}")
    extra = {k: result[k] for k in ("law", "complexity", "fits", "evaluations", "seconds")}
    extra["ansatz_wall_seconds"] = wall
    extra["ansatz_cmd"] = shlex.join(cmd)
    for k in ("llm_calls", "r2_train", "r2_test", "loss"):
        if k in result:
            extra[f"ansatz_{k}"] = result[k]
    return {"predict": lambdify_expr(expr, names, symtab), "model": s, "expr": expr, "fit_seconds": wall,
            "extra": extra}


FITTERS = {"operon": fit_operon, "gplearn": fit_gplearn, "ffx": fit_ffx, "mlp": fit_mlp, "xgboost": fit_xgboost,
           "lightgbm": fit_lightgbm, "ansatz": fit_ansatz, "ansatz-cli": fit_ansatz_cli}


def loadavg():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def jsonable(o):
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating, float)):
        v = float(o)
        return v if math.isfinite(v) else None
    if isinstance(o, (str, int, bool)) or o is None:
        return o
    return str(o)


# ----------------------------------------------------------------------------------------------------------
# child: one fit
# ----------------------------------------------------------------------------------------------------------
def cmd_fit(a):
    problem = get_problem(a.problem)
    symtab = problem.symbols()
    truth = parse_truth(problem.formula, symtab)
    Xtr, ytr, Xte, yte = read_split(a.data, problem.names)
    rundir = Path(a.data) / f"{a.method}_b{a.budget:g}"
    rundir.mkdir(parents=True, exist_ok=True)
    rec = {"task": "feynman" if problem.kind == "feynman" else problem.kind, "problem": problem.id,
           "method": a.method, "seed": a.seed, "noise": a.noise, "n": a.n, "budget": a.budget,
           "n_train": len(ytr), "n_test": len(yte), "formula": problem.formula, "load_before": loadavg()}
    opts = {"rundir": str(rundir), "data": a.data, "ansatz": a.ansatz, "gplearn_gens": a.gplearn_gens,
            "ansatz_params": ansatz_params(a.ansatz_param)}
    if a.method == "ansatz" and opts["ansatz_params"]:
        rec["ansatz_params"] = opts["ansatz_params"]
    out = Path(a.result)
    try:
        fr = FITTERS[a.method](Xtr, ytr, problem.names, symtab, a.budget, a.seed, opts)
    except Exception as e:
        import traceback
        rec.update({"status": "error", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:],
                    "load_after": loadavg()})
        out.write_text(json.dumps(jsonable(rec)))
        return 0
    rec["status"] = "ok"
    rec["fit_seconds"] = fr["fit_seconds"]
    rec["load_after"] = loadavg()
    rec.update(fr["extra"])
    with np.errstate(all="ignore"):
        rec["r2_train"] = r2(ytr, fr["predict"](Xtr))
        rec["r2_test"] = r2(yte, fr["predict"](Xte))
    rec["nonfinite_test_prediction"] = rec["r2_test"] is None
    rec["accuracy_solution"] = bool(rec["r2_test"] is not None and rec["r2_test"] > ACC_THRESHOLD)
    rec["model"] = fr["model"]
    if fr["expr"] is not None:
        rounded = round_floats(fr["expr"])
        rec["model_sympy"] = str(rounded)[:20000]
        rec["model_size"] = model_size(rounded)
        out.write_text(json.dumps(jsonable(rec)))  # partial result in case the symbolic check hangs the process
        point = {symtab[nm]: sp.Float((lo + hi) / 2) for nm, lo, hi in zip(problem.names, problem.lows, problem.highs)}
        rec.update(symbolic_check(fr["expr"], truth, rec["r2_test"], point, timeout=a.sym_timeout))
        rec["numeric_solution"] = numeric_check(fr["predict"], problem, truth, symtab, a.seed, rec["r2_test"])
    else:
        rec.update({"model_size": None, "symbolic_solution": None, "numeric_solution": None})
    out.write_text(json.dumps(jsonable(rec)))
    return 0


# ----------------------------------------------------------------------------------------------------------
# runner (parent): resume, --jobs
# ----------------------------------------------------------------------------------------------------------
def read_jsonl(paths):
    rows = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            continue
        for line in p.read_text().splitlines():
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    print(f"warning: skipping a malformed line in {p}", file=sys.stderr)
    return rows


def run_key(r):
    return (r.get("task"), r.get("problem"), r.get("method"), int(r.get("seed")), float(r.get("noise")))


DONE_STATUSES = ("ok", "timeout")


def machine_info():
    info = {"nproc": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
            "hostname": platform.node()}
    try:
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    except Exception:
        pass
    return info


def spawn_child(args_list, result_file, guard, log_prefix):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONWARNINGS="ignore")
    cmd = [sys.executable, str(Path(__file__).resolve())] + args_list + ["--result", str(result_file)]
    Path(result_file).unlink(missing_ok=True)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=guard, env=env)
        status = None if p.returncode == 0 else f"child exited with {p.returncode}: {(p.stderr or '')[-1500:]}"
    except subprocess.TimeoutExpired:
        status = "timeout"
    wall = time.perf_counter() - t0
    rec = None
    if Path(result_file).exists():
        try:
            rec = json.loads(Path(result_file).read_text())
        except json.JSONDecodeError:
            rec = None
    return rec, status, wall


def cmd_run(a):
    problems = resolve_problems(a.problems)
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    for m in methods:
        if m not in FITTERS:
            raise SystemExit(f"unknown method {m!r}; choose from {ALL_METHODS}")
    seeds = [int(s) for s in str(a.seeds).split(",")]
    noises = [float(s) for s in str(a.noise).split(",")]
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = (Path(a.workdir) if a.workdir else out.parent / "work").resolve()
    existing = {}
    for r in read_jsonl([out]):
        if r.get("kind") == "run_meta":
            continue
        if r.get("status") in DONE_STATUSES:
            existing[run_key(r)] = r
    meta = {"kind": "run_meta", "subcommand": "run", "cmd": shlex.join([sys.executable] + sys.argv),
            "cwd": os.getcwd(), "start": time.strftime("%Y-%m-%d %H:%M:%S"), "load_start": loadavg(),
            **machine_info(), "jobs": a.jobs, "budget": a.budget, "n": a.n}
    tasks = []
    for p in problems:
        task = "feynman" if p.kind == "feynman" else p.kind
        for seed in seeds:
            for noise in noises:
                d = None
                for m in methods:
                    k = (task, p.id, m, seed, noise)
                    if k in existing:
                        old = existing[k]
                        if old.get("budget") != a.budget or old.get("n") != a.n:
                            print(f"note: skipping {k}: already in {out} with budget={old.get('budget')} "
                                  f"n={old.get('n')}", file=sys.stderr)
                        continue
                    if d is None:
                        d = prepare_data(p, a.n, seed, noise, work)
                    tasks.append((p, m, seed, noise, d))
    print(f"{len(tasks)} fits to run ({len(existing)} already done) -> {out}; jobs={a.jobs}", file=sys.stderr)
    lock = threading.Lock()
    n_err = [0]
    with lock:
        with out.open("a") as f:
            f.write(json.dumps(jsonable(meta)) + "\n")

    def one(t):
        p, m, seed, noise, d = t
        rf = d / f"{m}_b{a.budget:g}.result.json"
        args = ["fit", "--problem", p.id, "--method", m, "--seed", str(seed), "--noise", repr(noise), "--n", str(a.n),
                "--budget", repr(a.budget), "--data", str(d), "--ansatz", str(a.ansatz),
                "--gplearn-gens", str(a.gplearn_gens), "--sym-timeout", repr(a.sym_timeout)]
        args += [f"--ansatz-param={kv}" for kv in a.ansatz_param]
        guard = a.guard if a.guard else 4 * a.budget + 300
        rec, status, wall = spawn_child(args, rf, guard, f"{p.id}/{m}")
        if rec is None:
            rec = {"task": "feynman" if p.kind == "feynman" else p.kind, "problem": p.id, "method": m, "seed": seed,
                   "noise": noise, "n": a.n, "budget": a.budget}
        if status == "timeout":
            if rec.get("status") == "ok":   # fit finished; the symbolic check hung past the guard
                rec["symbolic_timeout"] = True
                rec["symbolic_solution"] = False
            else:
                rec["status"] = "timeout"
                rec["error"] = f"child exceeded guard {guard:g} s"
        elif status is not None:
            rec["status"] = "error"
            rec["error"] = status
        rec["child_wall_seconds"] = wall
        line = json.dumps(jsonable(rec))
        with lock:
            with out.open("a") as f:
                f.write(line + "\n")
        if rec.get("status") != "ok":
            n_err[0] += 1
            print(f"ERROR {p.id:12s} {m:9s} seed={seed} noise={noise:g}: {rec.get('error', '')[:2000]}",
                  file=sys.stderr, flush=True)
        else:
            r2t = rec.get("r2_test")
            print(f"{p.id:12s} {m:9s} seed={seed} noise={noise:g} R2={r2t if r2t is None else round(r2t, 6)} "
                  f"sym={rec.get('symbolic_solution')} num={rec.get('numeric_solution')} "
                  f"size={rec.get('model_size')} fit={rec.get('fit_seconds', 0):.1f}s", file=sys.stderr, flush=True)

    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        list(ex.map(one, tasks))
    end = {"kind": "run_meta", "subcommand": "run-end", "cmd": meta["cmd"], "end": time.strftime("%Y-%m-%d %H:%M:%S"),
           "load_end": loadavg(), "errors": n_err[0], "fits": len(tasks)}
    with out.open("a") as f:
        f.write(json.dumps(jsonable(end)) + "\n")
    if n_err[0]:
        print(f"{n_err[0]} fit(s) FAILED (status error/timeout lines in {out}; they are retried on the next run)",
              file=sys.stderr)
        return 1
    return 0


def cmd_gen(a):
    p = get_problem(a.problem)
    d = prepare_data(p, a.n, a.seed, a.noise, Path(a.workdir).resolve())
    print(d)
    return 0


# ----------------------------------------------------------------------------------------------------------
# 9-output stress task
# ----------------------------------------------------------------------------------------------------------
def neo_tau(F):
    """tau = mu (F F^T - I) + lam ln(det F) I, float64, F shape (n,3,3)."""
    FFt = np.einsum("nik,njk->nij", F, F)
    J = np.linalg.det(F)
    tau = NEO_MU * (FFt - np.eye(3)) + NEO_LAM * np.log(J)[:, None, None] * np.eye(3)
    return tau


def stress_data(n, seed, noise):
    from sklearn.model_selection import train_test_split
    z = np.load(NEO_NPZ)
    F = z["F_tf"].astype(np.float64).reshape(-1, 9)
    _, first = np.unique(F, axis=0, return_index=True)
    F = F[np.sort(first)]                       # drop exact duplicates, keep file order
    rng = np.random.default_rng(seed)
    if n > len(F):
        raise SystemExit(f"--n {n} > {len(F)} distinct F available")
    F = F[np.sort(rng.choice(len(F), n, replace=False))]
    tau = neo_tau(F.reshape(-1, 3, 3)).reshape(-1, 9)
    Ftr, Fte, ttr, tte = train_test_split(F, tau, train_size=0.75, test_size=0.25, random_state=seed)
    if noise > 0:
        ttr = np.column_stack([add_noise(ttr[:, j], noise, rng) for j in range(9)])
    return Ftr, ttr, Fte, tte


def stress_truth(symtab):
    Fm = sp.Matrix(3, 3, [symtab[c] for c in F_COLS])
    FFt = Fm * Fm.T
    J = Fm.det()
    out = {}
    for i in range(3):
        for j in range(3):
            e = sp.Float(NEO_MU) * (FFt[i, j] - (1 if i == j else 0))
            if i == j:
                e = e + sp.Float(NEO_LAM) * sp.log(J)
            out[f"tau{i}{j}"] = e
    return out


def stress_symtab():
    return {c: sp.Symbol(c, real=True) for c in F_COLS}   # entries of F can be negative: plain real (fix F)


def ansatz_matrix_expressions(expr):
    """Accept a list of 9, a 3x3 nested list, or a dict tau_ij -> string."""
    if isinstance(expr, dict):
        return {c: expr[c] for c in TAU_COLS if c in expr}
    if isinstance(expr, list):
        flat = [e for row in expr for e in (row if isinstance(row, list) else [row])]
        if len(flat) == 9:
            return dict(zip(TAU_COLS, flat))
    return {}


def cmd_fit_stress(a):
    d = Path(a.data)
    tr, te = pd.read_csv(d / "train.csv"), pd.read_csv(d / "test.csv")
    Xtr, Xte = carr(tr[F_COLS]), carr(te[F_COLS])
    symtab = stress_symtab()
    truth = stress_truth(symtab)
    point = {symtab[c]: sp.Float(1.0 if c[1] == c[2] else 0.05) for c in F_COLS}
    rec = {"task": "stress", "problem": "neohookean9", "method": a.method, "seed": a.seed, "noise": a.noise,
           "n": a.n, "budget": a.budget, "n_train": len(tr), "n_test": len(te), "load_before": loadavg(),
           "outputs": {}}
    out = Path(a.result)
    try:
        if a.method == "ansatz":
            tl = a.ansatz_time_limit if a.ansatz_time_limit else 9 * a.budget
            rundir = d / f"ansatz_b{a.budget:g}"
            result, wall, cmd = run_ansatz(a.ansatz, d / "train.csv", d / "test.csv", "tau", tl, a.seed, rundir,
                                           guard=2 * tl + 60)
            if "law" not in result:
                raise AnsatzError(f"{rundir}/result.json lacks required field 'law'; has {sorted(result)}")
            pf = rundir / "predictions_test.csv"
            if not pf.exists():
                raise AnsatzError(f"ansatz wrote no {pf}")
            pr = pd.read_csv(pf)
            miss = [c for c in TAU_COLS if c not in pr.columns]
            if miss:
                raise AnsatzError(f"{pf} lacks columns {miss}; has {list(pr.columns)}")
            if len(pr) != len(te):
                raise AnsatzError(f"{pf} has {len(pr)} rows, test.csv has {len(te)}")
            rec.update({"fit_seconds": wall, "ansatz_time_limit": tl, "law": result["law"], "ansatz_cmd": shlex.join(cmd)})
            for k in ("complexity", "fits", "evaluations", "seconds", "llm_calls"):
                if k in result:
                    rec[k] = result[k]
            exprs = ansatz_matrix_expressions(result.get("expression"))
            for c in TAU_COLS:
                o = {"r2_test": r2(te[c].to_numpy(float), pr[c].to_numpy(float))}
                if c in exprs:
                    try:
                        e = parse_model(exprs[c], symtab)
                        o["model"] = exprs[c]
                        o["model_size"] = model_size(round_floats(e))
                        o.update(symbolic_check(e, truth[c], o["r2_test"], point, timeout=a.sym_timeout))
                    except Exception as ex:
                        o["parse_error"] = str(ex)[:300]
                rec["outputs"][c] = o
        else:
            total = 0.0
            for c in TAU_COLS:
                fr = FITTERS[a.method](Xtr, carr(tr[c]), F_COLS, symtab, a.budget, a.seed,
                                       {"gplearn_gens": a.gplearn_gens})
                total += fr["fit_seconds"]
                o = {"r2_test": r2(te[c].to_numpy(float), fr["predict"](Xte)), "fit_seconds": fr["fit_seconds"]}
                if fr["expr"] is not None:
                    o["model"] = fr["model"] if len(fr["model"]) < 5000 else fr["model"][:5000] + "..."
                    o["model_size"] = model_size(round_floats(fr["expr"]))
                    o.update(symbolic_check(fr["expr"], truth[c], o["r2_test"], point, timeout=a.sym_timeout))
                if "evaluations" in fr["extra"]:
                    o["evaluations"] = fr["extra"]["evaluations"]
                rec["outputs"][c] = o
                out.write_text(json.dumps(jsonable(rec)))
            rec["fit_seconds"] = total
    except Exception as e:
        import traceback
        rec.update({"status": "error", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]})
        rec["load_after"] = loadavg()
        out.write_text(json.dumps(jsonable(rec)))
        return 0
    r2s = [rec["outputs"][c]["r2_test"] for c in TAU_COLS]
    r2f = [v if v is not None else float("-inf") for v in r2s]
    rec["status"] = "ok"
    rec["r2_mean"] = float(np.mean(r2f)) if all(v is not None for v in r2s) else None
    rec["r2_min"] = float(np.min(r2f)) if all(v is not None for v in r2s) else None
    if any("symbolic_solution" in rec["outputs"][c] for c in TAU_COLS):
        rec["symbolic_solutions"] = sum(bool(rec["outputs"][c].get("symbolic_solution")) for c in TAU_COLS)
        rec["symbolic_solutions_srbench"] = sum(bool(rec["outputs"][c].get("symbolic_solution_srbench"))
                                                for c in TAU_COLS)
    rec["load_after"] = loadavg()
    out.write_text(json.dumps(jsonable(rec)))
    return 0


def cmd_stress(a):
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    seeds = [int(s) for s in str(a.seeds).split(",")]
    noises = [float(s) for s in str(a.noise).split(",")]
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = (Path(a.workdir) if a.workdir else out.parent / "work").resolve()
    existing = {run_key(r) for r in read_jsonl([out]) if r.get("kind") != "run_meta" and r.get("status") in DONE_STATUSES}
    meta = {"kind": "run_meta", "subcommand": "stress", "cmd": shlex.join([sys.executable] + sys.argv),
            "cwd": os.getcwd(), "start": time.strftime("%Y-%m-%d %H:%M:%S"), "load_start": loadavg(),
            **machine_info(), "jobs": a.jobs, "budget": a.budget, "n": a.n}
    with out.open("a") as f:
        f.write(json.dumps(jsonable(meta)) + "\n")
    tasks = []
    for seed in seeds:
        for noise in noises:
            d = work / "stress" / f"seed{seed}_noise{noise:g}_n{a.n}"
            if not (d / "test.csv").exists():
                d.mkdir(parents=True, exist_ok=True)
                Ftr, ttr, Fte, tte = stress_data(a.n, seed, noise)
                write_csv(d / "train.csv", Ftr, ttr, F_COLS, target=TAU_COLS)
                write_csv(d / "test.csv", Fte, tte, F_COLS, target=TAU_COLS)
            for m in methods:
                if ("stress", "neohookean9", m, seed, noise) not in existing:
                    tasks.append((m, seed, noise, d))
    lock = threading.Lock()
    n_err = [0]

    def one(t):
        m, seed, noise, d = t
        rf = d / f"{m}_b{a.budget:g}.result.json"
        args = ["fit-stress", "--method", m, "--seed", str(seed), "--noise", repr(noise), "--n", str(a.n),
                "--budget", repr(a.budget), "--data", str(d), "--ansatz", str(a.ansatz),
                "--gplearn-gens", str(a.gplearn_gens), "--sym-timeout", repr(a.sym_timeout)]
        args += [f"--ansatz-param={kv}" for kv in a.ansatz_param]
        if a.ansatz_time_limit:
            args += ["--ansatz-time-limit", repr(a.ansatz_time_limit)]
        guard = a.guard if a.guard else 9 * (4 * a.budget + 120) + 300
        rec, status, wall = spawn_child(args, rf, guard, m)
        if rec is None:
            rec = {"task": "stress", "problem": "neohookean9", "method": m, "seed": seed, "noise": noise, "n": a.n,
                   "budget": a.budget}
        if status == "timeout":
            rec["status"], rec["error"] = "timeout", f"child exceeded guard {guard:g} s"
        elif status is not None:
            rec["status"], rec["error"] = "error", status
        elif rec.get("status") not in ("ok", "error"):
            rec["status"], rec["error"] = "error", "child finished without a final record"
        rec["child_wall_seconds"] = wall
        with lock:
            with out.open("a") as f:
                f.write(json.dumps(jsonable(rec)) + "\n")
        if rec.get("status") != "ok":
            n_err[0] += 1
            print(f"ERROR stress {m} seed={seed}: {rec.get('error', '')[:2000]}", file=sys.stderr, flush=True)
        else:
            print(f"stress {m:9s} seed={seed} noise={noise:g} meanR2={rec.get('r2_mean')} minR2={rec.get('r2_min')} "
                  f"sym={rec.get('symbolic_solutions')} fit={rec.get('fit_seconds', 0):.1f}s", file=sys.stderr,
                  flush=True)

    print(f"{len(tasks)} stress jobs -> {out}", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        list(ex.map(one, tasks))
    with out.open("a") as f:
        f.write(json.dumps(jsonable({"kind": "run_meta", "subcommand": "stress-end", "cmd": meta["cmd"],
                                     "end": time.strftime("%Y-%m-%d %H:%M:%S"), "load_end": loadavg(),
                                     "errors": n_err[0]})) + "\n")
    return 1 if n_err[0] else 0


# ----------------------------------------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------------------------------------
def fmt(v, nd=4):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.{nd}f}"


def median(vals):
    vals = [v for v in vals if v is not None]
    return float(np.median(vals)) if vals else None


def cmd_table(a):
    rows = read_jsonl(a.inputs)
    metas = [r for r in rows if r.get("kind") == "run_meta"]
    runs = {}
    for r in rows:
        if r.get("kind") == "run_meta":
            continue
        runs[run_key(r)] = r           # last line per (task, problem, method, seed, noise) wins
    runs = list(runs.values())
    L = []
    L.append("# SRBench-style comparison: ansatz vs baselines\n")
    L.append(f"Table command: `{shlex.join([sys.executable] + sys.argv)}`  ")
    L.append(f"Written {time.strftime('%Y-%m-%d %H:%M:%S')}; machine: nproc={machine_info()['nproc']}, "
             f"{platform.platform()}, load average now {loadavg()}\n")
    if metas:
        L.append("## Runs that produced these lines\n")
        L.append("| start / end | command | nproc | load avg at start (1/5/15 min) | load avg at end |")
        L.append("|---|---|---|---|---|")
        ends = {}
        for m in metas:
            if m.get("subcommand", "").endswith("-end"):
                ends.setdefault(m["cmd"], []).append(m)
        for m in metas:
            if m.get("subcommand", "").endswith("-end"):
                continue
            e = ends.get(m["cmd"], [])
            e = e.pop(0) if e else {}
            la = lambda v: "/".join(f"{x:.2f}" for x in v) if v else "—"
            L.append(f"| {m.get('start')} / {e.get('end', '(unfinished)')} | `{m['cmd']}` | {m.get('nproc')} | "
                     f"{la(m.get('load_start'))} | {la(e.get('load_end'))} |")
        L.append("")
    L.append(f"- {PYSR_NOTE}")
    L.append(f"- {FEYN_NOTE}")
    L.append("- Feynman data are regenerated from the AI-Feynman ranges (not PMLB's files); Strogatz data are the "
             "originals. Timings come from a shared 2-core machine: compare methods within one run only.\n")

    gt = [r for r in runs if r.get("task") in ("feynman", "strogatz")]
    if gt:
        L += groundtruth_tables(gt)
    st = [r for r in runs if r.get("task") == "stress"]
    if st:
        L += stress_tables(st)
    txt = "\n".join(L) + "\n"
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(txt)
        print(f"wrote {a.out}", file=sys.stderr)
    else:
        print(txt)
    return 0


def method_order(ms):
    return [m for m in ALL_METHODS if m in ms] + sorted(m for m in ms if m not in ALL_METHODS)


def groundtruth_tables(runs):
    L = []
    budgets = sorted({r.get("budget") for r in runs if r.get("budget") is not None})
    ns = sorted({r.get("n") for r in runs if r.get("n") is not None})
    L.append("## Ground-truth problems (Feynman / Strogatz)\n")
    L.append(f"Budgets (s per fit): {budgets}; rows sampled per Feynman problem: {ns}. "
             "Symbolic solution = SRBench rule with fixes A-F (R² test > 0.5, rounded diff or non-zero ratio constant; "
             "SymPy checks time out at 60 s = not solved). Accuracy solution = R² test > 0.999. "
             "Numeric = extrapolation check (×1.5 ranges, affine map, max rel. error < 1e-4; only if R² > 0.99).\n")
    for noise in sorted({float(r["noise"]) for r in runs}):
        rs = [r for r in runs if float(r["noise"]) == noise]
        L.append(f"### Noise σ = {noise:g}: per method\n")
        L.append("| method | runs | failed | symbolic sol. | accuracy sol. (R²>0.999) | numeric sol. | "
                 "median R² test | mean clipped R² | median model size | median fit s | sym. timeouts |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for m in method_order({r["method"] for r in rs}):
            mr = [r for r in rs if r["method"] == m]
            ok = [r for r in mr if r.get("status") == "ok"]
            nfail = len(mr) - len(ok)
            n = len(ok)
            r2s = [r.get("r2_test") for r in ok]
            acc = sum(bool(r.get("accuracy_solution")) for r in ok)
            symbolic = m in SYMBOLIC_METHODS
            sym = sum(bool(r.get("symbolic_solution")) for r in ok)
            num = sum(bool(r.get("numeric_solution")) for r in ok)
            tmo = sum(bool(r.get("symbolic_timeout")) for r in ok)
            pct = lambda k: f"{k}/{n} ({100 * k / n:.1f} %)" if n else "—"
            med_r2 = median([v if v is not None else -math.inf for v in r2s]) if n else None
            clip = float(np.mean([max(v, 0.0) if v is not None else 0.0 for v in r2s])) if n else None
            L.append(f"| {m} | {n} | {nfail} | {pct(sym) if symbolic else 'n/a'} | {pct(acc)} | "
                     f"{pct(num) if symbolic else 'n/a'} | {fmt(med_r2)} | {fmt(clip)} | "
                     f"{fmt(median([r.get('model_size') for r in ok]), 0) if symbolic else 'n/a'} | "
                     f"{fmt(median([r.get('fit_seconds') for r in ok]), 1)} | {tmo if symbolic else 'n/a'} |")
        L.append("")
        L.append(f"### Noise σ = {noise:g}: per problem (median R² test · symbolic k/runs · accuracy k/runs)\n")
        ms = method_order({r["method"] for r in rs})
        L.append("| problem | " + " | ".join(ms) + " |")
        L.append("|---|" + "---|" * len(ms))
        probs = []
        for r in rs:
            if r["problem"] not in probs:
                probs.append(r["problem"])
        for p in probs:
            cells = []
            for m in ms:
                pr = [r for r in rs if r["problem"] == p and r["method"] == m]
                ok = [r for r in pr if r.get("status") == "ok"]
                if not pr:
                    cells.append("")
                    continue
                if not ok:
                    cells.append(f"FAILED ({pr[0].get('status')})")
                    continue
                med = median([r.get("r2_test") if r.get("r2_test") is not None else -math.inf for r in ok])
                c = fmt(med)
                if m in SYMBOLIC_METHODS:
                    c += f" · S{sum(bool(r.get('symbolic_solution')) for r in ok)}/{len(ok)}"
                c += f" · A{sum(bool(r.get('accuracy_solution')) for r in ok)}/{len(ok)}"
                if len(ok) < len(pr):
                    c += f" (+{len(pr) - len(ok)} failed)"
                cells.append(c)
            L.append(f"| {p} | " + " | ".join(cells) + " |")
        L.append("")
    fails = [r for r in runs if r.get("status") != "ok"]
    if fails:
        L.append("### Failed runs (not scored; never counted as R² = 0)\n")
        for r in fails:
            L.append(f"- {r.get('problem')} / {r.get('method')} / seed {r.get('seed')} / σ {r.get('noise')}: "
                     f"{r.get('status')}: {str(r.get('error', ''))[:300]}")
        L.append("")
    return L


def stress_tables(runs):
    L = ["## 9-output stress task (Neo-Hookean τ(F), SGA jelly F samples)\n",
         "Baselines fit each output separately with the per-output budget; ansatz fits one matrix law F -> τ "
         "(time limit 9 × budget unless overridden). Symbolic = fix A rule per output.\n"]
    L.append("| method | seed | σ | " + " | ".join(TAU_COLS) + " | mean R² | min R² | fit s | symbolic (fix A) | "
             "SRBench rule w/o fix A |")
    L.append("|---|---|---|" + "---|" * 9 + "---|---|---|---|---|")
    for r in sorted(runs, key=lambda r: (ALL_METHODS.index(r["method"]) if r["method"] in ALL_METHODS else 99,
                                         r["seed"], r["noise"])):
        if r.get("status") != "ok":
            L.append(f"| {r['method']} | {r['seed']} | {r['noise']:g} | FAILED: {r.get('status')} "
                     f"{str(r.get('error', ''))[:200]} |" + " |" * 13)
            continue
        o = r.get("outputs", {})
        cells = [fmt(o.get(c, {}).get("r2_test")) for c in TAU_COLS]
        sym = r.get("symbolic_solutions")
        syms = r.get("symbolic_solutions_srbench")
        L.append(f"| {r['method']} | {r['seed']} | {r['noise']:g} | " + " | ".join(cells) +
                 f" | {fmt(r.get('r2_mean'))} | {fmt(r.get('r2_min'))} | {fmt(r.get('fit_seconds'), 1)} | "
                 f"{'n/a' if sym is None else f'{sym}/9'} | {'n/a' if syms is None else f'{syms}/9'} |")
    L.append("")
    return L


# ----------------------------------------------------------------------------------------------------------
# check / selftest
# ----------------------------------------------------------------------------------------------------------
def check_model_string(problem, model, r2_test=1.0, method=None):
    symtab = problem.symbols()
    extra = OPERON_FUNCS if method == "operon" else (GPLEARN_FUNCS if method == "gplearn" else None)
    expr = parse_model(model, symtab, extra)
    truth = parse_truth(problem.formula, symtab)
    point = {symtab[n]: sp.Float((lo + hi) / 2) for n, lo, hi in zip(problem.names, problem.lows, problem.highs)}
    res = symbolic_check(expr, truth, r2_test, point)
    res["numeric_solution"] = numeric_check(lambdify_expr(expr, problem.names, symtab), problem, truth, symtab, 0,
                                            r2_test)
    res["model_size"] = model_size(round_floats(expr))
    return res


def cmd_check(a):
    p = get_problem(a.problem)
    print(json.dumps(jsonable(check_model_string(p, a.model, a.r2, a.method)), indent=1))
    return 0


def cmd_selftest(a):
    cases = [
        # (problem, model, r2, method, expected symbolic solution)
        ("I.14.4", None, 1.0, None, True),                         # the true formula string itself
        ("I.14.4", "0.5*k_spring*x**2 + 0.001*x", 1.0, None, False),
        ("I.14.4", "0.5*k_spring*x**2", 0.4, None, False),          # R2 < 0.5 -> never a solution
        ("I.14.4", "3.0*k_spring*x**2", 1.0, None, True),           # multiplicative constant (SRBench rule)
        ("I.14.4", "0.5*k_spring*x**2 + 7.3", 1.0, None, True),     # additive constant (SRBench rule)
        ("I.14.4", "0.50000004*k_spring*x**2.0000000001", 1.0, None, True),  # fix E
        ("I.18.12", "1.0000007*F*r*sin(1.0*theta)", 1.0, None, True),        # fix E (notes example)
        ("I.47.23", "sqrt(Abs(gamma*pr/rho))", 1.0, None, True),             # fix F
        ("I.47.23", "sqrt(div(mul(gamma, pr), rho))", 1.0, "gplearn", True),  # gplearn protected ops, fix F
        ("I.6.2a", "0.398942*exp(-0.5*theta^2)", 1.0, None, True),           # '^' and pi evaluated in truth
        ("I.6.2a", "0.398942*exp(-0.5*theta^2) + 0.01*theta", 1.0, None, False),
        ("I.39.11", "pr*V/(gamma - 1)", 1.0, None, True),          # variable named gamma is a plain symbol
        ("I.12.1", "mu*Nn", 1.0, None, True),
        ("I.12.1", "mu + Nn", 1.0, None, False),
    ]
    bad = 0
    for pid, model, r2v, meth, want in cases:
        p = get_problem(pid)
        model = model if model is not None else p.formula
        res = check_model_string(p, model, r2v, meth)
        got = res["symbolic_solution"]
        flag = "ok " if got == want else "BAD"
        bad += got != want
        print(f"{flag} {pid:8s} {model!r:55s} R2={r2v} -> symbolic={got} (want {want}) numeric={res['numeric_solution']}"
              f" size={res['model_size']}")
    # names that must not resolve to SymPy objects
    for s in ["I", "E", "N", "S"]:
        try:
            parse_model(f"{s}*2", {"x": sp.Symbol("x")})
            print(f"BAD  name {s} accepted")
            bad += 1
        except ValueError:
            print(f"ok  unknown name {s!r} rejected")
    # fix A on the stress truth: a wrong model with a huge-coefficient truth must not be "solved"
    symtab = stress_symtab()
    truth = stress_truth(symtab)
    point = {symtab[c]: sp.Float(1.0 if c[1] == c[2] else 0.05) for c in F_COLS}
    wrong = parse_model("0.3*F00 + 0.2*F01", symtab)
    res = symbolic_check(wrong, truth["tau01"], 0.99, point)
    ok = (not res["symbolic_solution"]) and res["symbolic_solution_srbench"]
    bad += not ok
    print(f"{'ok ' if ok else 'BAD'} fix A: wrong tau01 model: fixA={res['symbolic_solution']} "
          f"srbench_rule={res['symbolic_solution_srbench']} (want False / True)")
    res = symbolic_check(truth["tau01"], truth["tau01"], 1.0, point)
    bad += not res["symbolic_solution"]
    print(f"{'ok ' if res['symbolic_solution'] else 'BAD'} stress truth tau01 vs itself: {res['symbolic_solution']}")
    # feynman3 set sizes
    n3, nh = len(feynman3_ids()), len(feynman3_ids()[::2])
    ok = (n3, nh) == (50, 25)
    bad += not ok
    print(f"{'ok ' if ok else 'BAD'} feynman3={n3} feynman3-half={nh} strogatz={len(strogatz_problems())}")
    print("selftest:", "PASS" if bad == 0 else f"{bad} FAILURE(S)")
    return 1 if bad else 0


# ----------------------------------------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common_fit(p):
        p.add_argument("--budget", type=float, default=60.0, help="seconds per fit (per output for stress)")
        p.add_argument("--n", type=int, default=2000, help="rows sampled before the 75/25 split (training capped at 10,000)")
        p.add_argument("--ansatz", default=str(DEFAULT_ANSATZ), help="path to the ansatz binary")
        p.add_argument("--gplearn-gens", default="auto",
                       help="gplearn generations: an integer (SRBench-like: 20) or 'auto' = grow until the budget")
        p.add_argument("--sym-timeout", type=float, default=SYM_TIMEOUT)
        p.add_argument("--ansatz-param", action="append", default=[], metavar="NAME=VALUE",
                       help="a keyword of ansatz.Regressor for the ansatz method (repeatable), e.g. islands=4")

    p = sub.add_parser("run", help="ground-truth runs (Feynman / Strogatz)")
    p.add_argument("--problems", required=True, help="ids and/or feynman3, feynman3-half, strogatz (comma-separated)")
    p.add_argument("--methods", default="ansatz,operon,gplearn,ffx,mlp,xgboost,lightgbm")
    p.add_argument("--seeds", default="0")
    p.add_argument("--noise", default="0", help="comma-separated target-noise levels, e.g. 0,0.01")
    p.add_argument("--jobs", type=int, default=1, help="fits run concurrently (each single-threaded)")
    p.add_argument("--out", default=str(HERE / "out" / "results.jsonl"))
    p.add_argument("--workdir", default=None, help="data + run folders (default: <out dir>/work)")
    p.add_argument("--guard", type=float, default=None, help="kill a fit child after this many s (default 4*budget+300)")
    common_fit(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("stress", help="9-output Neo-Hookean stress task")
    p.add_argument("--methods", default="ansatz,operon,gplearn,ffx,mlp,xgboost,lightgbm")
    p.add_argument("--seeds", default="0")
    p.add_argument("--noise", default="0")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", default=str(HERE / "out" / "stress.jsonl"))
    p.add_argument("--workdir", default=None)
    p.add_argument("--guard", type=float, default=None)
    p.add_argument("--ansatz-time-limit", type=float, default=None, help="default 9 x budget")
    common_fit(p)
    p.set_defaults(func=cmd_stress)

    p = sub.add_parser("table", help="Markdown tables from .jsonl result files")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--out", default=None)
    p.set_defaults(func=cmd_table)

    p = sub.add_parser("gen", help="write train.csv/test.csv for one problem")
    p.add_argument("--problem", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise", type=float, default=0.0)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--workdir", default=str(HERE / "out" / "work"))
    p.set_defaults(func=cmd_gen)

    p = sub.add_parser("check", help="symbolic check of a model string")
    p.add_argument("--problem", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--r2", type=float, default=1.0, help="R² test to assume (the check needs R² > 0.5)")
    p.add_argument("--method", default=None, help="operator map: operon or gplearn")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("selftest", help="known-answer tests of the symbolic check")
    p.set_defaults(func=cmd_selftest)

    for name, fn in (("fit", cmd_fit), ("fit-stress", cmd_fit_stress)):
        p = sub.add_parser(name, help="(internal) one fit in a child process")
        if name == "fit":
            p.add_argument("--problem", required=True)
        p.add_argument("--method", required=True)
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--noise", type=float, required=True)
        p.add_argument("--data", required=True)
        p.add_argument("--result", required=True)
        p.add_argument("--ansatz-time-limit", type=float, default=None)
        common_fit(p)
        p.set_defaults(func=fn)

    a = ap.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
