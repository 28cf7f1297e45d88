"""A user experiment plugged in through the config (``"callable": "tests.plugin_example:double_label"``)."""
from emulator.experiments import ExperimentRun
from emulator.experiments.tables import Table


def double_label(run: ExperimentRun) -> dict:
    table = next(iter(run.inputs.values()))
    rows = [row + [str(2 * float(row[-1]))] for row in table.rows]
    return {name: Table(table.columns + ["Doubled"], rows) for name in run.outputs}
