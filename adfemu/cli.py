"""The ``adfemu`` command: serve the emulated Azure side, validate definitions, run pipelines."""
from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click


@click.group()
@click.version_option(package_name="adfemu")
def main() -> None:
    """Run, test and debug Azure Data Factory pipelines that retrain Azure ML Studio (classic) models, offline.

    \b
    Examples:
      adfemu run fixtures/seed-factory-corrected --pipeline LookupPipelineDemo --data fixtures/seed-data
      adfemu validate my-factory/
      adfemu serve --factory my-factory/ --data test-data/
    """


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Emulator config (JSON): workspaces, web services, endpoints.")
@click.option("--factory", "factory_path", type=click.Path(exists=True),
              help="Provision the web services and storage accounts this ADF factory expects (instead of --config).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 picks a free one.")
@click.option("--storage", "storage", default=None, metavar="CONNSTR",
              help="Use a running Azurite through this connection string instead of starting one.")
@click.option("--data", "data", multiple=True, metavar="[ACCOUNT=]DIR",
              help="Upload DIR at start: its first-level folders are containers (of the factory's storage "
                   "account, or ACCOUNT). Repeatable.")
@click.option("--https", "https", is_flag=True,
              help="Serve TLS (Azure AD and Resource Manager included) with a certificate from a new local CA.")
@click.option("--ca-file", "ca_file", type=click.Path(dir_okay=False), default=None,
              help="With --https: where to write the CA bundle (default: a temporary file, removed on exit).")
@click.option("--state", "state", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Keep the state (web services, keys, models, jobs, ARM resources, journal) in DIR/state.sqlite and "
                   "Azurite's blobs in DIR/azurite, and restore them when started again with the same DIR "
                   "(default: in memory).")
