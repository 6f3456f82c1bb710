"""The docs stand alone: what users read cites nothing outside this repository, and every
relative link in README, CHANGELOG and docs/ leads to a file (and heading) that exists.

User-facing means README.md, CHANGELOG.md, docs/, examples/, schemas/, the CI integrations
(action.yml, templates/, ci/, .pre-commit-hooks.yaml) and every command's `--help`. Code
comments and tests may cite the project's design notes and the HPC Pack reference files
kept beside the repository (developers have them); users do not, so the docs give the fact
itself or a public source (a Microsoft docs page, a public GitHub repository).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from hpcspec.cli import cli

ROOT = Path(__file__).parents[1]
PAGES = [
    "README.md",
    "CHANGELOG.md",
    *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")),
]
USER_FILES = sorted(
    {
        *PAGES,
        "action.yml",
        ".pre-commit-hooks.yaml",
        *(
            str(path.relative_to(ROOT))
            for folder in ("examples", "schemas", "templates", "ci")
            for path in (ROOT / folder).rglob("*")
            if path.is_file()
        ),
    }
)

# Files the project keeps beside the repository (../shared): design notes, research notes and
# the HPC Pack reference data. Naming them in user-facing text sends users nowhere.
OUTSIDE = {
    "the design notes": r"\b(?:DESIGN|STYLE)\.md\b",
    "the shared folder": r"\.\./shared\b|(?<![\w.-])shared/(?:reference|research)",
    "the HPC Pack reference folder": r"\breference/hpcpack|\bhpcpack-rest-api-2016\.md\b"
    r"|\b(?:msdocs|sdk-xmldoc|job-xml-examples)/|`sdk-xmldoc`|\bopenapi/hpcpack",
    "a derived reference table": r"\bderived/[\w-]+\.json\b",
    "the research notes": r"\bresearch/[\w-]+\.md\b|(?i:\bground[- ]truth\s*§)"
    r"|\b(?:hpcpack-ground-truth|ecosystem-reliability|feature-anchors|aesthetics-anchors)\b",
    "an HPC Pack reference file": r"\b(?:error-codes|property-ids|job-modify-rules|"
    r"job-xml-import-export|parametric-sweep-vectors)\.json\b|\.wellformed\.xsd\b"
    r"|\bhpcpack-rest-20\w+\.(?:json|yaml)\b|\bLICENSE\.(?:hpcpack|Telepathy|MicrosoftDocs)",
    "a development machine's path": r"(?<![\w.:/])/work/",
}
FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
PARENT_PATH = re.compile(r"(?<![\w./-])((?:\.\./)+[\w./-]*)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
EXTERNAL = ("http://", "https://", "mailto:")


def citations(text: str) -> list[str]:
    """What in `text` names a file outside the repository (one phrase per hit)."""
    return [
        f"{what}: {hit.group(0)!r}"
        for what, pattern in OUTSIDE.items()
        for hit in re.finditer(pattern, text)
    ]


def prose(markdown: str) -> str:
    """A page without its fenced blocks (examples there are relative to their own files)."""
    return FENCE.sub("", markdown)


def links(markdown: str) -> list[str]:
    """Every link target of a page: inline links, images, reference definitions."""
    text = CODE_SPAN.sub("", prose(markdown))
    return [m.group(1) for m in INLINE_LINK.finditer(text)] + REFERENCE_LINK.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors a page offers: its headings (GitHub numbers repeats) and HTML anchors."""
    found: set[str] = set(HTML_ANCHOR.findall(markdown))
    seen: dict[str, int] = {}
    for heading in HEADING.findall(prose(markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken(page: str, target: str) -> str | None:
    """Why a link target of `page` does not resolve inside the repository, or None."""
    if target.startswith(EXTERNAL):
        return None
    path_part, _, fragment = target.partition("#")
    source = ROOT / page
    destination = (source.parent / path_part).resolve() if path_part else source
    if not destination.is_relative_to(ROOT):
        return f"{target}: outside the repository"
    if not destination.exists():
        return f"{target}: no such file"
    if not fragment or destination.suffix != ".md":
        return None
    if fragment not in anchors(destination.read_text(encoding="utf-8")):
        return f"{target}: no heading #{fragment} in {destination.relative_to(ROOT)}"
    return None


def help_texts() -> Iterator[tuple[str, str]]:
    """Every command's `--help`, by command path."""

    def walk(command: click.Command, ctx: click.Context) -> Iterator[tuple[str, str]]:
        yield ctx.command_path, command.get_help(ctx)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))

    # the group's own settings (-h): click caches each command's help option on first use,
    # so a walk without them would change what docs/cli.md's generator sees afterwards
    yield from walk(cli, click.Context(cli, info_name="hpcspec", **cli.context_settings))


