"""Experiments: what a web service computes when a job or a scoring call runs.

An experiment is a Python callable ``experiment(run: ExperimentRun) -> dict[str, Table | bytes]``
returning one value per output port: a ``Table`` for a dataset output, ``bytes`` for a
trained-model (``.ilearner``) output. Built-ins: ``train`` and ``score`` (scikit-learn).
A user plugs in their own as ``"experiment": {"callable": "package.module:function"}``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union

from .tables import Table

Output = Union[Table, bytes]


class ExperimentError(Exception):
    """The experiment failed: a BES job ends Failed with this message in ``Details``,
    an RRS call answers ModuleExecutionError."""


class InputMismatch(ExperimentError):
    """The input does not have the columns the experiment needs (RRS: InputMismatchError)."""


@dataclass
class ExperimentRun:
    inputs: Mapping[str, Table]
    global_parameters: Mapping[str, str] = field(default_factory=dict)
    models: Mapping[str, bytes] = field(default_factory=dict)   # trained-model resources by name
    settings: Mapping[str, Any] = field(default_factory=dict)   # the service's "settings" in the config
    outputs: Mapping[str, str] = field(default_factory=dict)    # output port -> "dataset" | "ilearner"


Experiment = Callable[[ExperimentRun], Mapping[str, Output]]
ModelCheck = Callable[[bytes], None]


def load_callable(reference: str) -> Callable:
    """Import ``package.module:function``; raises ValueError naming what is wrong."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"'{reference}' is not of the form package.module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import module '{module_name}': {exc}") from None
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ValueError(f"module '{module_name}' has no attribute '{attr}'")
    if not callable(target):
        raise ValueError(f"'{reference}' is not callable")
    return target


def resolve(spec: Mapping[str, str]) -> tuple[Experiment, ModelCheck]:
    """The experiment and the trained-model check named by a config ``experiment`` object."""
    from . import ilearner

    def builtin_check(data: bytes) -> None:
        ilearner.loads(data)

    if "builtin" in spec:
        return _builtin(spec["builtin"]), builtin_check
    experiment = load_callable(spec["callable"])
    check = load_callable(spec["modelCheck"]) if spec.get("modelCheck") else (lambda data: None)
    return experiment, check


BUILTIN_NAMES = ("train", "score")


def _builtin(name: str) -> Experiment:
    """A built-in experiment, imported (with numpy) by its first job or scoring call, not by the config."""
    if name not in BUILTIN_NAMES:
        raise KeyError(name)

    def experiment(run: ExperimentRun) -> Mapping[str, Output]:
        from . import builtin
        return builtin.BUILTINS[name](run)

    experiment.__name__ = experiment.__qualname__ = name
    return experiment


def warm_up(document: Mapping[str, Any]) -> None:
    """Import the built-in experiments (numpy) now, when a config has web services: the stack calls this while
    Azurite starts, on its own thread, so that no job or scoring call pays for it. Not on a thread of its own: an
    import there can meet another thread's import under pytest's assertion rewriting (which rewrites adfemu, a
    pytest plugin), and CPython 3.11 can fail two ``ast.parse`` at once with "SystemError: AST constructor
    recursion depth mismatch" (pytest-dev/pytest#10763)."""
    if any(ws.get("webServices") for ws in document.get("workspaces", [])):
        importlib.import_module(f"{__name__}.builtin")
