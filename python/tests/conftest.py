"""Shared data for the tests of the Python package."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def quadratic_sine():
    """300 rows of ``y = 2.5*x0**2 + sin(x1)``, x0 in [-2, 2], x1 in [-3, 3] (seed 0)."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-2, 2, 300), rng.uniform(-3, 3, 300)])
    y = 2.5 * X[:, 0] ** 2 + np.sin(X[:, 1])
    return X, y


@pytest.fixture(scope="session")
def fitted(quadratic_sine):
    """A Regressor fitted on ``quadratic_sine`` on a fit budget (deterministic)."""
    from ansatz import Regressor

    X, y = quadratic_sine
    return Regressor(time_limit=120, max_fits=20000, random_state=0).fit(X, y)
