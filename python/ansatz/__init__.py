"""ansatz: symbolic regression as a scikit-learn estimator.

``ansatz.Regressor`` runs the tabular search of ``ansatz regress`` (genetic programming on
laws of the law language, every candidate's constants fitted by least squares) on arrays or
DataFrames, and keeps the found law as its text and constants::

    from ansatz import Regressor
    est = Regressor(time_limit=10).fit(X, y)
    est.sympy()        # the chosen law as a SymPy expression
    est.equations_     # the Pareto front: complexity, loss, equation, ...
"""

from ._core import OPERATORS, SCALINGS
from .regressor import Regressor

__all__ = ["OPERATORS", "SCALINGS", "Regressor"]
