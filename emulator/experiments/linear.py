"""Linear models in numpy: the least-squares fit of Studio's linear regression and the predictions of a trained
linear model (regression, binary or multi-class logistic).

Hand-written on purpose, because importing scikit-learn costs every emulator process one to two seconds before
its first job or scoring call (measured in benchmarks/RESULTS.md), while the arithmetic is small and the same as
scikit-learn's: ``LinearRegression`` centres X and y and solves the least-squares problem with LAPACK's ``gelsd``
(``numpy.linalg.lstsq`` is the same routine; tests/test_ilearner.py checks the predictions are equal to
scikit-learn's), and a fitted ``LogisticRegression`` predicts with ``X @ coef.T + intercept`` through the logistic
function (binary) or the softmax (multinomial). Fitting a classifier still uses scikit-learn (its L-BFGS solver),
imported only when one is trained.
"""
from __future__ import annotations

import numpy as np

SINGULAR_CUTOFF = 1e-6  # relative to the largest singular value, as LinearRegression(tol=1e-6)


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """(coefficients, intercept) of ordinary least squares with an intercept, as scikit-learn fits them."""
    x_mean, y_mean = x.mean(axis=0), y.mean()
    # scikit-learn passes its ``tol`` (1e-6) as the cutoff: smaller singular values count as zero.
    coef = np.linalg.lstsq(x - x_mean, y - y_mean, rcond=SINGULAR_CUTOFF)[0]
    return coef, float(y_mean - x_mean @ coef)


class Predictor:
    """``predict`` and ``predict_proba`` of a frozen linear model (the interface scoring uses)."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: list[str] | None = None):
        self.coef, self.intercept = coef, intercept
        self.classes = np.asarray(classes, dtype=object) if classes else None

    def decision(self, x: np.ndarray) -> np.ndarray:
        scores = x @ self.coef.T + self.intercept
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, x: np.ndarray) -> np.ndarray:
        scores = self.decision(x)
        if self.classes is None:
            return scores
        if scores.ndim == 1:  # binary: the second class where the decision is positive
            return self.classes[(scores > 0).astype(int)]
        return self.classes[np.argmax(scores, axis=1)]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        scores = self.decision(x)
        if scores.ndim == 1:
            positive = _expit(scores)
            return np.column_stack([1.0 - positive, positive])
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)


def _expit(values: np.ndarray) -> np.ndarray:
    """The logistic function without overflow warnings for large negative inputs."""
    out = np.empty_like(values)
    positive = values >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-values[positive]))
    exp = np.exp(values[~positive])
    out[~positive] = exp / (1.0 + exp)
    return out
