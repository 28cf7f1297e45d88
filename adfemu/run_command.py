"""`adfemu run`: read the options, start (or attach to) the emulated Azure side, upload test data, run a pipeline
or a trigger with progress, and write what was asked for. Exit 0 when the run Succeeded, 1 when it Failed, 2 for
invalid input or an emulated side that cannot start."""
from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import adfemu

from . import console, progress, run_reports
from ._startup import begin_azurite


class Invalid(Exception):
    """Bad input: one line on stderr, exit 2."""


@dataclass
class RunOptions:
    factory: tuple[str, ...]
    pipeline_name: str | None
    trigger_name: str | None
    start: str | None
    end: str | None
    trigger_time: str | None
    trigger_type: str | None
    window: str | None
    params: tuple[str, ...]
    data: tuple[str, ...]
    save_storage: str | None
    output: str | None
    now: str | None
    seed: int | None
    config_path: str | None
    emulator_url: str | None
    storage: str | None
    https: bool
    ca_bundle: str | None
    secrets_path: str | None
    time_scale: float
    real_time: bool
    lenient: bool
    stubs_path: str | None
    junit_path: str | None
    report_path: str | None
    plain: bool
    quiet: bool
    sql: tuple[str, ...]


def main(options: RunOptions) -> int:
    try:
        return _run(options)
    except Invalid as exc:
        sys.stderr.write(f"adfemu run: {exc}\n")
        return 2


def _run(o: RunOptions) -> int:
    _check_combination(o)
    owned = [] if o.emulator_url or o.storage else [_begin_azurite(o)]  # handed to adfemu.start, which owns it
    try:
        return _run_with(o, owned)
    finally:  # not handed over (bad input before the start): stopped here
        for starting in owned:
            starting.supervisor.stop()


def _begin_azurite(o: RunOptions):
    """Azurite first: loading and validating the factory and the imports overlap its start."""
    from adfemu.emulator.azurite import AzuriteError
    try:
        return begin_azurite(o.factory, o.config_path)
    except AzuriteError as exc:
        raise Invalid(f"cannot start the emulated Azure side: {exc}") from None


def _run_with(o: RunOptions, owned: list) -> int:
    secrets = _secrets(o.secrets_path)
    factory = _factory(o.factory, secrets)
    console.warnings(factory.definitions.warnings)
    if o.lenient:
        console.say("--lenient: BES blob names without a file extension are accepted (the real service refuses them)")
    reporter = progress.for_stream(plain=o.plain, quiet=o.quiet)
    settings = dict(time_scale=1.0 if o.real_time else o.time_scale, secrets=secrets, stubs=_stubs(o.stubs_path),
                    now=o.now, seed=o.seed, listener=reporter, sql=pairs(o.sql, "--sql", "LINKED_SERVICE=FILE"))
    with _environment(o, factory, settings, owned) as env:
        try:
            env.load(factory)
            upload_data(env, o.data, factory.storage_account)
            with reporter if isinstance(reporter, progress.LiveProgress) else nullcontext():
                result = _start(env, factory, o)
        except adfemu.AdfemuError as exc:
            raise Invalid(str(exc)) from None
        if o.save_storage:
            console.say(f"storage: {env.save_storage(o.save_storage)} blob(s) written to {o.save_storage}")
    runs = result.runs if o.trigger_name else [result]
    for one in runs:
        reporter.finish(one.record)
    if o.trigger_name:
        _trigger_summary(o.trigger_name, result.trigger_runs)
    _write(o, result.record, [one.record for one in runs])
    return 0 if result.status == "Succeeded" else 1


def _check_combination(o: RunOptions) -> None:
    if (o.pipeline_name is None) == (o.trigger_name is None):
        raise Invalid("give exactly one of --pipeline and --trigger")
    if o.trigger_name and (not o.start or not o.end):
        raise Invalid("--trigger needs --start and --end")
    if o.trigger_name and (o.trigger_time or o.trigger_type or o.window):
        raise Invalid("--trigger-time, --trigger-type and --window go with --pipeline (a single run)")


