"""ansatz in SRBench's method format (``algorithms/<method>/regressor.py``).

SRBench imports this file and uses ``est`` (a scikit-learn estimator), ``model(est, X)`` (the
fitted model as a SymPy-parsable string over the data set's feature names),
``complexity(est)``, ``hyper_params`` and ``eval_kwargs``. Install the package first
(``pip install ./python`` from the ansatz repository).
"""

import sympy

from ansatz import Regressor

# One thread and SRBench's ground-truth operator set (+ - * / with sqrt, exp, log, sin, cos;
# square and neg are shorthands of * and -). The time limit is the fit budget in seconds.
est = Regressor(time_limit=30.0, random_state=0, threads=1)

# No grid search: SRBench's ground-truth track runs each method at one setting.
hyper_params = [{}]


def _names_of(X):
    columns = getattr(X, "columns", None)
    return None if columns is None else [str(c) for c in columns]


def model(est, X=None):
    """The fitted law as a SymPy-parsable string. Variables are named by ``X``'s columns when
    ``X`` is a DataFrame (SRBench passes the training data), else as the estimator named
    them (the DataFrame's columns it was fitted on, or ``x0, x1, ...``)."""
    expr = est.sympy()
    names = _names_of(X)
    if names is not None and names != list(est.feature_names_):
        if len(names) != len(est.feature_names_):
            raise ValueError(
                f"X has {len(names)} columns, but the model was fitted on {len(est.feature_names_)}"
            )
        # Simultaneous substitution: x0 -> a, x1 -> b even when a data set calls a column x1.
        old = [sympy.Symbol(n, real=True) for n in est.feature_names_]
        new = [sympy.Symbol(n, real=True) for n in names]
        expr = expr.subs(dict(zip(old, new)), simultaneous=True)
    return str(expr)


def complexity(est):
    """Nodes of the chosen law's tree (the front's complexity measure)."""
    return int(est.equations_["complexity"].iloc[est.best_index_])


def _pre_train(est, X, y):
    """SRBench calls this before each fit; nothing to adjust."""


# SRBench's quick test (test_params) runs with a small budget.
eval_kwargs = dict(pre_train=_pre_train, test_params=dict(time_limit=5.0))
