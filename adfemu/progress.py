"""What `adfemu run` (and the demo) shows while a pipeline runs: live, or one plain line per event.

- ``LiveProgress`` (a terminal): a ``rich`` tree that redraws four times a second, each activity nested under
  its container (an If branch, a ForEach iteration, an Until iteration, a child pipeline), with its state, retry
  attempt (``attempt 2/3``), the BES job id and how long it has been polled, and its duration.
- ``PlainProgress`` (not a terminal, ``--plain``, ``--quiet``): one line per event, no animation and no colour,
  wrapped at spaces only (never inside a word) to the width, 80 columns by default; ``quiet`` keeps only the
  failures and the end.

Both end with the run's status and, for a failed run, the failing activity's error in full. ``NO_COLOR`` is
honoured (rich reads it).
"""
from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any

from adfemu.runner.events import (ACTIVITY_ENDED, ACTIVITY_PROGRESS, ACTIVITY_STARTED, RUN_ENDED, RUN_STARTED,
                                  Event)

MARKS = {"Succeeded": "ok", "Failed": "FAILED", "Skipped": "skipped", "Cancelled": "cancelled",
         "InProgress": "running"}
STYLES = {"Succeeded": "green", "Failed": "bold red", "Skipped": "dim", "Cancelled": "yellow", "InProgress": "cyan"}
HINTS = {"The specified blob does not exist": "put test data into the emulated storage with --data DIR "
                                              "(its first-level folders are containers)"}


def scope_label(scope: str) -> str:
    """"ForEach1[2]/If1(true)/" -> "ForEach1[2] > If1(true) > "."""
    parts = [p for p in scope.split("/") if p]
    return "".join(f"{p} > " for p in parts)


def attempt_label(activity: Any) -> str:
    """" attempt 2/3" for a retry, and for a failed attempt that will be retried; nothing otherwise."""
    retried = activity.attempt > 1 or (activity.status == "Failed" and activity.attempt < activity.max_attempts)
    return f" attempt {activity.attempt}/{activity.max_attempts}" if activity.max_attempts > 1 and retried else ""


def seconds(ms: float | None) -> str:
    return f"{(ms or 0) / 1000:.1f} s"


def duration_ms(activity: Any) -> float:
    end = activity.end or activity.clock()
    return (end - activity.start).total_seconds() * 1000


def ending(record: dict) -> list[str]:
    """From a run record (run.json): the run's status and, when it failed, the error of each activity whose last
    attempt failed, in full (with a hint where one fits)."""
    run = record["pipelineRun"]
    lines = [f"pipeline {run['pipelineName']}: {run['status']} in {seconds(run['durationInMs'])} "
             f"(run {run['runId']})"]
    if run["status"] != "Failed":
        return lines
    finals = {}
    for activity in record["activityRuns"]:  # in start order: the last attempt of each activity tells
        finals[(activity.get("adfemu", {}).get("scope", ""), activity["activityName"])] = activity
    for (scope, name), activity in finals.items():
        error = activity.get("error") or {}
        if activity["status"] != "Failed" or not error.get("message"):
            continue
        attempts = activity.get("adfemu", {}).get("maxAttempts", 1)
        attempt = f" (attempt {(activity.get('retryAttempt') or 0) + 1}/{attempts})" if attempts > 1 else ""
        lines.append(f"{scope_label(scope)}{name} failed{attempt}, errorCode {error.get('errorCode') or '-'}: "
                     f"{error['message']}")
        lines += [f"hint: {hint}" for text, hint in HINTS.items() if text in error["message"]]
    if len(lines) == 1 and run.get("message"):
        lines.append(run["message"])
    return lines


class PlainProgress:
    """One line per event, wrapped at spaces to ``width`` with a hanging indent."""

    def __init__(self, stream: IO[str] | None = None, width: int | None = None, quiet: bool = False):
        self.stream = stream or sys.stdout
        self.width = width or _width(self.stream)
        self.quiet = quiet
        self._lock = threading.Lock()
        self._polled: dict[str, tuple[str, float, float]] = {}  # activity run id -> (state, printed, first poll)

    def __call__(self, event: Event) -> None:
        line = self._line(event)
        if line:
            self._write(line)

    def _line(self, event: Event) -> str | None:
        run, activity = event.run, event.activity
        child = run.invoked_by.get("invokedByType") == "PipelineActivity"
        if event.kind == RUN_STARTED:
            return None if self.quiet else f"pipeline {run.pipeline_name} started (run {run.run_id})"
        if event.kind == RUN_ENDED:  # the top-level run's end is printed by finish()
            return f"pipeline {run.pipeline_name}: {run.status}" if child and not self.quiet else None
        name = f"{run.pipeline_name} > " * child + f"{scope_label(activity.scope)}{activity.activity_name}"
        if event.kind == ACTIVITY_STARTED:
            return None if self.quiet else f"  {name} ({activity.activity_type}) started{attempt_label(activity)}"
        if event.kind == ACTIVITY_PROGRESS:
            return None if self.quiet else self._progress(name, activity, event.detail)
        if event.kind == ACTIVITY_ENDED:
            if self.quiet and activity.status != "Failed":
                return None
            text = f"  {name} {activity.status}{attempt_label(activity)}"
            if activity.status not in ("Skipped",) and activity.end != activity.start:
                text += f" in {seconds(duration_ms(activity))}"
            if activity.status == "Failed" and activity.error:
                text += f": {activity.error.get('errorCode') or '-'} {_first_sentence(activity.error.get('message'))}"
            return text
        return None

    def _progress(self, name: str, activity: Any, detail: dict) -> str | None:
        job, state = detail.get("jobId"), detail.get("state")
        if not job:
            return None
        now = time.monotonic()
        last = self._polled.get(activity.activity_run_id)
        if last and last[0] == state and now - last[1] < 10:  # same state: at most one line per 10 s
            return None
        since = last[2] if last else now
        self._polled[activity.activity_run_id] = (state, now, since)
        return f"  {name}: BES job {job} {state}, polled for {now - since:.0f} s"

    def finish(self, record: dict) -> None:
        for line in ending(record):
            self._write(line)

    def _write(self, line: str) -> None:
        text = textwrap.fill(line, self.width, subsequent_indent="      ", break_long_words=False,
                             break_on_hyphens=False)
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()