def pairs(items: tuple[str, ...], option: str, shape: str) -> dict[str, str]:
    """``NAME=VALUE`` options (repeatable) as a dict."""
    found = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise Invalid(f"{option} '{item}' is not {shape}")
        found[name] = value
    return found


def _secrets(path: str | None) -> dict:
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise Invalid(f"cannot read the secrets file {path}: {type(exc).__name__}") from None


def _factory(paths: tuple[str, ...], secrets: dict) -> adfemu.Factory:
    try:
        return adfemu.load(list(paths), secrets=secrets)
    except adfemu.FactoryError as exc:
        for problem in exc.problems[1:]:  # the message names the first
            sys.stderr.write(problem + "\n")
        raise Invalid(str(exc)) from None


def _stubs(path: str | None) -> dict:
    if not path:
        return {}
    from adfemu.runner.stubs import StubError, load_stubs
    try:
        return load_stubs(path)
    except StubError as exc:
        raise Invalid(str(exc)) from None


def _environment(o: RunOptions, factory: adfemu.Factory, settings: dict, owned: list) -> adfemu.Environment:
    try:
        if o.emulator_url:
            return adfemu.connect(o.emulator_url, ca_bundle=o.ca_bundle, provision=o.config_path is None, **settings)
        if o.config_path is None and not o.quiet:
            for note in factory.emulator_config(o.lenient)[1]:
                console.say(f"provisioned: {note}")
        starting = owned.pop() if owned else None  # adfemu.start owns it from here (and stops it if it fails)
        return adfemu.start(factory, config=o.config_path, https=o.https, storage=o.storage, lenient=o.lenient,
                            _starting=starting, **settings)
    except adfemu.AdfemuError as exc:
        raise Invalid(str(exc)) from None


def _start(env: adfemu.Environment, factory: adfemu.Factory, o: RunOptions) -> Any:
    if o.trigger_name:
        return env.run_trigger(factory, o.trigger_name, o.start, o.end)
    window = None
    if o.window:
        begin, sep, finish = o.window.partition("/")
        if not sep:
            raise Invalid(f"--window '{o.window}' is not START/END")
        window = (begin, finish)
    return env.run(factory, o.pipeline_name, pairs(o.params, "--param", "NAME=VALUE"), trigger_time=o.trigger_time,
                   trigger_type=o.trigger_type, window=window)


def upload_data(env: adfemu.Environment, specs: tuple[str, ...], default_account) -> None:
    """--data ``[ACCOUNT=]DIR``: each folder's first-level folders are containers of an account."""
    for spec in specs:
        account, sep, folder = spec.partition("=")
        if not sep or Path(spec).exists():
            account, folder = None, spec
        try:
            account = account or default_account()
            count = env.upload_folder(folder, account)
        except adfemu.AdfemuError as exc:
            raise adfemu.StorageError(f"--data {folder}: {exc}") from None
        console.say(f"data: {count} file(s) from {folder} uploaded to storage account {account}")


def _trigger_summary(name: str, trigger_runs: list[dict]) -> None:
    succeeded = sum(t["status"] == "Succeeded" for t in trigger_runs)
    console.say(f"trigger {name}: {len(trigger_runs)} trigger run(s), {succeeded} succeeded")
    for failed in (t for t in trigger_runs if t["status"] != "Succeeded"):
        when = failed["properties"].get("WindowStartTime") or failed["properties"]["TriggerTime"]
        console.say(f"  {when}: {failed['status']} - {failed['message']}")


def _write(o: RunOptions, record: dict, runs: list[dict]) -> None:
    """--output (the record), --junit and --report (one per pipeline run of a trigger: NAME-1.html, ...)."""
    if o.output:
        Path(o.output).write_text(json.dumps(record, indent=2), encoding="utf-8")
    for path, render in ((o.junit_path, run_reports.junit), (o.report_path, run_reports.html)):
        if not path:
            continue
        if not o.trigger_name:
            Path(path).write_text(render(record), encoding="utf-8")
            continue
        stem, dot, suffix = path.rpartition(".")
        for n, run in enumerate(runs, 1):
            Path(f"{stem}-{n}.{suffix}" if dot else f"{path}-{n}").write_text(render(run), encoding="utf-8")
