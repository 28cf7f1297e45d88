"""A loaded factory: its definitions (validated, ADF's leniency applied), what it needs from the emulated
Azure side (web services, storage accounts) and what the harness needs to run it."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence, Union

from adfemu.runner.definitions import Definitions, DefinitionsError
from adfemu.runner.factory import LoadError, load_paths
from adfemu.runner.provision import emulator_config, storage_account_names, storage_accounts

from ._errors import FactoryError

PathLike = Union[str, "os.PathLike[str]"]
DEV_ACCOUNT = "devstoreaccount1"


@dataclass(eq=False)
class Factory:
    """A factory as adfemu runs it. Make one with ``adfemu.load(path)``."""

    path: Path
    definitions: Definitions = field(repr=False)
    secrets: dict = field(default_factory=dict, repr=False)  # Key Vault secrets used to resolve keys

    @property
    def name(self) -> str:
        return self.definitions.factory_name

    @property
    def pipelines(self) -> list[str]:
        return sorted(doc["name"] for doc in self.definitions.pipelines.values())

    @property
    def warnings(self) -> list[str]:
        """Validation warnings, one line each (what ADF accepts but you may want to fix)."""
        return [f"{f.source}: {f.pointer or '/'}: {f.code}: {f.message}" for f in self.definitions.warnings]

    def storage_accounts(self) -> dict[str, str]:
        """Account name -> key, for every account the factory's storage linked services name (not the dev one)."""
        return storage_accounts(self.definitions, self.secrets)

    def storage_account(self) -> str:
        """The one storage account test data goes to: the only one the factory names (the dev account when it
        names none). Raises ``FactoryError`` when it names several."""
        names = storage_account_names(self.definitions, self.secrets)
        if len(names) > 1:
            raise FactoryError(f"factory {self.path} names several storage accounts ({', '.join(names)}): say "
                               "which one (--data ACCOUNT=DIR, or account= in Python)")
        return names[0] if names else DEV_ACCOUNT

    def emulator_config(self, lenient: bool = False) -> tuple[dict, list[str]]:
        """The emulator config this factory implies (zero-config provisioning) and what it assumed."""
        return emulator_config(self.definitions, self.secrets, lenient)

    def linked_service(self, name: str) -> dict[str, Any]:
        try:
            return self.definitions.linked_service(name)
        except DefinitionsError as exc:
            raise FactoryError(f"{self.path}: {exc}") from None


def load(path: PathLike | Sequence[PathLike], *, secrets: dict | None = None) -> Factory:
    """Load and validate a factory: a folder in ADF git layout, an ARM template export, or definition files
    (a list of paths). Relative paths are taken from the current working directory. ``secrets`` answers Key
    Vault references (``{"<vault>": {"<secret>": "<value>"}}``). Raises ``FactoryError`` with each problem."""
    paths = [os.fspath(p) for p in path] if isinstance(path, (list, tuple)) else [os.fspath(path)]
    try:
        loaded = load_paths(paths)
    except LoadError as exc:
        raise FactoryError(str(exc)) from None
    if len(loaded) > 1:
        roots = ", ".join(str(f.root) for f in loaded[:4])
        raise FactoryError(f"{paths[0]} holds {len(loaded)} factories ({roots}…): give one factory folder")
    try:
        definitions = Definitions.from_factory(loaded[0])
    except DefinitionsError as exc:
        problems = [f"{f.source}: {f.pointer or '/'}: {f.code}: {f.message}" for f in exc.findings]
        shown = f": {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "") \
            if problems else ""
        raise FactoryError(f"{paths[0]}: {exc}{shown}", problems) from None
    return Factory(Path(paths[0]).resolve(), definitions, dict(secrets or {}))
