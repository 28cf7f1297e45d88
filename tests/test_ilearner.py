"""The .ilearner format: round trip, exact predictions, and loading never executes anything."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.linear_model import LinearRegression

from adfemu.emulator.experiments import ExperimentRun, builtin, ilearner
from adfemu.emulator.experiments.tables import Table, read_table, write_table

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.lists(finite, min_size=n + 1, max_size=n + 1),
                                                                          min_size=n + 3, max_size=30))))
def test_trained_model_predicts_exactly_like_sklearn(case):
    n, rows = case
    columns = [f"x{i}" for i in range(n)] + ["y"]
    table = Table(columns, [[repr(v) for v in row] for row in rows])
    out = builtin.train(ExperimentRun({"input1": table}, settings={"maxClasses": 0}, outputs={"m": "ilearner"}))
    model = ilearner.loads(out["m"])
    x = np.array([row[:-1] for row in rows])
    direct = LinearRegression().fit(x, np.array([row[-1] for row in rows]))
    np.testing.assert_array_equal(model.estimator().predict(x), direct.predict(x))


def test_pickle_bytes_are_refused_not_loaded():
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('executed')",))
    with pytest.raises(ilearner.IlearnerError, match="not an adfemu .ilearner"):
        ilearner.loads(pickle.dumps(Boom()))


@pytest.mark.parametrize("change, words", [
    ({"format": "other"}, "format"), ({"version": 2}, "version"), ({"algorithm": "Tree"}, "algorithm"),
    ({"coef": [[1.0]]}, "one number per feature"), ({"intercept": ["x"]}, "finite numbers"),
])
def test_invalid_models_are_explained(change, words):
    base = json.loads(ilearner.dumps(ilearner.TrainedModel("LinearRegression", "y", ["a", "b"], [[1.0, 2.0]], [0.5])))
    with pytest.raises(ilearner.IlearnerError, match=words):
        ilearner.loads(json.dumps({**base, **change}).encode())


@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
                         min_size=3, max_size=3), min_size=1, max_size=10))
def test_csv_and_tsv_round_trip(rows):
    table = Table(["a", "b", "c"], rows)
    for fmt in ("csv", "tsv"):
        back = read_table(write_table(table, fmt), fmt)
        assert back.columns == table.columns
        assert back.rows == table.rows


def test_arff_is_read():
    text = b"@RELATION r\n@ATTRIBUTE a NUMERIC\n@ATTRIBUTE 'b c' STRING\n@DATA\n1,'x'\n2,y\n"
    table = read_table(text, "arff")
    assert table.columns == ["a", "b c"] and table.rows[1] == ["2", "y"]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(0, 10_000))
def test_classifier_predictions_match_sklearn(classes, seed):
    """Scoring predicts with numpy (emulator/experiments/linear.py); labels and probabilities are scikit-learn's."""
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 3))
    y = np.array([str(v) for v in rng.integers(0, classes, size=60)], dtype=object)
    y[:classes] = [str(c) for c in range(classes)]  # every class present
    est = LogisticRegression(max_iter=5000).fit(x, y)
    model = ilearner.TrainedModel("LogisticRegression", "y", ["a", "b", "c"], est.coef_.tolist(),
                                  est.intercept_.tolist(), [str(c) for c in est.classes_])
    ours = ilearner.loads(ilearner.dumps(model)).estimator()
    assert list(ours.predict(x)) == list(est.predict(x))
    np.testing.assert_allclose(ours.predict_proba(x), est.predict_proba(x), rtol=1e-12, atol=1e-15)


def test_scoring_and_regression_training_do_not_import_scikit_learn():
    import subprocess
    import sys
    code = ("import sys, numpy as np\n"
            "from adfemu.emulator.experiments import ExperimentRun, builtin, ilearner\n"
            "from adfemu.emulator.experiments.tables import Table\n"
            "rows = [[str(i), str(2 * i + 1)] for i in range(10)]\n"
            "out = builtin.train(ExperimentRun({'in': Table(['x', 'y'], rows)}, settings={'maxClasses': 0},"
            " outputs={'m': 'ilearner'}))\n"
            "scored = builtin.score_table(ilearner.loads(out['m']), Table(['x'], [['20']]))\n"
            "assert abs(float(scored.rows[0][-1]) - 41) < 1e-9, scored.rows\n"
            "print('sklearn' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
