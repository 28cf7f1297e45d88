"""`make demo` runs the seed pipeline end to end and pins both outcomes."""
from adfemu import demo


def test_demo_retrains_updates_and_shows_the_published_failure(capsys):
    assert demo.main() == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "amlBEGetilearner Succeeded amlUpdateResource Succeeded" in out
    assert "amlBEGetilearner Failed (errorCode 2600): Batch Execution failed." in out
    assert "has an invalid or missing file extension" in out and "amlUpdateResource Skipped; pipeline Failed" in out
    assert "demo passed" in out
