"""Start-up in parallel: Azurite is spawned first, from the storage accounts a quick look at the factory files
and the config finds, and Python's imports and the factory's validation run while it starts (Azurite takes most
of a second; waiting for it before importing would add the two). The quick look reads connection strings as text;
what it misses is added later by provisioning (an Azurite restart), what it finds in excess costs nothing."""
from __future__ import annotations

import atexit
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

ACCOUNT = re.compile(r"AccountName=([a-z0-9]{3,24});\s*AccountKey=([A-Za-z0-9+/=]{4,})", re.I)
DEV_ACCOUNT = "devstoreaccount1"
MAX_FILES, MAX_BYTES = 2000, 4 * 1024 * 1024


def accounts_hint(factories: Iterable[Any] = (), config: Any = None) -> dict[str, str]:
    """Storage accounts (name -> key) that the factories (paths or loaded ``Factory`` objects) and the config
    file name; the dev account is Azurite's own."""
    found: dict[str, str] = {}
    for factory in factories:
        if hasattr(factory, "storage_accounts"):
            found.update(factory.storage_accounts())
            continue
        for path in _json_files(Path(os.fspath(factory))):
            try:
                text = path.read_text(encoding="utf-8", errors="replace") if path.stat().st_size <= MAX_BYTES else ""
            except OSError:
                continue
            found.update((name, key) for name, key in ACCOUNT.findall(text) if name.lower() != DEV_ACCOUNT)
    if config is not None:
        try:
            document = json.loads(Path(os.fspath(config)).read_text(encoding="utf-8"))
            found.update({a["name"]: a["key"] for a in document.get("storage", {}).get("accounts", [])})
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass  # the real load reports what is wrong with it
    return found


def _json_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = []
    for root, folders, names in os.walk(path):
        folders[:] = [f for f in folders if not f.startswith(".") and f != "node_modules"]
        files += [Path(root, n) for n in names if n.lower().endswith(".json")]
        if len(files) > MAX_FILES:
            break
    return files[:MAX_FILES]


def begin_azurite(factories: Iterable[Any] = (), config: Any = None):
    """An Azurite being started for what the factories and the config name (``emulator.azurite.Starting``); it
    needs only the standard library to get going. The one the ``adfemu`` program began for its command line
    (``begin_early``) is taken instead, by the command it began it for: the only caller in that process."""
    global _early
    if _early is not None:
        starting, _early = _early, None
        return starting
    from adfemu.emulator.azurite import begin
    return begin(accounts_hint(factories, config))


# The ``adfemu`` program starts Azurite before it imports click and the command (0.1 s of its start; Azurite's
# start is the longest part of `adfemu serve` and `adfemu run`), so it reads the few options that matter from the
# command line itself: per command, the options naming the factory and config files, whether the arguments are
# factories, and the options that take no value (so that the others' values are not taken for arguments; a test
# keeps them equal to the click commands'). An option meaning "no Azurite" or anything unexpected: no early start.
@dataclass(frozen=True)
class _Command:
    flags: frozenset[str]
    factory_options: tuple[str, ...]
    factory_arguments: bool


EARLY_COMMANDS = {
    "serve": _Command(frozenset({"--https", "--verbose"}), ("--factory",), False),
    "run": _Command(frozenset({"--https", "--real-time", "--lenient", "--plain", "--quiet"}), (), True),
}
NO_AZURITE = frozenset({"--storage", "--state", "--emulator", "--help"})
_early = None


def early_sources(argv: list[str]) -> tuple[list[str], str | None] | None:
    """(factory paths, config path) of an `adfemu serve` or `adfemu run` command line (without the program) that
    starts Azurite; None for any other."""
    command = EARLY_COMMANDS.get(argv[0]) if argv else None
    if command is None:
        return None
    arguments, options, words = [], {}, iter(argv[1:])
    for word in words:
        if word == "--":
            arguments += words
        elif word.startswith("--"):
            name, equals, value = word.partition("=")
            if name in NO_AZURITE:
                return None
            if name not in command.flags:
                options[name] = value if equals else next(words, None)
        elif word.startswith("-"):
            return None
        else:
            arguments.append(word)
    factories = [options.get(name) for name in command.factory_options if name in options]
    factories += arguments if command.factory_arguments else []
    config = options.get("--config")
    if None in factories or (arguments and not command.factory_arguments) or not (factories or config):
        return None
    return factories, config


def begin_early(argv: list[str]) -> None:
    """Begin the Azurite that this command line will start; one that its command does not take (a usage error
    first) is stopped at exit."""
    global _early
    sources = early_sources(argv)
    if sources is not None:
        _early = begin_azurite(*sources)
        atexit.register(_stop_unclaimed)


def _stop_unclaimed() -> None:
    global _early
    if _early is not None:
        starting, _early = _early, None
        starting.supervisor.stop()
