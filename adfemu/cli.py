"""The ``adfemu`` command: wires the emulator (and later the runner) to the command line."""
from __future__ import annotations

import logging
import signal
import sys
import threading

import click



@click.group()
@click.version_option(package_name="adfemu")
def main() -> None:
    """Emulate Azure ML Studio (classic) web services and run ADF pipelines against them, offline."""


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Emulator config (JSON): workspaces, web services, endpoints.")
@click.option("--factory", "factory_path", type=click.Path(exists=True),
              help="Provision the web services this ADF factory expects (instead of --config).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 picks a free one.")
@click.option("--storage", "storage", default=None, metavar="CONNSTR",
              help="Use a running Azurite through this connection string instead of starting one.")
@click.option("--https", "https", is_flag=True,
              help="Serve TLS (Azure AD and Resource Manager included) with a certificate from a new local CA.")
@click.option("--ca-file", "ca_file", type=click.Path(dir_okay=False), default=None,
              help="With --https: where to write the CA bundle (default: a temporary file, removed on exit).")
@click.option("--verbose", is_flag=True, help="Log every request (secrets masked).")
def serve(config_path: str | None, factory_path: str | None, host: str, port: int, storage: str | None,
          https: bool, ca_file: str | None, verbose: bool) -> None:
    """Serve the emulated AML web services until Ctrl-C or SIGTERM."""
    from adfemu.emulator.azurite import DEV_ACCOUNT, AzuriteError
    from adfemu.emulator.config import ConfigError, load
    from adfemu.emulator.server import start_stack

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if (config_path is None) == (factory_path is None):
        raise click.UsageError("give exactly one of --config and --factory")
    if ca_file and not https:
        raise click.UsageError("--ca-file needs --https")
    try:
        config = load(config_path) if config_path else _provisioned(factory_path)
    except ConfigError as exc:
        raise click.ClickException(f"invalid config:\n{exc}") from None
    try:
        stack = start_stack(config, host, port, storage, https=https, ca_bundle=ca_file)
    except (AzuriteError, OSError) as exc:
        raise click.ClickException(f"cannot start: {exc}") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        click.echo(f"adfemu emulator listening on {stack.url}")
        click.echo(f"storage: {stack.emulator.store.azurite_url}"
                   + (" (started by adfemu)" if stack.azurite else " (given with --storage)"))
        if stack.azurite:
            click.echo(f"storage connection string: {stack.azurite.connection_string(DEV_ACCOUNT)}")
        if stack.ca_bundle:
            click.echo(f"CA bundle: {stack.ca_bundle}   (trust it: REQUESTS_CA_BUNDLE or connection_verify)")
        click.echo(f"health: {stack.url}/_emulator/health   (Ctrl-C to stop)")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.close()
        click.echo("adfemu stopped")


def _provisioned(factory_path: str):
    """The emulator config that a factory's AzureML linked services and activities imply."""
    from adfemu.emulator.config import from_document
    from adfemu.runner.definitions import Definitions, DefinitionsError
    from adfemu.runner.factory import LoadError, load_paths
    from adfemu.runner.provision import emulator_config
    try:
        definitions = Definitions.from_factory(load_paths([factory_path])[0])
    except (LoadError, DefinitionsError) as exc:
        raise click.ClickException(f"cannot provision from {factory_path}: {exc}") from None
    document, notes = emulator_config(definitions)
    for note in notes:
        click.echo(f"provisioned: {note}")
    return from_document(document, f"<provisioned from {factory_path}>")


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True,
              help="One line per problem, one JSON document, or JUnit XML for CI.")
@click.option("--strict", is_flag=True, help="Check against the spec as written (no ADF leniency).")
def validate(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check ADF definitions as ADF's "Validate all" would.

    PATHS are factory folders (ADF git layout; a folder holding several factory roots validates each
    on its own), ARM template exports (ARMTemplateForFactory.json) or single definition files.
    Exit 0 without errors, 1 with errors, 2 when the input cannot be read.
    """
    from adfemu import report
    from adfemu.runner.factory import LoadError, load_paths
    from adfemu.schemas.adf import validate_factory

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
    else:
        click.echo(report.text(findings, info))
    sys.exit(1 if info["errors"] else 0)


@main.command()
@click.argument("factory", nargs=-1, required=True)
@click.option("--pipeline", "pipeline_name", required=True, help="The pipeline to run.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A pipeline parameter (repeatable).")
@click.option("--output", "output", type=click.Path(dir_okay=False), help="Write the run record (JSON) here.")
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
def run(factory, pipeline_name, params, output, config_path, emulator_url, storage, https, ca_bundle, secrets_path,
        time_scale, real_time, lenient, stubs_path):
    """Run an ADF pipeline offline against the emulated services.

    Exit 0 when the pipeline run Succeeded, 1 when it Failed, 2 for invalid input.
    """
    import json

    from adfemu import console
    from adfemu.session import session
    from adfemu.runner.definitions import Definitions, DefinitionsError
    from adfemu.runner.factory import LoadError, load_paths

    def invalid(message: str) -> None:
        click.echo(f"adfemu run: {message}", err=True)
        sys.exit(2)

    try:
        factories = load_paths(list(factory))
        definitions = Definitions.from_factory(factories[0])
    except LoadError as exc:
        invalid(str(exc))
    except DefinitionsError as exc:
        for finding in exc.findings:
            click.echo(f"{finding.source}: {finding.pointer}: {finding.code}: {finding.message}", err=True)
        invalid(str(exc))
    values = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            invalid(f"--param '{item}' is not NAME=VALUE")
        values[name] = value
    vaults = {}
    if secrets_path:
        try:
            with open(secrets_path, encoding="utf-8") as handle:
                vaults = json.load(handle)
        except (OSError, ValueError) as exc:
            invalid(f"cannot read the secrets file {secrets_path}: {type(exc).__name__}")
    stubs = {}
    if stubs_path:
        from adfemu.runner.stubs import StubError, load_stubs
        try:
            stubs = load_stubs(stubs_path)
        except StubError as exc:
            invalid(str(exc))
    console.warnings(definitions.warnings)
    if lenient:
        click.echo("--lenient: BES blob names without a file extension are accepted (the real service refuses them)")
    notes: list[str] = []
    try:
        with session(definitions, config_path=config_path, emulator_url=emulator_url, storage=storage,
                     time_scale=1.0 if real_time else time_scale, vaults=vaults, lenient=lenient,
                     https=https, ca_bundle=ca_bundle, notes=notes, stubs=stubs) as active:
            for note in notes:
                click.echo(f"provisioned: {note}")
            record = active.engine.run(pipeline_name, values)
    except (DefinitionsError, ValueError) as exc:
        invalid(str(exc))
    console.summary(record)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            json.dump(record.document(), handle, indent=2)
    sys.exit(0 if record.status == "Succeeded" else 1)


if __name__ == "__main__":
    main()
