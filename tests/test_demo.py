"""`make demo` runs the seed pipeline end to end and pins the three outcomes; piped, it prints plain lines."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_retrains_updates_and_shows_the_published_failure():
    done = subprocess.run([sys.executable, "-m", "adfemu.demo"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "\x1b[" not in done.stdout and all(len(line) <= 80 or " " not in line.strip() for line in lines)
    out = " ".join(done.stdout.split())
    assert out.count("amlBEGetilearner Succeeded in") == 2 and out.count("amlUpdateResource Succeeded in") == 2
    assert "amlBEGetilearner failed, errorCode 2600: Batch Execution failed." in out
    assert "has an invalid or missing file extension" in out and "amlUpdateResource Skipped" in out
    assert "(Azurite)" in out and "predictions of the updated endpoint:" in lines
    assert lines[-1] == "demo passed"
