"""What `adfemu run` prints: plain lines when piped (tested as text), and the live view in a real terminal
(tmux, 80 columns)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .helpers import deadline_poll

ROOT = Path(__file__).resolve().parent.parent
ADFEMU = [sys.executable, "-m", "adfemu", "run"]  # the `adfemu` program
PUBLISHED = ["fixtures/seed-factory", "--pipeline", "LookupPipelineDemo"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _joined(text: str) -> str:
    return " ".join(text.split())


def _message(record_path: Path, activity: str) -> str:
    record = json.loads(record_path.read_text())
    return next(a for a in record["activityRuns"] if a["activityName"] == activity)["error"]["message"]


def test_piped_output_is_plain_lines_one_event_each_wrapped_between_words(tmp_path):
    record = tmp_path / "run.json"
    done = subprocess.run([*ADFEMU, *PUBLISHED, "--output", str(record)], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})
    assert done.returncode == 1
    out = done.stdout
    assert not ANSI.search(out), "no colour or cursor movement when piped"
    lines = out.splitlines()
    assert all(len(line) <= 80 or " " not in line.strip() for line in lines), "80 columns, words kept whole"
    events = [line for line in lines if line.startswith("  ") and not line.startswith("      ")]
    assert events[-3:] == ["  amlBEGetilearner (AzureMLBatchExecution) started",
                           next(e for e in events if e.startswith("  amlBEGetilearner Failed in ")),
                           "  amlUpdateResource Skipped"]
    message = _message(record, "amlBEGetilearner")
    assert f"amlBEGetilearner failed, errorCode 2600: {message}" in _joined(out)  # in full, words unbroken
    words = set(_joined(message).split())
    assert words <= set(_joined(out).split())


def test_quiet_prints_only_the_failure_and_the_end():
    done = subprocess.run([*ADFEMU, *PUBLISHED, "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1
    assert "started" not in done.stdout and "provisioned" not in done.stdout
    assert "amlBEGetilearner Failed" in done.stdout and "pipeline LookupPipelineDemo: Failed" in done.stdout


@pytest.fixture
def tmux():
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: the live-terminal tests need it")
    name = f"adfemu-{uuid.uuid4().hex[:8]}"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "30", "-c", str(ROOT)], check=True)
    subprocess.run(["tmux", "set-option", "-t", name, "history-limit", "5000"], check=True)

    def screen(history: bool = False) -> str:
        args = ["tmux", "capture-pane", "-p", "-t", name] + (["-S", "-"] if history else [])
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout

    def send(command: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", name, command, "Enter"], check=True)

    yield send, screen
    subprocess.run(["tmux", "kill-session", "-t", name], check=False)


def _wait_for(screen, wanted, timeout: float, history: bool = False) -> str:
    """The screen once ``wanted(text)`` holds (polled with a deadline)."""
    return deadline_poll(lambda: (lambda text: text if wanted(text) else None)(screen(history)), timeout, 0.1)


def _command(*args: str) -> str:
    return " ".join([sys.executable, "-m", "adfemu", "run", *args]) + "; echo ADFEMU-EXIT=$?"


def test_live_view_shows_the_bes_job_while_it_is_polled(tmux, tmp_path):
    send, screen = tmux
    config = json.loads((ROOT / "fixtures" / "seed-emulator.json").read_text())
    training = next(s for s in config["workspaces"][0]["webServices"] if s["kind"] == "training")
    training["timing"] = {"runSeconds": 4}
    (tmp_path / "slow.json").write_text(json.dumps(config))
    for model in (ROOT / "fixtures" / "models").iterdir():
        (tmp_path / "models").mkdir(exist_ok=True)
        shutil.copy(model, tmp_path / "models" / model.name)
    send(_command("fixtures/seed-factory-corrected", "--pipeline", "LookupPipelineDemo", "--config",
                  str(tmp_path / "slow.json"), "--data", "fixtures/seed-data", "--real-time"))
    polling = _wait_for(screen, lambda s: re.search(r"BES job \w+… Running, polled \d+ s", _joined(s)), 60)
    assert re.search(r"running amlBEGetilearner AzureMLBatchExecution \d+\.\d s", _joined(polling))
    later = _wait_for(screen, lambda s: s != polling and "BES job" in s, 10)
    assert later != polling  # it redraws by itself (the time it has been polling moves on)
    final = _wait_for(screen, lambda s: re.search(r"ADFEMU-EXIT=\d", s), 90, history=True)
    assert "ADFEMU-EXIT=0" in final and "pipeline LookupPipelineDemo: Succeeded" in final
    assert re.search(r"ok amlUpdateResource", final)


def test_published_seed_at_80_columns_shows_the_full_2600_message_and_the_skip(tmux, tmp_path):
    send, screen = tmux
    record = tmp_path / "run.json"
    send(_command(*PUBLISHED, "--output", str(record)))
    final = _wait_for(screen, lambda s: re.search(r"ADFEMU-EXIT=\d", s), 90, history=True)
    assert "ADFEMU-EXIT=1" in final
    assert all(len(line) <= 80 for line in final.splitlines())
    assert re.search(r"FAILED amlBEGetilearner", final) and re.search(r"skipped amlUpdateResource", final)
    message = _message(record, "amlBEGetilearner")
    assert f"amlBEGetilearner failed, errorCode 2600: {_joined(message)}" in _joined(final)


def test_no_color_is_honoured_by_the_live_view(monkeypatch):
    import io

    from rich.console import Console

    from adfemu.progress import LiveProgress
    from adfemu.runner.events import ACTIVITY_ENDED, RUN_STARTED, Event
    from adfemu.runner.records import ActivityRun, PipelineRun

    def render(no_color: bool) -> str:
        if no_color:
            monkeypatch.setenv("NO_COLOR", "1")
        else:
            monkeypatch.delenv("NO_COLOR", raising=False)
        out = io.StringIO()
        live = LiveProgress(Console(file=out, force_terminal=True, width=80))
        run = PipelineRun("P", {})
        activity = ActivityRun("P", run.run_id, "A", "Wait")
        activity.finish("Failed", {}, {"errorCode": "X", "message": "m"})
        live(Event(RUN_STARTED, run))
        live(Event(ACTIVITY_ENDED, run, activity))
        live.console.print(live._render())
        return out.getvalue()

    assert re.search(r"\x1b\[[0-9;]*3[1-7]m", render(no_color=False))  # red and friends on a terminal
    assert not re.search(r"\x1b\[[0-9;]*3[1-7]m", render(no_color=True))


@pytest.mark.parametrize("command", [[], ["serve"], ["run"], ["validate"], ["report"], ["install-azurite"]])
def test_every_command_help_has_an_example(command):
    done = subprocess.run([sys.executable, "-m", "adfemu.cli", *command, "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and re.search(r"^\s+Examples?:\n\s+adfemu \w", done.stdout, re.M), done.stdout
