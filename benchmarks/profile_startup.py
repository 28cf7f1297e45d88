"""Profile the two slowest paths, the cold start of ``adfemu run`` (zero-config, the seed) and of ``adfemu serve``
(seed config, until its first answer), with pyinstrument. Not a test: a script, run from a checkout's root.

    .venv/bin/python -m pyinstrument -r text -o run.txt benchmarks/profile_startup.py run
    .venv/bin/python -m pyinstrument -r text -o serve.txt benchmarks/profile_startup.py serve

``serve`` listens on a free port; a probe thread asks ``/_emulator/health`` until it answers, then interrupts the
process (SIGINT), which ends the profile. Only this file is imported before the command starts, so the profile
shows the command's own imports and start-up order. For the checkout before a change, run this same file with
that checkout's Python and working directory.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _interrupt_on_first_answer(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            break
        except OSError:
            time.sleep(0.005)
    os.kill(os.getpid(), signal.SIGINT)


def main(path: str) -> None:
    if path == "serve":
        port = _free_port()
        threading.Thread(target=_interrupt_on_first_answer, args=(f"http://127.0.0.1:{port}/_emulator/health",),
                         daemon=True).start()
        argv = ["serve", "--config", "fixtures/seed-emulator.json", "--port", str(port)]
    else:
        argv = ["run", "fixtures/seed-factory-corrected", "--pipeline", "LookupPipelineDemo", "--data",
                "fixtures/seed-data", "--quiet"]
    from adfemu import _startup  # as the `adfemu` program (adfemu/__main__.py): Azurite first, then the imports
    _startup.begin_early(argv)
    from adfemu.cli import main as cli  # the command's imports are part of the profile
    try:
        cli.main(argv, prog_name="adfemu")
    except (SystemExit, KeyboardInterrupt):
        pass


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "run")
