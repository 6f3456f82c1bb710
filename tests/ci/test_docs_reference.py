"""Generated reference pages are in sync with the code that accepts manifests and options."""

from __future__ import annotations

from pathlib import Path

from hpcspec.cli import COMMANDS
from hpcspec.hpcpack import catalogue
from hpcspec.manifest import reference_page
from hpcspec.manifest.models import Manifest, Task
from tests.ci import cli_reference

DOCS = Path(__file__).parents[2] / "docs"


def test_manifest_reference_is_generated_from_the_current_models() -> None:
    page = (DOCS / "manifest-reference.md").read_text(encoding="utf-8")
    assert page == reference_page.render(), (
        "docs/manifest-reference.md is stale: run "
        "python -m hpcspec.manifest.reference_page > docs/manifest-reference.md"
    )


def test_manifest_reference_names_every_key_and_property() -> None:
    page = reference_page.render()
    for model in (Manifest, Task):
        for name in model.model_fields:
            assert f"| `{name}` |" in page
    for name in [*catalogue.JOB_PROPERTIES, *catalogue.TASK_PROPERTIES]:
        assert f"| `{name}` |" in page
    for name in catalogue.RESERVED_JOB_PROPERTIES:
        assert f"| `{name}` |" in page


def test_cli_reference_is_generated_from_the_current_commands() -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert page == cli_reference.render(), (
        "docs/cli.md is stale: run python -m tests.ci.cli_reference > docs/cli.md"
    )


def test_cli_reference_lists_every_command_and_exit_code() -> None:
    page = cli_reference.render()
    for name in COMMANDS:
        assert f"## `hpcspec {name}`" in page
    for code in range(7):
        assert f"| {code} |" in page
    assert "--detailed-exitcode" in page and "--gitlab-report FILE" in page
