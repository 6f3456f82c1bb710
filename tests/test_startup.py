"""Start-up cost: `hpcspec --help` imports no command, `validate` imports only what it uses.

The figures live in benchmarks (docs/performance.md); these tests hold the structure that
makes them possible: the command table carries each command's one-line help, and the
validate path never loads the HTTP stack.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hpcspec.cli import COMMANDS, _LazyGroup, cli

ROOT = Path(__file__).parents[1]


def _modules_after(*args: str) -> set[str]:
    """Every module imported by running `hpcspec ARGS` in a fresh interpreter."""
    script = (
        "import json, sys\n"
        "from hpcspec.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False
    )
    line = done.stderr.rsplit("MODULES ", 1)[1]
    return set(json.loads(line))


def test_each_command_summary_is_the_first_line_of_its_help() -> None:
    group = cli
    assert isinstance(group, _LazyGroup)
    for name, entry in COMMANDS.items():
        command = group.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        assert (command.help or "").strip().splitlines()[0] == entry.summary, name


def test_help_imports_no_command_module() -> None:
    modules = _modules_after("--help")
    commands = {entry.target.split(":")[0] for entry in COMMANDS.values()}
    assert not modules & commands
    assert not {"requests", "pydantic", "ruamel.yaml", "lxml"} & modules


@pytest.fixture(scope="module")
def validate_modules() -> set[str]:
    """The modules `hpcspec validate` of the quickstart (a valid manifest) imports."""
    return _modules_after("validate", "examples/quickstart.yaml")


def test_validate_does_not_import_the_http_stack(validate_modules: set[str]) -> None:
    assert "hpcspec.manifest" in validate_modules
    assert "requests" not in validate_modules
    assert "urllib3" not in validate_modules
    assert "hpcspec.hpcpack.transport" not in validate_modules


def test_validate_of_a_valid_manifest_skips_what_only_other_paths_need(
    validate_modules: set[str],
) -> None:
    # The state enums serve the engine and emulator, difflib only a misspelling's hint, and
    # importlib.metadata pydantic's plugin scan when a plugin is installed (cli/pydantic_plugins).
    assert "hpcspec.manifest.models" in validate_modules
    assert "hpcspec.hpcpack.states" not in validate_modules
    assert "difflib" not in validate_modules
    assert "importlib.metadata" not in validate_modules


def test_import_xml_loads_neither_pydantic_nor_the_http_stack(tmp_path: Path) -> None:
    # `import --xml` only writes a manifest (manifest/export.py): validating one is pydantic's
    # job, talking to a cluster the transport's. A 32,000-task import has < 2 s (issue 13).
    job = tmp_path / "job.xml"
    job.write_text('<Job Name="one"><Tasks><Task CommandLine="echo hi"/></Tasks></Job>')
    modules = _modules_after("import", "--xml", str(job))
    assert "hpcspec.manifest.export" in modules
    assert not {"pydantic", "requests", "urllib3", "hpcspec.hpcpack.transport"} & modules
    assert "hpcspec.engine" not in modules
    assert "hpcspec.config" not in modules  # its cluster options are only flags (cluster_flags)


def test_manifest_models_need_no_signature_parsing_or_string_annotations() -> None:
    # Building the models runs at every `validate`: a default_factory with a text signature
    # (`list`) makes pydantic parse it with tokenize (a large regex compiled on first use), and
    # string annotations (`from __future__ import annotations`) are compiled and evaluated.
    from pydantic import BaseModel

    from hpcspec.manifest import models

    classes = [
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
    ]
    assert {"Manifest", "Job", "Task"} <= {model.__name__ for model in classes}
    for model in classes:
        for name, field in model.model_fields.items():
            signature = getattr(field.default_factory, "__text_signature__", None)
            assert signature is None, (model, name, signature)
        assert not any(isinstance(a, str) for a in vars(model).get("__annotations__", {}).values())


def test_an_error_report_loads_neither_the_engine_nor_the_plan_renderers(tmp_path: Path) -> None:
    # Every located error goes through `cli.report` (neutralise, CI annotations): validating a
    # broken manifest should start as fast as validating a good one.
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(
        "apiVersion: hpcspec/v1\nstack: s\njobs:\n  a:\n    tasks:\n"
        "      t: {commandLine: run, dependsOn: [nope]}\n"
    )
    modules = _modules_after("validate", str(manifest))
    assert {"hpcspec.cli.ci", "hpcspec.render.neutralise"} <= modules  # it did report
    assert not {m for m in modules if m.startswith("hpcspec.engine")}
    assert not {"hpcspec.render.text", "hpcspec.render.jsonplan", "subprocess"} & modules
