"""CI awareness: job summaries, log annotations, output groups, GitLab reports, provenance.

Everything here reads the environment a CI runner sets and nothing else
(research/ecosystem-reliability.md §1.3–§1.5):

- GitHub Actions (`GITHUB_STEP_SUMMARY`): `plan`, `apply`, `status` and `drift` append their
  markdown to the step summary, never past GitHub's 1 MiB per-step cap (cut at a line, with a note);
  errors also become `::error file=…,line=…::` annotations when `GITHUB_ACTIONS=true`.
- Azure Pipelines (`TF_BUILD`): errors become `##vso[task.logissue type=error;sourcepath=…;
  linenumber=…;columnnumber=…]message`, and long output is folded in `##[group]`/`##[endgroup]`.
- GitLab (`plan --gitlab-report FILE`): the `{"create": N, "update": N, "delete": N}` report
  the merge-request widget reads.
- `ci_system` and `fold_lines`: which runner this is, and output folded in its own collapsible
  group markers (`::group::` on GitHub, `##[group]` on Azure, `section_start` on GitLab).
- `provenance(path, env)`: what apply stamps as `hpcspec.source` (manifest, commit, run URL).

No text from a manifest or the server becomes a log command: it is neutralised first
(`hpcspec.render.neutralise`), and inside a command it is escaped by the runner's own rules.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hpcspec.errors import HpcspecError
from hpcspec.markdown_cut import cut_at_line
from hpcspec.render import neutralise

if TYPE_CHECKING:
    from hpcspec.engine.plan import Plan

STEP_SUMMARY_LIMIT = 1024 * 1024  # bytes per step: GitHub aborts the upload above this
GROUP_LINES = 20  # output longer than this is folded in a group on Azure Pipelines

# GitLab's widget knows three counts; what each hpcspec action means there (docs/ci.md), by
# the action's value: every error report imports this module (`cli.report`), and naming the
# engine's `Action` here would load the plan model for it (start-up, issue 17).
GITLAB_COUNTS: dict[str, tuple[str, ...]] = {
    "create": ("create",),
    "rerun": ("create",),
    "extend": ("create",),
    "replace": ("delete", "create"),
    "update": ("update",),
    "submit": ("update",),
    "requeue": ("update",),
    "cancel": ("delete",),
    "no-op": (),
}


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def on_github(env: Mapping[str, str] | None = None) -> bool:
    return _env(env).get("GITHUB_ACTIONS", "").lower() == "true"


def on_azure(env: Mapping[str, str] | None = None) -> bool:
    return _env(env).get("TF_BUILD", "").lower() == "true"


class CiSystem(Enum):
    """The CI runner hpcspec runs under, as far as its output is concerned."""

    NONE = "none"
    GITHUB = "github"
    AZURE = "azure"
    GITLAB = "gitlab"


def ci_system(env: Mapping[str, str] | None = None) -> CiSystem:
    """Which runner sets this environment (GitHub, Azure Pipelines, GitLab, or none)."""
    if on_github(env):
        return CiSystem.GITHUB
    if on_azure(env):
        return CiSystem.AZURE
    if _env(env).get("GITLAB_CI", "").lower() == "true":
        return CiSystem.GITLAB
    return CiSystem.NONE


def fold_lines(
    title: str, body: Sequence[str], system: CiSystem, *, section: str = "hpcspec"
) -> list[str]:
    """`body` in a collapsed group titled `title`, in `system`'s own markers (none: as is).
    `title` and `body` must be neutralised already; `section` names a GitLab section."""
    match system:
        case CiSystem.GITHUB:
            return [f"::group::{title}", *body, "::endgroup::"]
        case CiSystem.AZURE:
            return [f"##[group]{title}", *body, "##[endgroup]"]
        case CiSystem.GITLAB:
            now = int(time.time())
            start = f"\x1b[0Ksection_start:{now}:{section}[collapsed=true]\r\x1b[0K{title}"
            return [start, *body, f"\x1b[0Ksection_end:{now}:{section}\r\x1b[0K"]
    return [title, *body]


# --- GitHub step summary -------------------------------------------------------------------


def truncated_summary(markdown: str, room: int) -> str:
    """`markdown` cut at a line (its open folds closed) so that it and its note fit in `room`
    UTF-8 bytes."""
    data = markdown.encode("utf-8")
    if len(data) <= room:
        return markdown
    note = (
        "\n\n> **hpcspec:** this summary was cut to stay under GitHub's 1 MiB step-summary "
        f"limit ({len(data)} bytes were written); the job log and the JSON plan have it all.\n"
    )
    head = cut_at_line(markdown, room - len(note.encode("utf-8")), in_bytes=True)
    return head + note if len(note.encode("utf-8")) <= room else ""


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> None:
    """Append to `$GITHUB_STEP_SUMMARY` when set, keeping the file within the 1 MiB cap."""
    target = _env(env).get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    path = Path(target)
    try:
        used = path.stat().st_size if path.exists() else 0
        text = truncated_summary(markdown.rstrip("\n") + "\n\n", STEP_SUMMARY_LIMIT - used)
        if text:
            with path.open("a", encoding="utf-8") as summary:
                summary.write(text)
        else:
            click.echo("hpcspec: warning: the step summary is full; nothing added", err=True)
    except OSError as error:
        click.echo(f"hpcspec: warning: cannot write the step summary: {error}", err=True)


# --- Azure Pipelines and GitHub log commands -----------------------------------------------


def vso_escape(text: str) -> str:
    """Azure Pipelines' escaping for logging-command values and messages."""
    for raw, escaped in (("%", "%AZP25"), (";", "%3B"), ("\r", "%0D"), ("\n", "%0A")):
        text = text.replace(raw, escaped)
    return text.replace("]", "%5D")