@dataclass
class _Node:
    label: str
    activity: Any = None
    polled: tuple[str, str, float] | None = None  # (job id, state, monotonic time of the first poll)
    children: dict[str, "_Node"] = field(default_factory=dict)


class LiveProgress:
    """A rich ``Live`` tree of the run, redrawn while it runs; use as a context manager."""

    def __init__(self, console=None):
        from rich.console import Console
        self.console = console or Console(highlight=False)
        self._lock = threading.Lock()
        self._runs: dict[str, _Node] = {}
        self._order: list[str] = []  # top-level runs; a child run hangs under its ExecutePipeline activity
        self._nodes: dict[str, _Node] = {}  # activity run id -> node
        self._live = None

    def __enter__(self) -> "LiveProgress":
        from rich.live import Live
        self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4, transient=False)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        with self._lock:
            if event.kind == RUN_STARTED:
                root = self._runs[event.run.run_id] = _Node(event.run.pipeline_name, event.run)
                caller = self._nodes.get(event.run.invoked_by.get("id", ""))
                if caller is not None:
                    caller.children[f"run {event.run.run_id}"] = root
                else:
                    self._order.append(event.run.run_id)
                return
            if event.activity is None:
                return
            node = self._node(event.run.run_id, event.activity)
            node.activity = event.activity
            self._nodes[event.activity.activity_run_id] = node
            if event.kind == ACTIVITY_PROGRESS and event.detail.get("jobId"):
                since = node.polled[2] if node.polled else time.monotonic()
                node.polled = (event.detail["jobId"], str(event.detail.get("state")), since)

    def _node(self, run_id: str, activity: Any) -> _Node:
        node = self._runs.setdefault(run_id, _Node(activity.pipeline_name))
        for part in [p for p in activity.scope.split("/") if p]:
            node = node.children.setdefault(part, _Node(part))
        key = f"{activity.activity_name}#{activity.attempt}"
        return node.children.setdefault(key, _Node(activity.activity_name))

    def _render(self):
        from rich.console import Group
        from rich.tree import Tree
        with self._lock:
            trees = []
            for run_id in self._order:
                root = self._runs[run_id]
                run = root.activity
                tree = Tree(f"[bold]{root.label}[/] [{STYLES.get(run.status, '')}]{run.status}[/]")
                self._add(tree, root)
                trees.append(tree)
            return Group(*trees)

    def _add(self, tree, node: _Node) -> None:
        from rich.markup import escape
        for child in node.children.values():
            activity = child.activity
            if activity is None:  # a branch or an iteration
                branch = tree.add(f"[dim]{escape(child.label)}[/]")
            elif not hasattr(activity, "activity_name"):  # a child pipeline run
                branch = tree.add(f"[bold]{escape(child.label)}[/] [{STYLES.get(activity.status, '')}]"
                                  f"{activity.status}[/]")
            else:
                status = activity.status
                text = (f"[{STYLES.get(status, '')}]{MARKS.get(status, status):>9}[/] {escape(activity.activity_name)} "
                        f"[dim]{escape(activity.activity_type)}{attempt_label(activity)}[/]")
                if status != "Skipped":
                    text += f" {seconds(duration_ms(activity))}"
                if child.polled and status == "InProgress":
                    job, state, since = child.polled
                    text += f" [cyan]BES job {job[:12]}… {state}, polled {time.monotonic() - since:.0f} s[/]"
                branch = tree.add(text)
            self._add(branch, child)

    def finish(self, record: dict) -> None:
        from rich.markup import escape
        for line in ending(record):
            style = "bold red" if "failed" in line or ": Failed" in line else (
                "green" if ": Succeeded" in line else "")
            self.console.print(f"[{style}]{escape(line)}[/]" if style else escape(line), soft_wrap=False)


def _first_sentence(message: str | None) -> str:
    """Per-event lines stay short; the full message comes at the end."""
    text = " ".join(str(message or "").split())
    return text if len(text) <= 160 else text[:157].rsplit(" ", 1)[0] + " ..."


def _width(stream: IO[str]) -> int:
    try:
        return max(40, os.get_terminal_size(stream.fileno()).columns) if stream.isatty() else 80
    except (OSError, ValueError, AttributeError):
        return 80


def for_stream(stream: IO[str] | None = None, plain: bool = False, quiet: bool = False):
    """Live on a terminal, plain otherwise (or when asked)."""
    stream = stream or sys.stdout
    if plain or quiet or not stream.isatty():
        return PlainProgress(stream, quiet=quiet)
    return LiveProgress()
