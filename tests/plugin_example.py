"""A user experiment plugged in through the config (``"callable": "tests.plugin_example:double_label"``)."""
from adfemu.emulator.experiments import ExperimentRun
from adfemu.emulator.experiments.tables import Table


def double_label(run: ExperimentRun) -> dict:
    table = next(iter(run.inputs.values()))
    rows = [row + [str(2 * float(row[-1]))] for row in table.rows]
    return {name: Table(table.columns + ["Doubled"], rows) for name in run.outputs}


def refuse(run: ExperimentRun) -> dict:
    """A predictive experiment whose module fails: RRS answers ModuleExecutionError, a job ends Failed."""
    from adfemu.emulator.experiments import ExperimentError
    raise ExperimentError("Error 0018: Dataset contains invalid data for column 'age'.")


def crash(run: ExperimentRun) -> dict:
    """A plug-in with a bug of its own: the emulator must survive it."""
    return {}["missing"]