@click.option("--verbose", is_flag=True, help="Log every request (secrets masked).")
def serve(config_path: str | None, factory_path: str | None, host: str, port: int, storage: str | None,
          data: tuple[str, ...], https: bool, ca_file: str | None, state: str | None, verbose: bool) -> None:
    """Serve the emulated Azure side (AML classic, Resource Manager, Azure AD, on Azurite) until Ctrl-C or
    SIGTERM. The banner gives its URL and the connection string of every storage account.

    \b
    Examples:
      adfemu serve --config fixtures/seed-emulator.json
      adfemu serve --config fixtures/seed-emulator.json --state .adfemu-state
      adfemu serve --factory fixtures/seed-factory-corrected --data fixtures/seed-data --https
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if (config_path is None) == (factory_path is None):
        raise click.UsageError("give exactly one of --config and --factory")
    if ca_file and not https:
        raise click.UsageError("--ca-file needs --https")
    from adfemu._startup import begin_azurite  # Azurite first: the imports and loading below overlap its start
    starting = None if storage or state else begin_azurite([factory_path] if factory_path else [], config_path)
    try:
        stack, factory = _start_serving(config_path, factory_path, host, port, storage, https, ca_file, state,
                                        starting)
    except BaseException:
        if starting is not None:
            starting.supervisor.stop()
        raise
    _serve_until_stopped(stack, factory, data, state)


def _start_serving(config_path, factory_path, host, port, storage, https, ca_file, state, starting):
    """(the stack, the factory or None), or a one-line error."""
    import adfemu
    from adfemu.emulator.config import ConfigError, load
    from adfemu.emulator.server import start_stack

    factory = None
    try:
        if config_path:
            config = load(config_path)
        else:
            factory = adfemu.load(factory_path)
            config, notes = _provisioned(factory)
            for note in notes:
                click.echo(f"provisioned: {note}")
    except (ConfigError, adfemu.FactoryError) as exc:
        raise click.ClickException(f"invalid {'config' if config_path else 'factory'}:\n{exc}") from None
    try:
        return start_stack(config, host, port, storage, https=https, ca_bundle=ca_file, state=state,
                           starting=starting, warm_up=False), factory
    except Exception as exc:  # AzuriteError, OSError: one line, no traceback
        raise click.ClickException(f"cannot start: {exc}") from None


def _serve_until_stopped(stack, factory, data, state) -> None:
    from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY, connection_string

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        accounts = {DEV_ACCOUNT: DEV_KEY, **stack.emulator.config.storage_accounts}  # with --state: the saved too
        storage_url = stack.emulator.store.azurite_url
        if data:
            _upload(stack, factory, data, accounts)
        click.echo(f"adfemu emulator listening on {stack.url}")
        click.echo(f"storage: {storage_url}" + (" (started by adfemu)" if stack.azurite else " (given with --storage)"))
        for account in [DEV_ACCOUNT, *sorted(set(accounts) - {DEV_ACCOUNT})]:
            text = connection_string(storage_url, account, accounts[account])
            click.echo(f"storage connection string ({account}): {text}")
        if stack.ca_bundle:
            click.echo(f"CA bundle: {stack.ca_bundle}   (trust it: REQUESTS_CA_BUNDLE or connection_verify)")
        if stack.state.persistent:
            click.echo(f"state: {stack.state.path} (schema {stack.state.version}; blobs in {Path(state) / 'azurite'})")
        click.echo(f"dashboard: {stack.url}/_emulator/")
        click.echo(f"health: {stack.url}/_emulator/health   (Ctrl-C to stop)")
        sys.stdout.flush()
        _warm_up(stack)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.close()
        click.echo("adfemu stopped")


def _warm_up(stack) -> None:
    """The storage SDK's and the built-in experiments' imports (numpy), once the emulator answers: they would
    delay its first answer and slow Azurite's start, and a first job comes a moment later (it waits for them if
    it comes sooner). On this thread, not one of its own (``experiments.warm_up`` says why)."""
    from adfemu.emulator import experiments, storage
    storage.warm_up()
    experiments.warm_up(stack.emulator.config.document)


def _upload(stack, factory, data: tuple[str, ...], accounts: dict[str, str]) -> None:
    """``serve --data``: the folders into the emulated storage (the harness's storage client, imported only then:
    the runner's imports would slow every start)."""
    import adfemu
    from adfemu import run_command
    from adfemu.emulator.azurite import DEV_ACCOUNT

    env = adfemu.Environment(stack.url, stack.emulator.store.azurite_url, ca_bundle=stack.ca_bundle)
    env.storage.keys.update(accounts)
    try:
        run_command.upload_data(env, data, factory.storage_account if factory else (lambda: DEV_ACCOUNT))
    except adfemu.AdfemuError as exc:
        raise click.ClickException(str(exc)) from None


def _provisioned(factory):
    """The emulator config that a factory's AzureML linked services, activities and storage imply."""
    from adfemu.emulator.config import from_document
    document, notes = factory.emulator_config()
    return from_document(document, f"<provisioned from {factory.path}>"), notes


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "sarif", "github"]), default="text",
              show_default=True, help="One line per problem, one JSON document, JUnit XML for CI, SARIF 2.1.0 for "
                                      "code scanning, or GitHub Actions annotations.")
