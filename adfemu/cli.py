"""The ``adfemu`` command: wires the emulator (and later the runner) to the command line."""
from __future__ import annotations

import logging
import signal
import sys
import threading

import click

from emulator.azurite import DEV_ACCOUNT, AzuriteError
from emulator.config import ConfigError, load


@click.group()
@click.version_option(package_name="adfemu")
def main() -> None:
    """Emulate Azure ML Studio (classic) web services and run ADF pipelines against them, offline."""


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="Emulator config (JSON): workspaces, web services, endpoints.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 picks a free one.")
@click.option("--storage", "storage", default=None, metavar="CONNSTR",
              help="Use a running Azurite through this connection string instead of starting one.")
@click.option("--verbose", is_flag=True, help="Log every request (secrets masked).")
def serve(config_path: str, host: str, port: int, storage: str | None, verbose: bool) -> None:
    """Serve the emulated AML web services until Ctrl-C or SIGTERM."""
    from emulator.server import start_stack

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        config = load(config_path)
    except ConfigError as exc:
        raise click.ClickException(f"invalid config:\n{exc}") from None
    try:
        stack = start_stack(config, host, port, storage)
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
        click.echo(f"health: {stack.url}/_emulator/health   (Ctrl-C to stop)")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.close()
        click.echo("adfemu stopped")


if __name__ == "__main__":
    main()
