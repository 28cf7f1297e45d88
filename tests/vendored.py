"""Where the vendored public data lives (vendor/, see its README) and how tests load the repository's tools."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "vendor"


def load_tool(name: str) -> ModuleType:
    """A module of tools/ (not part of the installed package)."""
    qualified = f"adfemu_tools_{name}"
    if qualified not in sys.modules:  # dataclasses look their module up there
        spec = importlib.util.spec_from_file_location(qualified, ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        spec.loader.exec_module(module)
    return sys.modules[qualified]