# --- the checks themselves ------------------------------------------------------------------


def test_citations_catch_design_notes_shared_reference_and_research_paths() -> None:
    text = (
        "per DESIGN.md §3, `../shared/reference/hpcpack/derived/error-codes.json`, "
        "`reference/hpcpack-rest-api-2016.md`, research/hpcpack-ground-truth.md, Ground truth §2, "
        "`job-v4.wellformed.xsd` and /work/venv/bin/pytest"
    )
    kinds = {hit.split(":")[0] for hit in citations(text)}
    assert kinds == set(OUTSIDE)
    assert citations("docs/emulator.md, the emulator's ground truth, schemas/x.json") == []


def test_links_skip_code_and_broken_names_missing_files_headings_and_escapes() -> None:
    page = "[a](docs/apply.md#racing-appliers) `[b](nowhere.md)` [c][r]\n\n[r]: docs/cli.md\n"
    page += "```md\n[d](missing.md)\n```\n![e](schemas/hpcspec-v1.schema.json)\n"
    assert links(page) == [
        "docs/apply.md#racing-appliers",
        "schemas/hpcspec-v1.schema.json",
        "docs/cli.md",
    ]
    assert broken("README.md", "docs/apply.md#racing-appliers") is None
    assert "no such file" in str(broken("README.md", "docs/nowhere.md"))
    assert "no heading #nope" in str(broken("README.md", "docs/apply.md#nope"))
    assert "outside the repository" in str(broken("docs/apply.md", "../../shared/DESIGN.md"))


def test_slug_matches_githubs_anchors() -> None:
    assert slug("Decisions where the ground truth is silent") == (
        "decisions-where-the-ground-truth-is-silent"
    )
    assert slug("TLS, proxies and plain `http://`") == "tls-proxies-and-plain-http"
    assert anchors("# A\n## A\n") == {"a", "a-1"}


@pytest.mark.parametrize("name", USER_FILES)
def test_user_facing_file_cites_nothing_outside_the_repository(name: str) -> None:
    path = ROOT / name
    text = path.read_text(encoding="utf-8")
    found = citations(text)
    assert not found, "\n".join(found)
    checked = prose(text) if path.suffix == ".md" else text
    for hit in PARENT_PATH.findall(checked):
        assert (path.parent / hit).resolve().is_relative_to(ROOT), f"{name}: {hit}"


@pytest.mark.parametrize("page", PAGES)
def test_every_relative_link_resolves_to_a_file_and_heading_in_the_repository(page: str) -> None:
    problems = [
        why for target in links((ROOT / page).read_text("utf-8")) if (why := broken(page, target))
    ]
    assert not problems, "\n".join(problems)


def test_help_texts_cite_nothing_outside_and_name_docs_that_exist() -> None:
    texts = dict(help_texts())
    assert {"hpcspec", "hpcspec apply", "hpcspec local down"} <= set(texts)
    for command, text in texts.items():
        assert citations(text) == [], command
        for doc in re.findall(r"\bdocs/[\w-]+\.md\b", text):
            assert (ROOT / doc).is_file(), f"{command}: {doc}"
