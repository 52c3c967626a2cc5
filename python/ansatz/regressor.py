"""``ansatz.Regressor``: the scikit-learn estimator over the Rust search (``ansatz._core``)."""

import keyword
import numbers

import numpy as np
import pandas as pd
import sympy
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core

# What a fitted estimator keeps (and pickles): names, the front as text, the chosen index.
_FRONT_COLUMNS = ["complexity", "loss", "equation", "law", "latex", "params"]


def _identifier(name):
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


class Regressor(RegressorMixin, BaseEstimator):
    """Symbolic regression: a closed-form law ``y = f(X)`` found by ``ansatz regress``'s search.

    The search is genetic programming on laws over the feature columns with the binary
    operators ``+ - * /`` and the unary operators ``operators``; every candidate's constants
    are fitted by least squares. The result is a Pareto front of laws by complexity and
    training error (``equations_``); the law used by ``predict`` is the smallest one whose
    error is within 10 % of the best (``best_index_``).

    A fitted estimator holds only text and numbers (the laws with their fitted constants), so
    it pickles small and predicts after unpickling without refitting.

    Parameters
    ----------
    time_limit : float, default=60.0
        Wall-time limit of the search, seconds (``ansatz regress --time-limit``). The final
        refit of the front on all rows comes after it.
    random_state : int, default=0
        Seed of the search (``--seed``); the same seed, data and ``max_fits`` give the same
        law when the search ends on ``max_fits`` rather than on the time limit.
    threads : int or None, default=1
        Threads of the worker pool the search runs in (``--threads``; None: one per core).
    max_fits : int or None, default=None
        Most laws fitted (``--max-fits``); None: the time limit alone.
    population : int, default=160
        Population of the genetic programming.
    max_size : int, default=25
        Most nodes of a law.
    operators : tuple of str or None, default=None
        Unary operators the search may use, from ``ansatz.OPERATORS`` (``neg``, ``sqrt``,
        ``square``, ``exp``, ``log``, ``sin``, ``cos``); None: all of them.
    scaling : str, default="terms"
        How a law is scored while searching (``--scaling``), from ``ansatz.SCALINGS``:
        ``terms`` (after the least-squares coefficients of the terms of its top-level sum
        and an offset), ``affine`` (after the best offset and factor: linear scaling) or
        ``none`` (as it is).
    islands : int, default=8
        Sub-populations evolved apart, the best of each passed to the next every ten
        generations (``--islands``); 1: one population. Never more islands than
        ``population`` members.

    Attributes
    ----------
    equations_ : pandas.DataFrame
        The Pareto front, one row per law by increasing complexity: ``complexity`` (tree
        nodes), ``loss`` (normalised mean squared error on the training rows), ``equation``
        (SymPy text over the feature names, constants inlined), ``law`` (the law program with
        its fitted constants as ``param`` lines), ``latex``, ``params``.
    best_index_ : int
        Row of ``equations_`` that ``predict`` uses.
    feature_names_ : list of str
        The names the equations use: ``feature_names_in_`` when every one is a Python
        identifier, else ``x0, x1, ...``.
    law_names_ : list of str
        The feature names as law-language identifiers (what ``law`` uses).
    n_fits_, n_evaluations_, n_generations_, search_seconds_, stopped_ :
        What the search did: laws fitted, passes over the data, generations, wall time of the
        search in seconds, why it stopped.
    """

    def __init__(
        self,
        time_limit=60.0,
        random_state=0,
        threads=1,
        max_fits=None,
        population=160,
        max_size=25,
        operators=None,
        scaling="terms",
        islands=8,
    ):
        self.time_limit = time_limit
        self.random_state = random_state
        self.threads = threads
        self.max_fits = max_fits
        self.population = population
        self.max_size = max_size
        self.operators = operators
        self.scaling = scaling
        self.islands = islands

    # ------------------------------------------------------------------ settings

    def _settings(self):
        def integer(name, value, low, none_ok=False):
            if value is None and none_ok:
                return None
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                what = f"an integer >= {low}" + (" or None" if none_ok else "")
                raise ValueError(f"{name} must be {what}, got {value!r}")
            return int(value)

        time_limit = self.time_limit
        if (
            isinstance(time_limit, bool)
            or not isinstance(time_limit, numbers.Real)
            or not np.isfinite(time_limit)
            or time_limit <= 0
        ):
            raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
        seed = self.random_state
        if seed is None:
            seed = 0
        seed = integer("random_state", seed, 0)
        if seed >= 2**64:
            raise ValueError(f"random_state must be below 2**64, got {seed}")
        threads = integer("threads", self.threads, 1, none_ok=True)
        operators = self.operators
        if operators is None:
            operators = tuple(_core.OPERATORS)
        elif isinstance(operators, str):
            operators = tuple(operators.replace(",", " ").split())
        operators = list(operators)
        for op in operators:
            if op not in _core.OPERATORS:
                raise ValueError(
                    f"unknown operator {op!r}; the operators are {', '.join(_core.OPERATORS)}"
                )
        if self.scaling not in _core.SCALINGS:
            raise ValueError(
                f"unknown scaling {self.scaling!r}; the scalings are {', '.join(_core.SCALINGS)}"
            )
        return dict(
            time_limit=float(time_limit),
            seed=seed,
            max_fits=integer("max_fits", self.max_fits, 1, none_ok=True),
            threads=0 if threads is None else threads,
            population=integer("population", self.population, 2),
            max_size=integer("max_size", self.max_size, 1),
            operators=operators,
            scaling=str(self.scaling),
            islands=integer("islands", self.islands, 1),
        )

    # ------------------------------------------------------------------ fit / predict

    def fit(self, X, y):
        """Searches for a law ``y = f(X)``. ``X``: array or DataFrame (n_samples, n_features)."""
        settings = self._settings()
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        n, d = X.shape
        if n < 2:
            raise ValueError(f"Regressor needs at least 2 samples to fit; got {n} sample")
        given = getattr(self, "feature_names_in_", None)
        names = [f"x{i}" for i in range(d)] if given is None else [str(s) for s in given]
        # SymPy's names: the data set's when every one is a Python identifier, else x0, x1, ...
        symbols = names if all(_identifier(s) for s in names) else [f"x{i}" for i in range(d)]
        columns = [X[:, j].tolist() for j in range(d)]
        found = _core.fit(
            columns, np.asarray(y, dtype=np.float64).tolist(), names, symbols, **settings
        )
        self.feature_names_ = symbols
        self.law_names_ = list(found["law_names"])
        self.equations_ = pd.DataFrame(found["equations"], columns=_FRONT_COLUMNS)
        self.best_index_ = int(found["best"])
        self.n_fits_ = int(found["fits"])
        self.n_evaluations_ = int(found["evaluations"])
        self.n_generations_ = int(found["generations"])
        self.search_seconds_ = float(found["seconds"])
        self.stopped_ = str(found["stopped"])
        return self

    def _row(self, index):
        check_is_fitted(self, "equations_")
        if index is None:
            index = self.best_index_
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise ValueError(f"index must be an integer row of equations_, got {index!r}")
        if not -len(self.equations_) <= index < len(self.equations_):
            raise ValueError(
                f"index {index} is out of range: equations_ has {len(self.equations_)} rows"
            )
        return self.equations_.iloc[int(index)]

    def predict(self, X, index=None):
        """The chosen law's values on the rows of ``X`` (or those of ``equations_`` row ``index``)."""
        row = self._row(index)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        columns = [X[:, j].tolist() for j in range(X.shape[1])]
        return np.asarray(_core.predict(row["law"], self.law_names_, columns), dtype=np.float64)

    # ------------------------------------------------------------------ the law as text

    def sympy(self, index=None):
        """The chosen law (or row ``index`` of ``equations_``) as a SymPy expression over real
        symbols named as ``feature_names_``."""
        row = self._row(index)
        symbols = {n: sympy.Symbol(n, real=True) for n in self.feature_names_}
        return sympy.parse_expr(row["equation"], local_dict=symbols)

    def latex(self, index=None):
        """The chosen law (or row ``index`` of ``equations_``) in LaTeX."""
        return str(self._row(index)["latex"])

    def law(self, index=None):
        """The chosen law (or row ``index``) as a program of the law language."""
        return str(self._row(index)["law"])
