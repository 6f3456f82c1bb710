"""Load a manifest file: text → YAML data → validated `Manifest` → `ResolvedStack`.

Errors from every stage come back located: YAML errors carry their own marks, and model or
resolver errors carry a key path whose line and column are looked up in the text only then.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from hpcspec.capped_read import FileTooLarge, read_capped_text
from hpcspec.manifest import rules
from hpcspec.manifest.errors import InvalidManifest, KeyPath, ManifestError, did_you_mean
from hpcspec.manifest.models import Manifest
from hpcspec.manifest.resolve import ResolvedStack, resolve
from hpcspec.manifest.source import MAX_BYTES, load_yaml, locate, without_cycle_collection
from hpcspec.manifest.vocabulary import API_VERSION, KEY_PATTERN, SECRET_PATTERN


def read_text(path: Path) -> str:
    """The file's text, refusing unreadable, huge or non-UTF-8 files with a clear error."""
    name = str(path)
    try:
        return read_capped_text(path, MAX_BYTES)
    except FileTooLarge as too_large:
        raise ManifestError(str(too_large), code="file-too-large", file=name) from None
    except FileNotFoundError:
        raise ManifestError("no such file", code="file-not-found", file=name) from None
    except IsADirectoryError:
        raise ManifestError(
            "is a directory, not a manifest file", code="file-not-found", file=name
        ) from None
    except UnicodeDecodeError as bad:
        raise ManifestError(
            f"the file is not UTF-8 text ({bad.reason})", code="not-utf8", file=name
        ) from None
    except OSError as bad:
        raise ManifestError(
            f"cannot read the file: {bad.strerror}", code="file-unreadable", file=name
        ) from None


def parse_manifest(text: str, *, file: str) -> Manifest:
    """Validate manifest text; raises InvalidManifest listing every located problem."""
    with without_cycle_collection():
        return _parse_manifest(text, file=file)


def _parse_manifest(text: str, *, file: str) -> Manifest:
    try:
        data = load_yaml(text, file=file)
    except ManifestError as error:
        raise InvalidManifest([error]) from None
    not_ours = _not_a_manifest(data)
    if not_ours is not None:
        message, path = not_ours
        line, column = locate(text, path) or (1, 1)
        raise InvalidManifest(
            [
                ManifestError(
                    message,
                    path=path,
                    code="not-a-manifest",
                    file=file,
                    line=line,
                    column=column,
                    hint=f"an hpcspec manifest starts with apiVersion: {API_VERSION}, stack: "
                    "and jobs: (docs/manifest.md)",
                )
            ]
        )
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as invalid:
        raise InvalidManifest(_problems(invalid, data, text, file)) from None
    manifest._file = file
    manifest._text = text
    return manifest


def _not_a_manifest(data: Any) -> tuple[str, KeyPath] | None:
    """(message, key path) when the YAML is not an hpcspec v1 manifest at all: one error,
    not one per key that some other tool's file happens to have or lack."""
    if data is None:
        return "not an hpcspec manifest: the file is empty", ()
    if not isinstance(data, dict):
        return f"not an hpcspec manifest: it is a {_kind(data)}, not a mapping", ()
    version = data.get("apiVersion")
    if version is None:
        keys = ", ".join(str(k) for k in list(data)[:6]) + (", ..." if len(data) > 6 else "")
        return f"not an hpcspec manifest: apiVersion is missing (its keys: {keys})", ()
    if version == API_VERSION:
        return None
    if isinstance(version, str) and version.startswith("hpcspec/"):
        return (
            f"unsupported apiVersion {version!r}: this hpcspec reads {API_VERSION}",
            ("apiVersion",),
        )
    return f"not an hpcspec manifest: apiVersion is {version!r}, not {API_VERSION}", ("apiVersion",)


def _kind(data: Any) -> str:
    return "list" if isinstance(data, list) else f"single value ({type(data).__name__})"


def load_manifest(path: Path, vars_override: Mapping[str, str] | None = None) -> Manifest:
    """Read and validate a manifest file (`vars_override` is applied by `resolve`)."""
    try:
        text = read_text(path)
    except ManifestError as error:
        raise InvalidManifest([error]) from None
    return parse_manifest(text, file=str(path))


def resolve_located(
    manifest: Manifest, vars_override: Mapping[str, str] | None = None
) -> ResolvedStack:
    """`resolve`, with any error located in the manifest's text."""
    try:
        with without_cycle_collection():
            return resolve(manifest, source=manifest._file, vars_override=vars_override)
    except ManifestError as error:
        raise InvalidManifest([_located(error, manifest._text, manifest._file)]) from None


def load_and_resolve(path: Path, vars_override: Mapping[str, str] | None = None) -> ResolvedStack:
    """Read, validate and resolve a manifest file."""
    return resolve_located(load_manifest(path), vars_override)


