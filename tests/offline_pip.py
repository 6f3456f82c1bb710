"""Offline pip for tests that run real install lines (README, getting-started, action.yml).

pip installs the project for real, but what it would download is taken from this suite's own
environment: its packages, minus hpcspec and pip, are linked into one directory that goes on
PYTHONPATH, and pip runs with no index and no build isolation (so the `test` extra brings
`setuptools>=77`, the build backend). A wrong venv or pip command or a broken build
configuration therefore still fails; whether the dependencies download from an index is
`.ci/run`'s job (it installs the wheel into a clean virtual environment).
"""

from __future__ import annotations

import os
import re
import sysconfig
from importlib.metadata import version
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def suite_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This suite's installed packages except hpcspec (and pip): what pip would download."""
    backend = tuple(int(part) for part in version("setuptools").split(".")[:2])
    assert backend >= (77, 0), "pip install -e '.[test]': the test extra brings setuptools>=77"
    view = tmp_path_factory.mktemp("site-packages")
    paths = sysconfig.get_paths()
    for directory in {Path(paths["purelib"]), Path(paths["platlib"])}:
        for entry in directory.iterdir():
            name = entry.name.lower()
            own = name.startswith(("hpcspec", "__editable__")) or re.fullmatch(
                r"pip(-[\d.]+\.dist-info)?", name
            )
            if own or name.endswith(".pth") or name == "__pycache__":
                continue
            if not (view / entry.name).exists():
                (view / entry.name).symlink_to(entry)
    return view


def offline_pip_env(packages: Path) -> dict[str, str]:
    """Environment variables that make `pip install` take its dependencies from `packages`."""
    return {
        "PYTHONPATH": str(packages),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's negative flag: "0" turns build isolation off
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
