"""The ``.ilearner`` file format of adfemu (format 1).

Studio (classic) treated ``.ilearner`` as an opaque binary. adfemu writes a UTF-8 JSON
document, so a model can be read, diffed and checked, and loading one can never run code
(no pickle): loading only reads numbers and strings and rebuilds a linear model from them
(``linear.Predictor``, which predicts as scikit-learn's estimators do). See docs/ilearner-format.md.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .linear import Predictor

FORMAT = "adfemu.ilearner"
VERSION = 1
ALGORITHMS = {"LinearRegression": "regression", "LogisticRegression": "classification"}


class IlearnerError(ValueError):
    """The bytes are not a valid adfemu .ilearner file."""


@dataclass
class TrainedModel:
    algorithm: str
    label: str
    features: list[str]
    coef: list[list[float]]
    intercept: list[float]
    classes: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def task(self) -> str:
        return ALGORITHMS[self.algorithm]

    def estimator(self) -> Predictor:
        """A predictor with exactly these parameters (its predictions match the fitted scikit-learn model's)."""
        import numpy as np  # imported by the first model used, not by every process that reads a config

        from .linear import Predictor
        return Predictor(np.asarray(self.coef, dtype=float), np.asarray(self.intercept, dtype=float),
                         self.classes if self.algorithm == "LogisticRegression" else None)


def dumps(model: TrainedModel) -> bytes:
    doc = {"format": FORMAT, "version": VERSION, "algorithm": model.algorithm, "task": model.task,
           "label": model.label, "features": model.features, "coef": model.coef,
           "intercept": model.intercept, "classes": model.classes, "rows": model.rows}
    return json.dumps(doc, indent=1).encode()


def loads(data: bytes) -> TrainedModel:
    """Parse and check a model; every defect raises IlearnerError with a readable reason."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IlearnerError(f"not an adfemu .ilearner file (not UTF-8 JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise IlearnerError(f"not an adfemu .ilearner file (\"format\" is not \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise IlearnerError(f"unsupported .ilearner version {doc.get('version')!r} (this emulator reads {VERSION})")
    algorithm = doc.get("algorithm")
    if algorithm not in ALGORITHMS:
        raise IlearnerError(f"unknown algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")
    features = _strings(doc, "features")
    classes = _strings(doc, "classes")
    coef = doc.get("coef")
    intercept = _numbers(doc.get("intercept"), "intercept")
    if not isinstance(coef, list) or not coef:
        raise IlearnerError("\"coef\" must be a non-empty list of rows")
    coef = [_numbers(row, "coef") for row in coef]
    if any(len(row) != len(features) for row in coef):
        raise IlearnerError("every \"coef\" row needs one number per feature")
    if len(intercept) != len(coef):
        raise IlearnerError("\"intercept\" needs one number per \"coef\" row")
    if algorithm == "LogisticRegression" and len(classes) < 2:
        raise IlearnerError("a classifier needs at least two \"classes\"")
    if not isinstance(doc.get("label"), str):
        raise IlearnerError("\"label\" must be a string")
    return TrainedModel(algorithm, doc["label"], features, coef, intercept, classes, int(doc.get("rows") or 0))


def _strings(doc: dict, key: str) -> list[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IlearnerError(f"\"{key}\" must be a list of strings")
    return value


def _numbers(value: object, key: str) -> list[float]:
    if not isinstance(value, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise IlearnerError(f"\"{key}\" must hold finite numbers")
    return [float(v) for v in value]