def clock_problems(
    manifest: Manifest, stack: ResolvedStack, now: datetime | None = None
) -> list[ManifestError]:
    """Located errors for rules that depend on the time: a HoldUntil HPC Pack would refuse now.

    Only `hpcspec validate` asks: a job already held or running keeps its HoldUntil, and plan
    or apply of it must not start failing because time passed (rules.py).
    """
    moment = now or datetime.now(UTC)
    out: list[ManifestError] = []
    defaults = manifest.defaults.properties if manifest.defaults else {}
    for key, job in stack.jobs.items():
        value = job.definition.get("HoldUntil")
        problem = rules.hold_until_problem(str(value), moment) if value else None
        if problem is None:
            continue
        written = _key_named("HoldUntil", manifest.jobs[key].properties)
        path = ("jobs", key, "properties", written) if written else ("defaults", "properties")
        if not written:
            path = (*path, _key_named("HoldUntil", defaults) or "HoldUntil")
        error = ManifestError(
            problem,
            path=path,
            code="hold-until-out-of-range",
            hint="set a time within the next year, or remove HoldUntil once the job has started",
        )
        out.append(_located(error, manifest._text, manifest._file))
    return out


def _key_named(name: str, mapping: Mapping[str, object]) -> str | None:
    return next((k for k in mapping if k.lower() == name.lower()), None)


def _located(error: ManifestError, text: str, file: str) -> ManifestError:
    position = locate(text, error.key_path) if text else None
    line, column = position if position else (None, None)
    return ManifestError(
        error.message,
        path=error.key_path,
        code=error.code,
        hint=error.hint,
        file=file,
        line=line,
        column=column,
    )


def _problems(invalid: ValidationError, data: Any, text: str, file: str) -> list[ManifestError]:
    problems: list[ManifestError] = []
    seen: set[KeyPath] = set()
    # A value that fits no branch of a union (an env value: text or {secret: …}) gets one
    # error per branch; the branch's own complaint says more than "expected a valid string".
    for error in sorted(invalid.errors(), key=lambda e: str(e["type"]).endswith("_type")):
        loc = tuple(error["loc"])
        path = _existing_prefix(data, loc)
        kind = error["type"]
        if kind == "extra_forbidden":
            key = str(path[-1])
            allowed = _allowed_keys(path[:-1])
            guess = did_you_mean(key, allowed)
            message = f"unknown key {key!r}"
            hint = (
                f"did you mean {guess!r}?"
                if guess
                else f"expected one of: {', '.join(allowed)}"
                if allowed
                else None
            )
        elif kind == "missing":
            message = (
                f"missing required key {loc[len(path)]!r}"
                if len(loc) > len(path)
                else "a required key is missing"
            )
            hint = None
        else:
            message = _message(error)
            hint = (
                "the stack name is the stack's identity: ${…} variables are not substituted "
                "in it (Terraform's backend settings take none either)"
                if path == ("stack",) and "${" in str(error.get("input", ""))
                else None
            )
        if path in seen:
            continue
        seen.add(path)
        problem = ManifestError(message, path=path, code=_code(kind), hint=hint)
        problems.append(_located(problem, text, file))
    return problems


def _message(error: Any) -> str:
    text = str(error["msg"])
    text = text.removeprefix("Value error, ")
    if error["type"] in ("dict_type", "model_type"):
        return "expected a mapping (key: value)"
    if error["type"] == "list_type":
        return "expected a list"
    if error["type"] == "literal_error":
        return text.replace("Input should be", "expected")
    if error["type"] == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        return f"{error.get('input')!r}: " + _PATTERNS.get(pattern, f"expected text like {pattern}")
    if error["type"] == "too_short":
        least = int(error.get("ctx", {}).get("min_length", 1))
        return (
            f"empty, where at least {least} {'entry is' if least == 1 else 'entries are'} expected"
        )
    return text.replace("Input should be", "expected")


# What each pattern of the models asks for, in words (pydantic would show the regex).
_PATTERNS = {
    KEY_PATTERN: "a name may contain only letters, digits, '_', '.' and '-', and must start "
    "with a letter, digit or '_'",
    SECRET_PATTERN: "a secret comes from env:NAME or file:PATH ({secret: env:NAME})",
}


def _code(kind: str) -> str:
    return {"extra_forbidden": "unknown-key", "missing": "missing-key"}.get(kind, "invalid-value")


def _existing_prefix(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """The longest prefix of `loc` that names real keys (drops pydantic's union tags)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            path.append(part)
            node = node[part]
        else:
            break
    return tuple(path)


def _allowed_keys(path: KeyPath) -> list[str]:
    """The structural keys a mapping at `path` may hold, for did-you-mean."""
    model: type[BaseModel] | None = Manifest
    expect_key = False
    for part in path:
        if model is None:
            return []
        if expect_key:
            expect_key = False
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model, expect_key = _field_model(field.annotation)
    return list(model.model_fields) if model is not None and not expect_key else []


def _field_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds, and whether a mapping key comes first (dict[str, Model])."""
    if get_origin(annotation) is dict:
        value = get_args(annotation)[1]
        return (value, True) if _is_model(value) else (None, False)
    if _is_model(annotation):
        return annotation, False
    for arg in get_args(annotation):
        if _is_model(arg):
            return arg, False
    return None, False


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)