def _gh_escape(text: str, *, value: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if value else text


def annotation_lines(error: HpcspecError, env: Mapping[str, str] | None = None) -> list[str]:
    """Log-command lines that make the runner show `error` at its file and line."""
    loc = error.location
    message = neutralise(f"{error.message} [{error.code}]")
    lines: list[str] = []
    if on_azure(env):
        props = [("type", "error")]
        props += [("sourcepath", loc.file)] if loc.file else []
        props += [("linenumber", str(loc.line))] if loc.line else []
        props += [("columnnumber", str(loc.column))] if loc.column else []
        props += [("code", error.code)]
        head = ";".join(f"{k}={vso_escape(neutralise(v))}" for k, v in props)
        lines.append(f"##vso[task.logissue {head}]{vso_escape(message)}")
    if on_github(env):
        where = [("file", loc.file), ("line", loc.line), ("col", loc.column)]
        head = ",".join(f"{k}={_gh_escape(neutralise(str(v)), value=True)}" for k, v in where if v)
        lines.append(f"::error{' ' + head if head else ''}::{_gh_escape(message, value=False)}")
    return lines


def annotate(error: HpcspecError) -> None:
    """Print `error`'s annotations on stderr (nothing outside CI)."""
    for line in annotation_lines(error):
        click.echo(line, err=True)


@contextlib.contextmanager
def group(title: str, lines: int, env: Mapping[str, str] | None = None) -> Iterator[None]:
    """Fold output longer than GROUP_LINES in a collapsible group on Azure Pipelines."""
    if not on_azure(env) or lines <= GROUP_LINES:
        yield
        return
    click.echo(f"##[group]{neutralise(title)}")
    try:
        yield
    finally:
        click.echo("##[endgroup]")


# --- GitLab -------------------------------------------------------------------------------


def gitlab_counts(plans: Sequence[Plan]) -> dict[str, int]:
    """GitLab's terraform report: how many jobs are created, updated and deleted."""
    counts = {"create": 0, "update": 0, "delete": 0}
    for plan in plans:
        for change in plan.changes:
            if change.blocks:
                continue
            for name in GITLAB_COUNTS[change.action.value]:
                counts[name] += 1
            counts["delete"] += len(change.duplicates)
    return counts


def write_gitlab_report(plans: Sequence[Plan], path: Path) -> None:
    path.write_text(json.dumps(gitlab_counts(plans)) + "\n", encoding="utf-8")


# --- Provenance ---------------------------------------------------------------------------


def run_url(env: Mapping[str, str]) -> str | None:
    """The URL of this pipeline run (GitHub Actions, Azure Pipelines or GitLab), if any."""
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    if env.get("BUILD_BUILDID") and env.get("SYSTEM_COLLECTIONURI"):
        project = env.get("SYSTEM_TEAMPROJECT", "")
        return (
            f"{env['SYSTEM_COLLECTIONURI']}{project}/_build/results?buildId={env['BUILD_BUILDID']}"
        )
    return env.get("CI_PIPELINE_URL") or None


def _git(directory: Path, *args: str) -> str | None:
    import subprocess  # only provenance runs git: an error report starts faster without it

    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def provenance(manifest_path: str | Path, env: Mapping[str, str]) -> str:
    """`path@commit run-url`: the manifest (relative to its repository), commit and run."""
    path = Path(manifest_path)
    directory = path.resolve().parent
    shown = str(manifest_path)
    commit = _git(directory, "rev-parse", "HEAD")
    if commit:
        top = _git(directory, "rev-parse", "--show-toplevel")
        with contextlib.suppress(ValueError):
            shown = path.resolve().relative_to(Path(top or "/").resolve()).as_posix()
        shown += f"@{commit}"
    url = run_url(env)
    return f"{shown} {url}" if url else shown


def plan_lines(plans: Sequence[Plan]) -> int:
    """About how many lines the text plans take (to decide whether to fold them)."""
    return sum(1 + len(c.reasons) + len(c.diffs) for p in plans for c in p.changes)
