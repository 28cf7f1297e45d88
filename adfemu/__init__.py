"""adfemu: run, test and debug Azure Data Factory pipelines that retrain Azure ML Studio (classic) models,
offline.

The public API (everything else is internal)::

    import adfemu

    factory = adfemu.load("my-factory")                  # validate and load a factory
    with adfemu.start(factory) as env:                   # Azurite + the emulated Azure services
        env.upload("input/train.csv", b"...")            # test data in (container/blob)
        result = env.run(factory, "Retrain", now="2024-06-01T00:00:00Z", seed=1)
        assert result.status == "Succeeded"
        print(result.activity("Train").output, env.score(factory, "ScoringService", rows))

``adfemu.connect(url)`` attaches to a running `adfemu serve`; the pytest plugin gives each test an
``adfemu`` fixture (an ``Environment``). Names are imported lazily, so ``import adfemu`` stays cheap.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "ActivityResult", "AdfemuError", "Environment", "Factory", "FactoryError", "RunInputError", "RunResult",
    "Settings", "StartError", "StorageError", "TriggerResult", "__version__", "connect", "load", "start",
]

_WHERE = {
    "ActivityResult": "._results", "RunResult": "._results", "TriggerResult": "._results",
    "AdfemuError": "._errors", "FactoryError": "._errors", "RunInputError": "._errors", "StartError": "._errors",
    "StorageError": "._errors",
    "Environment": "._environment", "Settings": "._environment", "connect": "._environment", "start": "._environment",
    "Factory": "._factory", "load": "._factory",
}

if TYPE_CHECKING:
    from ._environment import Environment, Settings, connect, start
    from ._errors import AdfemuError, FactoryError, RunInputError, StartError, StorageError
    from ._factory import Factory, load
    from ._results import ActivityResult, RunResult, TriggerResult


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("adfemu")
        except PackageNotFoundError:
            return "0+unknown"
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'adfemu' has no attribute {name!r}")
    value = getattr(import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
