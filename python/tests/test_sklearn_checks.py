"""scikit-learn's estimator checks on ansatz.Regressor.

Every check that scikit-learn runs on a regressor is run here (``parametrize_with_checks``:
the API checks and the regressor checks, about 50), with no check skipped or marked as an
expected failure (scikit-learn itself skips its array-API check unless SCIPY_ARRAY_API is
set). The estimator is given a fit budget (``max_fits``) so that its results do
not depend on the machine's speed, which the idempotence and pipeline-consistency checks
need, and so that the ~100 fits the checks make take seconds.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from ansatz import Regressor


@parametrize_with_checks([Regressor(time_limit=60, max_fits=300, population=40)])
def test_scikit_learn_estimator_check(estimator, check):
    check(estimator)
