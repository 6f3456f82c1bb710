"""hpcspec answers pydantic's plugin lookup itself only when no plugin is installed.

`cli/pydantic_plugins.py` spares `validate` the import of `importlib.metadata` (issue 17).
These tests hold its promise: where it answers "none", `importlib.metadata` finds none too,
and where a pydantic plugin is installed, pydantic loads it and it sees hpcspec's models.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pydantic
import pytest

from hpcspec.cli import pydantic_plugins

ROOT = Path(__file__).parents[1]
RECORDER = """
import os


class Recorder:
    def new_schema_validator(self, schema, schema_type, path, kind, config, settings):
        with open(os.environ["PLUGIN_RECORD"], "a") as record:
            record.write(path.name + "\\n")
        return None, None, None


plugin = Recorder()
"""


def _distribution(
    site: Path, name: str, entry_points: str | None, suffix: str = "dist-info"
) -> None:
    info = site / f"{name}-1.0.{suffix}"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def _importlib_finds_plugins(site: Path) -> bool:
    """The reference answer: what pydantic's own loader would find on this path."""
    return any(
        entry.group == "pydantic"
        for dist in importlib.metadata.distributions(path=[str(site)])
        for entry in dist.entry_points
    )


@pytest.mark.parametrize(
    ("layout", "declared"),
    [
        ({}, False),
        ({"tool": None}, False),
        ({"tool": "[console_scripts]\ntool = tool:main\n"}, False),
        ({"tool": "[console_scripts]\npydantic = tool:main\n"}, False),  # a script named so
        ({"logfire": "[pydantic]\nlogfire = logfire.integrations.pydantic:plugin\n"}, True),
        ({"a": "[x]\ny = z:w\n", "b": "  [pydantic]  \nrec = rec:plugin\n"}, True),
    ],
)
def test_a_plugin_is_declared_exactly_when_importlib_metadata_finds_one(
    tmp_path: Path, layout: dict[str, str | None], declared: bool
) -> None:
    for name, entry_points in layout.items():
        _distribution(tmp_path, name, entry_points)
    assert pydantic_plugins._may_declare_plugins([str(tmp_path)]) is declared
    assert _importlib_finds_plugins(tmp_path) is declared


def test_an_egg_info_plugin_counts_as_declared(tmp_path: Path) -> None:
    _distribution(tmp_path, "old", "[pydantic]\nold = old:plugin\n", suffix="egg-info")
    assert _importlib_finds_plugins(tmp_path)
    assert pydantic_plugins._may_declare_plugins([str(tmp_path)])


def test_a_missing_path_entry_declares_nothing_and_a_zip_is_left_to_importlib(
    tmp_path: Path,
) -> None:
    assert not pydantic_plugins._may_declare_plugins([str(tmp_path / "absent.zip")])
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("plugin-1.0.dist-info/entry_points.txt", "[pydantic]\np = p:plugin\n")
    assert pydantic_plugins._may_declare_plugins([str(archive)])  # hands over, never guesses


def _validate_quickstart(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    script = (
        "import json, sys\n"
        "from hpcspec.cli import main\n"
        "try:\n"
        "    main(['validate', 'examples/quickstart.yaml'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env
    )
    return done, set(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))


def test_an_installed_pydantic_plugin_still_sees_every_manifest_model(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _distribution(site, "recorder", "[pydantic]\nrecorder = recorder_plugin:plugin\n")
    (site / "recorder_plugin.py").write_text(RECORDER)
    record = tmp_path / "record.txt"
    env = {**os.environ, "PYTHONPATH": str(site), "PLUGIN_RECORD": str(record)}
    done, modules = _validate_quickstart(env)
    assert "valid (stack quickstart" in done.stdout, done.stderr
    assert {"Manifest", "Job", "Task"} <= set(record.read_text().split())
    assert "importlib.metadata" in modules  # pydantic's own loader found it


def test_without_plugins_validate_never_imports_importlib_metadata() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done, modules = _validate_quickstart(env)
    assert "valid (stack quickstart" in done.stdout, done.stderr
    assert "importlib.metadata" not in modules
    assert "pydantic.plugin._loader" in modules  # the stand-in answered pydantic


def test_pydantic_asks_the_loader_only_for_get_plugins() -> None:
    # The stand-in answers `get_plugins` and hands any other name to pydantic's module; this
    # pins where pydantic asks, so a pydantic release that asks differently fails here first.
    source = Path(pydantic.__file__ or "").parent / "plugin" / "_schema_validator.py"
    assert "from ._loader import get_plugins" in source.read_text()