@click.option("--strict", is_flag=True, help="Check against the spec as written (no ADF leniency).")
def validate(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check ADF definitions as ADF's "Validate all" would.

    PATHS are factory folders (ADF git layout; a folder holding several factory roots validates each
    on its own), ARM template exports (ARMTemplateForFactory.json) or single definition files.
    Exit 0 without errors, 1 with errors, 2 when the input cannot be read.

    \b
    Examples:
      adfemu validate my-factory/
      adfemu validate ARMTemplateForFactory.json --format junit > validate.xml
      adfemu validate my-factory/ --format sarif > adfemu.sarif
    """
    from adfemu import report
    from adfemu.runner.factory import LoadError, load_paths
    from adfemu.runner.validation import validate_factory

    try:
        factories = load_paths(list(paths))
    except LoadError as exc:
        click.echo(f"adfemu validate: {exc}", err=True)
        sys.exit(2)
    findings = []
    for factory in factories:
        for finding in validate_factory(factory, strict=strict):
            position = factory.locate(finding.source, finding.pointer)
            if position is not None:  # a file that did not parse keeps the position of its syntax error
                finding.line, finding.column = position
            findings.append(finding)
    findings.sort(key=lambda f: (f.source, f.line or 0, f.column or 0, f.code))
    sources = sorted({e.source for f in factories for e in f.entities} | {f.source for f in findings})
    info = report.summary(findings, len(sources), len(factories))
    if fmt == "json":
        click.echo(report.as_json(findings, info))
    elif fmt == "junit":
        click.echo(report.junit(findings, info, sources))
    elif fmt == "sarif":
        from importlib.metadata import version
        click.echo(report.sarif(findings, info, version("adfemu")))
    elif fmt == "github":
        click.echo(report.github(findings, info))
    else:
        click.echo(report.text(findings, info))
    sys.exit(1 if info["errors"] else 0)


@main.command()
@click.argument("factory", nargs=-1, required=True)
@click.option("--pipeline", "pipeline_name", help="The pipeline to run (or --trigger).")
@click.option("--trigger", "trigger_name", help="Run what this schedule or tumbling-window trigger starts between "
              "--start and --end, with time compressed.")
@click.option("--start", "start", metavar="ISO", help="With --trigger: the start of the interval.")
@click.option("--end", "end", metavar="ISO", help="With --trigger: the end of the interval.")
@click.option("--trigger-time", "trigger_time", metavar="ISO",
              help="Run --pipeline as a trigger firing at this time would (pipeline().TriggerTime).")
@click.option("--trigger-type", "trigger_type", type=click.Choice(["ScheduleTrigger", "TumblingWindowTrigger"]),
              help="With --trigger-time or --window: the trigger type (pipeline().TriggerType).")
@click.option("--window", "window", metavar="START/END",
              help="Run --pipeline for this tumbling window (trigger().outputs.windowStartTime/windowEndTime).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A pipeline parameter (repeatable).")
@click.option("--data", "data", multiple=True, metavar="[ACCOUNT=]DIR",
              help="Upload DIR before the run: its first-level folders are containers of the factory's storage "
                   "account (ACCOUNT=DIR when it names several). Repeatable.")
@click.option("--save-storage", "save_storage", type=click.Path(file_okay=False),
              help="After the run, write every blob of every account to DIR/<account>/<container>/<path>.")
@click.option("--output", "output", type=click.Path(dir_okay=False), help="Write the run record (JSON) here.")
@click.option("--now", "now", metavar="ISO", help="Fix the clock: utcNow(), pipeline().TriggerTime and the "
              "records' start (e.g. 2024-06-01T00:00:00Z).")
@click.option("--seed", "seed", type=int, help="Make run ids, guid() and rand() reproducible.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Emulator config to serve (default: provisioned from the factory's AzureML linked services).")
@click.option("--emulator", "emulator_url", metavar="URL", help="Use a running `adfemu serve` at URL.")
@click.option("--storage", metavar="CONNSTR", help="Use a running Azurite through this connection string.")
@click.option("--https", "https", is_flag=True, help="Serve the emulator it starts over TLS (a new local CA).")
@click.option("--ca-bundle", "ca_bundle", type=click.Path(exists=True, dir_okay=False),
              help="With --emulator: the CA bundle of an `adfemu serve --https` to trust.")
@click.option("--secrets", "secrets_path", type=click.Path(dir_okay=False),
              help='Key Vault secrets: {"<vault>": {"<secretName>": "<value>"}}.')
@click.option("--time-scale", default=0.01, show_default=True, type=click.FloatRange(min=0),
              help="Real seconds per emulated second (Wait, retry intervals, timeouts, polling).")
@click.option("--real-time", is_flag=True, help="Same as --time-scale 1.")
@click.option("--lenient", is_flag=True, help="Accept BES blob names without a file extension (AML refuses them).")
@click.option("--stubs", "stubs_path", type=click.Path(dir_okay=False),
              help='Outcomes for activity types adfemu does not run: {"<type>": {"status", "output", "error"}}.')
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False),
              help="Write a JUnit XML report: one test case per activity run.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Write a self-contained HTML report: the pipeline as a graph, the run as a timeline.")
@click.option("--plain", is_flag=True, help="Plain lines, one per event (the default when not on a terminal).")
@click.option("--quiet", is_flag=True, help="Plain lines for failures and the end only.")
@click.option("--sql", "sql", multiple=True, metavar="LINKED_SERVICE=FILE",
              help="Back a SQL linked service (AzureSqlDatabase, SqlServer, AzureSqlDW) with a SQLite file; T-SQL is "
                   "translated. Repeatable.")
def run(**options) -> None:
    """Run an ADF pipeline offline against the emulated Azure side (started for the run, or --emulator).

    Shows each activity as it starts and ends (live on a terminal, plain lines otherwise), then the status and
    the failing activity's error in full. Exit 0 when the pipeline run Succeeded, 1 when it Failed, 2 for
    invalid input or when the emulated side cannot start.

    \b
    Examples:
      adfemu run fixtures/seed-factory-corrected --pipeline LookupPipelineDemo --data fixtures/seed-data
      adfemu run fixtures/seed-factory-corrected --pipeline LookupPipelineDemo --data fixtures/seed-data \\
          --save-storage out/ --output run.json --junit run.xml --report run.html --now 2024-06-01T00:00:00Z
      adfemu run my-factory --pipeline Retrain --data test-data --sql SqlDatabase=tests/sales.sqlite
      adfemu run fixtures/retrain-hourly --trigger HourlyRetrainWindow --start 2024-06-01T00:00:00Z \\
          --end 2024-06-01T03:00:00Z --data fixtures/retrain-hourly-data \\
          --sql TelemetryDatabase=fixtures/retrain-hourly/telemetry.sql --output runs.json
    """
    from adfemu import run_command
    sys.exit(run_command.main(run_command.RunOptions(**options)))


@main.command()
@click.argument("record", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), required=True,
              help="Where to write the report.")
@click.option("--format", "fmt", type=click.Choice(["html", "junit"]), default=None,
              help="html or junit (default: from the output's extension, .xml for JUnit).")
def report(record: str, output: str, fmt: str | None) -> None:
    """Make the HTML (or JUnit) report of a run from its record (`adfemu run --output run.json`).

    \b
    Examples:
      adfemu report run.json -o run.html
      adfemu report run.json -o run.xml
    """
    from adfemu import run_reports

    try:
        document = json.loads(Path(record).read_text(encoding="utf-8"))
        document["pipelineRun"]["pipelineName"], document["activityRuns"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{record} is not a run record of `adfemu run --output` ({type(exc).__name__})") \
            from None
    kind = fmt or ("junit" if output.lower().endswith(".xml") else "html")
    Path(output).write_text(getattr(run_reports, kind)(document), encoding="utf-8")
    click.echo(f"{kind} report of run {document['pipelineRun'].get('runId')} written to {output}")


@main.command("install-azurite")
@click.option("--force", is_flag=True, help="Reinstall even when the cache already has it.")
def install_azurite(force: bool) -> None:
    """Install the Azurite version adfemu pins, with npm, into a per-user cache where adfemu finds it
    ($ADFEMU_CACHE, else $XDG_CACHE_HOME/adfemu or ~/.cache/adfemu). Needs Node.js and npm.

    \b
    Example:
      adfemu install-azurite
    """
    from adfemu.emulator.azurite import AzuriteError, install

    try:
        path = install(force=force, echo=click.echo)
    except AzuriteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Azurite installed: {path}")


def console() -> None:
    """The ``adfemu`` program: the commands above, then a quick exit. Once the output is flushed and the exit
    handlers (logging, coverage) have run, a one-shot command has nothing left to tear down; the interpreter's own
    teardown of the ~900 modules a run imports takes about 0.25 s, a tenth of a zero-config ``adfemu run``."""
    try:
        main(prog_name="adfemu")
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            pass
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    console()
