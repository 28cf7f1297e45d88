"""Built-in experiments: ``train`` fits a scikit-learn linear model, ``score`` applies one.

Training concatenates its input tables (same header required), takes the label column from
``settings.labelColumn`` (default: the last column) and every other column as a numeric
feature. A label that is not numeric, or integral with at most ``settings.maxClasses``
(default 10) distinct values, makes a classifier (LogisticRegression); otherwise a
regression (LinearRegression). Scoring appends ``Scored Labels`` and, for classifiers,
``Scored Probabilities`` (binary) or ``Scored Probabilities for Class "{label}"``
(multi-class), as Studio's Score Model does.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Mapping

import numpy as np

from . import ExperimentError, ExperimentRun, InputMismatch, Output, ilearner, linear
from .tables import Table, cell


def train(run: ExperimentRun) -> dict[str, Output]:
    table = _concatenate(run.inputs)
    label = str(run.settings.get("labelColumn") or table.columns[-1])
    if label not in table.columns:
        raise ExperimentError(f"Error 0001: Column with name or index \"{label}\" not found in the training data.")
    features = [c for c in table.columns if c != label]
    if not features:
        raise ExperimentError("Error 0020: The training data needs at least one feature column besides the label.")
    if not table.rows:
        raise ExperimentError("Error 0008: The training data has no rows.")
    x = features_matrix(table, features)
    labels = table.column(label)
    model = fit(x, labels, label, features, int(run.settings.get("maxClasses", 10)))
    outputs: dict[str, Output] = {}
    for name, kind in run.outputs.items():
        outputs[name] = ilearner.dumps(model) if kind == "ilearner" else evaluation(model, x, labels)
    return outputs


def fit(x: np.ndarray, labels: list[str], label: str, features: list[str], max_classes: int) -> ilearner.TrainedModel:
    """The estimator that Studio's Train Model would pick for this label, fitted and frozen. Regression is
    scikit-learn's least squares computed in numpy (``linear.least_squares``: no scikit-learn import on the way
    to the first retrained model); classification is scikit-learn's LogisticRegression."""
    numeric = _as_floats(labels)
    classify = numeric is None or (np.all(numeric == np.round(numeric)) and len(set(labels)) <= max_classes)
    if classify:
        if len(set(labels)) < 2:
            raise ExperimentError("Error 0024: The label column has a single class; a classifier needs two or more.")
        from sklearn.linear_model import LogisticRegression  # slow to import: only when a classifier is trained
        est = LogisticRegression(max_iter=5000).fit(x, np.asarray(labels, dtype=object))
        return ilearner.TrainedModel("LogisticRegression", label, features, est.coef_.tolist(),
                                     est.intercept_.tolist(), [str(c) for c in est.classes_], len(labels))
    coef, intercept = linear.least_squares(x, numeric)
    return ilearner.TrainedModel("LinearRegression", label, features, [coef.tolist()], [intercept], [], len(labels))


def score(run: ExperimentRun) -> dict[str, Output]:
    if not run.models:
        raise ExperimentError("Error 0040: The predictive experiment has no trained model.")
    resource = run.settings.get("resource") or next(iter(run.models))
    if not run.models[resource]:
        raise ExperimentError(f"Error 0040: The trained model '{resource}' has no model yet: update the resource "
                              "(Update Resource) before scoring.")
    try:
        model = ilearner.loads(run.models[resource])
    except ilearner.IlearnerError as exc:
        raise ExperimentError(f"Error 0040: The trained model '{resource}' cannot be loaded: {exc}") from None
    table = next(iter(run.inputs.values()))
    scored = score_table(model, table)
    return {name: scored for name in run.outputs}


def score_table(model: ilearner.TrainedModel, table: Table) -> Table:
    missing = [f for f in model.features if f not in table.columns]
    if missing:
        raise InputMismatch(f"Error 0003: Columns required by the model are missing: {', '.join(missing)}.")
    columns = list(table.columns)
    if not table.rows:  # nothing to score: the header still gains the scoring columns
        return Table(columns + _scored_columns(model), [])
    x = features_matrix(table, model.features)
    est = model.estimator()
    extra: list[list[str]] = [list(map(cell, _labels(est.predict(x))))]
    columns.append("Scored Labels")
    if model.task == "classification":
        proba = est.predict_proba(x)
        if len(model.classes) == 2:
            columns.append("Scored Probabilities")
            extra.append([cell(float(p)) for p in proba[:, 1]])
        else:
            for i, name in enumerate(model.classes):
                columns.append(f'Scored Probabilities for Class "{name}"')
                extra.append([cell(float(p)) for p in proba[:, i]])
    rows = list(map(list.__add__, table.rows, map(list, zip(*extra))))  # each row and its scores (C loops)
    return Table(columns, rows, numeric=frozenset(model.features))  # features_matrix has read them as numbers


def _scored_columns(model: ilearner.TrainedModel) -> list[str]:
    if model.task == "regression":
        return ["Scored Labels"]
    if len(model.classes) == 2:
        return ["Scored Labels", "Scored Probabilities"]
    return ["Scored Labels"] + [f'Scored Probabilities for Class "{name}"' for name in model.classes]


def evaluation(model: ilearner.TrainedModel, x: np.ndarray, labels: list[str]) -> Table:
    """Evaluate Model's metrics on the training data (Studio's column names)."""
    est = model.estimator()
    if model.task == "regression":
        y, pred = np.asarray(labels, dtype=float), est.predict(x)
        err = y - pred
        total = float(np.sum((y - y.mean()) ** 2)) or 1.0
        metrics = {"Mean Absolute Error": float(np.mean(np.abs(err))),
                   "Root Mean Squared Error": float(np.sqrt(np.mean(err ** 2))),
                   "Coefficient of Determination": 1.0 - float(np.sum(err ** 2)) / total}
    else:
        pred = est.predict(x)
        metrics = {"Accuracy": float(np.mean(pred == np.asarray(labels, dtype=object)))}
    return Table(list(metrics), [[cell(v) for v in metrics.values()]])


def features_matrix(table: Table, features: list[str]) -> np.ndarray:
    index = [table.columns.index(f) for f in features]
    try:  # Python's float() on each cell, a column at a time in C loops; row-major as before (the same rounding)
        columns = [list(map(float, map(itemgetter(i), table.rows))) for i in index]
        matrix = np.ascontiguousarray(np.asarray(columns, dtype=float).T).reshape(len(table.rows), len(index))
    except (ValueError, OverflowError) as exc:
        raise InputMismatch(f"Error 0018: The feature columns must be numeric ({exc}).") from None
    if not np.isfinite(matrix).all():
        raise InputMismatch("Error 0018: The feature columns must hold finite numbers (no NaN or infinity).")
    return matrix


def _concatenate(inputs: Mapping[str, Table]) -> Table:
    tables = list(inputs.values())
    if not tables:
        raise ExperimentError("Error 0003: The training experiment received no input data.")
    first = tables[0]
    for name, other in inputs.items():
        if other.columns != first.columns:
            raise ExperimentError(f"Error 0003: Input '{name}' has different columns than the other inputs.")
    return Table(first.columns, [row for t in tables for row in t.rows])


def _as_floats(values: list[str]) -> np.ndarray | None:
    try:
        return np.asarray(values, dtype=float)
    except ValueError:
        return None


def _labels(values: np.ndarray) -> list:
    return values.tolist()  # numpy scalars as Python ones (as .item() gives them), other objects as they are


BUILTINS = {"train": train, "score": score}
