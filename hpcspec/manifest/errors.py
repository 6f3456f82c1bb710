"""Manifest errors: each names the file, line, column and key path, and what was expected."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from hpcspec.errors import HpcspecError, Location

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """`jobs.mesh.tasks.solve.sweep.end` / `jobs.mesh.tasks.prep.dependsOn[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A close match for a misspelled name, compared case-insensitively."""
    options = list(candidates)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    import difflib  # only a misspelling needs it: a valid manifest starts without (issue 17)

    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


class ManifestError(HpcspecError):
    """One problem in a manifest, at one place."""

    def __init__(
        self,
        message: str,
        *,
        path: KeyPath = (),
        code: str = "invalid-manifest",
        hint: str | None = None,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(
            message=message,
            code=code,
            hint=hint,
            location=Location(file, line, column, format_path(path) or None),
        )
        self.key_path = path


class InvalidManifest(HpcspecError):
    """A manifest with one or more problems; `problems` holds each located error."""

    def __init__(self, problems: Sequence[ManifestError]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            message=first.message + more,
            code=first.code,
            location=first.location,
        )
        self.problems = tuple(problems)

    def render(self) -> str:
        return "\n".join(
            p.render() + (f"\n  hint: {p.hint}" if p.hint else "") for p in self.problems
        )


def undeclared_variable(
    name: str, declared: Mapping[str, object], built_in: bool, origin: str = "--var"
) -> ManifestError:
    """`--var NAME=…` (or a `--var-file` entry: `origin` says which) for a variable the
    manifest does not declare (or a built-in one)."""
    given = f"--var {name}" if origin == "--var" else f"{origin}: {name}"
    if built_in:
        problem = f"{given}: ${{{name}}} is built in and cannot be overridden"
        hint = None
    else:
        problem = f"{given}: the manifest declares no variable {name!r} under vars:"
        guess = did_you_mean(name, declared)
        hint = (
            f"did you mean {guess!r}?"
            if guess
            else "declare it under vars: with a default value (declared: "
            f"{', '.join(declared) or 'none'})"
        )
    path: KeyPath = ("vars",) if declared else ()
    return ManifestError(problem, path=path, code="undeclared-variable", hint=hint)


def missing_dependency(
    target: str, known: Mapping[str, object], path: KeyPath, what: str
) -> ManifestError:
    """`dependsOn` naming a job (or task) that does not exist, with a guess."""
    guess = did_you_mean(target, known)
    return ManifestError(
        f"dependsOn names {target!r}, which is not a {what} in this "
        f"{'manifest' if what == 'job' else 'job'}",
        path=path,
        code="missing-dependency",
        hint=f"did you mean {guess!r}?" if guess else f"known: {', '.join(known) or 'none'}",
    )
