"""pydantic's plugin lookup, answered without `importlib.metadata` when no plugin is installed.

`install()` runs at the start of the `hpcspec` process (`cli.main`), before any model is built;
it changes nothing outside that process. pydantic looks for plugins (entry points of the group
`pydantic`) the first time it builds a validator, in `pydantic.plugin._loader`, whose import
of `importlib.metadata` (email, zipfile, csv, socket, ...) was a tenth of `hpcspec validate`'s
start-up (issue 17). The loader put in its place reads the files `importlib.metadata` would,
the `entry_points.txt` of each distribution on `sys.path`. Only when none declares the group
does it answer "no plugins" itself, which is what pydantic's own loader would answer. When a
distribution declares a pydantic plugin, or the environment is one this reading cannot be sure
of (a zip file on `sys.path`, another finder of distributions), it hands over to pydantic's
loader, which finds and loads the plugins as always. docs/performance.md (*Start-up*).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import types
from collections.abc import Iterable
from typing import Any

LOADER = "pydantic.plugin._loader"
GROUP = "pydantic"


def install() -> None:
    """Put `_no_plugins_loader()` in pydantic's place, unless pydantic's loader is loaded."""
    if LOADER not in sys.modules:
        sys.modules[LOADER] = _no_plugins_loader()


def _may_declare_plugins(path: Iterable[str]) -> bool:
    """Whether a distribution on `path` declares a pydantic plugin, or this cannot be known."""
    finders = [f for f in sys.meta_path if hasattr(f, "find_distributions")]
    if finders != [importlib.machinery.PathFinder]:
        return True  # someone else also lists distributions: let importlib.metadata ask them
    for root in path:
        try:
            children = os.listdir(root or ".")
        except OSError:
            if os.path.exists(root or "."):
                return True  # a zip file (or unreadable folder): importlib.metadata reads those
            continue  # nothing there: importlib.metadata finds nothing either
        except (TypeError, ValueError):
            return True  # not a path this reading understands
        for child in children:
            low = child.lower()
            info = low.endswith((".dist-info", ".egg-info")) or low == "egg-info"
            if info and _declares_group(os.path.join(root or ".", child, "entry_points.txt")):
                return True
    return False


def _declares_group(entry_points_txt: str) -> bool:
    """Whether an `entry_points.txt` has a `[pydantic]` section, read as importlib.metadata does."""
    try:
        with open(entry_points_txt, encoding="utf-8") as file:
            text = file.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return False  # importlib.metadata treats these as "no entry points" too
    except (OSError, ValueError):
        return True  # unreadable in a way importlib.metadata would not shrug off: let it look
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]") and line.strip("[]") == GROUP:
            return True
    return False


def _no_plugins_loader() -> types.ModuleType:
    """A stand-in for `pydantic.plugin._loader` that answers "none" when none is installed.

    Its `get_plugins()` reads the entry points once, when pydantic first asks (so a command
    that builds no model pays nothing). Should a plugin be declared, it hands over to the real
    module, as it does for any other name pydantic asks it for.
    """
    module = types.ModuleType(LOADER, "pydantic's plugin loader, until a plugin is declared.")
    declared: list[bool] = []

    def real(name: str) -> Any:
        if name.startswith("__"):  # the import system's questions (`__path__`, ...)
            raise AttributeError(name)
        if sys.modules.get(LOADER) is module:
            del sys.modules[LOADER]
        return getattr(importlib.import_module(LOADER), name)

    def get_plugins() -> Any:
        if not declared:
            declared.append(_may_declare_plugins(sys.path))
        return real("get_plugins")() if declared[0] else ()

    module.get_plugins = get_plugins  # type: ignore[attr-defined]
    module.__getattr__ = real  # type: ignore[method-assign]
    return module
