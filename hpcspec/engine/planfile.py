"""The plan as a versioned JSON document: `--output json`, saved plans, and the plan digest.

One document serves both uses (docs/plan-format.md describes every field): `hpcspec plan
--output json` prints it, `hpcspec plan --out plan.json` saves it with an `extra` envelope, and
`hpcspec apply plan.json` loads it back into the same `Plan`, whose changes record what they
saw (job id, State, ChangeTime, digests, a Configuring job's content); `plan_binding.check_saved`
refuses (per job, with a `stale-plan` block) any change whose manifest digest or live job id,
State, ChangeTime or content moved since. `save_plan` overwrites only a saved plan's file.

Versioning copies Terraform's JSON format: `format_version` "MAJOR.MINOR"; a minor version only
adds fields (readers ignore fields they do not know), a major version is incompatible and is
refused with a clear error. Secrets never appear: the plan types cannot hold one, and a
sensitive diff is written as `"(sensitive)"` whatever it carries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from hpcspec.capped_read import FileTooLarge, read_capped_text
from hpcspec.engine.plan import (
    Action,
    Block,
    BlockCode,
    Change,
    DiffSection,
    Extension,
    FailedOnly,
    FieldDiff,
    Plan,
    Reason,
    ReasonCode,
    Unmet,
)
from hpcspec.errors import HpcspecError
from hpcspec.strict_json import StrictJsonError, loads_strict
from hpcspec.whole_write import replace_file

FORMAT_VERSION = "1.3"
_MAJOR = 1
MAX_PLAN_BYTES = 100 * 1024 * 1024  # 5 manifests: a plan shows changed fields twice
SENSITIVE = "(sensitive)"

# Terraform's `change.actions` vocabulary, so policy tools can scan for "delete".
TERRAFORM_ACTIONS: dict[Action, tuple[str, ...]] = {
    Action.CREATE: ("create",),
    Action.UPDATE: ("update",),
    Action.SUBMIT: ("update",),  # the same job, changed in place (Configuring → Submitted)
    Action.REPLACE: ("delete", "create"),  # cancel the live job, create a new one
    Action.RERUN: ("create",),  # a new run next to the ended job, which stays
    Action.EXTEND: ("create",),  # a new job of the new points; the finished job stays
    Action.REQUEUE: ("update",),  # the same job id runs again
    Action.CANCEL: ("delete",),  # HPC Pack has no delete; cancel is the destroy
    Action.NO_OP: ("no-op",),
}


class PlanFileError(HpcspecError):
    """A saved plan cannot be read: missing, not a plan, a newer format, or edited."""


class _Doc(BaseModel):
    # Unknown fields are a later minor version's additions: ignore them.
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class _ReasonDoc(_Doc):
    code: ReasonCode
    message: str


class _BlockDoc(_Doc):
    code: BlockCode
    message: str
    hint: str = ""


class _DiffDoc(_Doc):
    section: DiffSection
    name: str
    before: str | None
    after: str | None
    sensitive: bool = False
    allowed_now: bool = True
    literal: bool = False


class _ChangeDoc(_Doc):
    key: str
    action: Action
    reasons: list[_ReasonDoc] = []
    diffs: list[_DiffDoc] = []
    blocks: list[_BlockDoc] = []
    live_id: int | None = None
    live_state: str | None = None
    live_change_time: str | None = None
    live_digest: str | None = None
    desired_digest: str | None = None
    running_tasks: int = 0
    duplicates: list[int] = []
    failed_only: FailedOnly | None = None  # frozen dataclasses: pydantic validates them
    unmet: Unmet | None = None
    moved_from: str | None = None
    extension: Extension | None = None
    live_content: str | None = None


class _PlanDoc(_Doc):
    format_version: str
    plan_digest: str
    stack: str
    cluster: str
    source: str = ""
    insecure: bool = False
    notes: list[str] = []
    changes: list[_ChangeDoc]
    extra: dict[str, Any] = {}


def _masked(value: str | None, sensitive: bool) -> str | None:
    if value is None or not sensitive:
        return value
    return SENSITIVE


def _diff(diff: FieldDiff) -> dict[str, object]:
    return {
        "section": diff.section,
        "name": diff.name,
        "before": _masked(diff.before, diff.sensitive),
        "after": _masked(diff.after, diff.sensitive),
        "sensitive": diff.sensitive,
        "allowed_now": diff.allowed_now,
        "literal": diff.literal,
    }


def _change(change: Change) -> dict[str, object]:
    return {
        "key": change.key,
        "action": change.action.value,
        "actions": list(TERRAFORM_ACTIONS[change.action]),
        "reasons": [{"code": r.code, "message": r.message} for r in change.reasons],
        "diffs": [_diff(d) for d in change.diffs],
        "blocks": [{"code": b.code, "message": b.message, "hint": b.hint} for b in change.blocks],
        "live_id": change.live_id,
        "live_state": change.live_state,
        "live_change_time": change.live_change_time,
        "live_digest": change.live_digest,
        "desired_digest": change.desired_digest,
        "running_tasks": change.running_tasks,
        "duplicates": list(change.duplicates),
        "failed_only": _failed_only(change.failed_only),
        "unmet": change.unmet,
        "moved_from": change.moved_from,
        "extension": _extension(change.extension),
        "live_content": change.live_content,
    }


def _extension(ext: Extension | None) -> dict[str, object] | None:
    return None if ext is None else {**asdict(ext), "starts": [list(s) for s in ext.starts]}


def _failed_only(only: FailedOnly | None) -> dict[str, object] | None:
    return None if only is None else asdict(only)


def plan_document(plan: Plan) -> dict[str, object]:
    """The plan as JSON data (format_version 1.0); changes keep the plan's order."""
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "plan_digest": plan_digest(plan),
        "stack": plan.stack,
        "cluster": plan.cluster,
        "source": plan.source,
        "insecure": plan.insecure,
        "notes": list(plan.notes),
        "has_changes": plan.has_changes,
        "matches": plan.matches,
        "blocked": plan.blocked,
        "summary": {a.value: counts[a] for a in Action},
        "changes": [_change(c) for c in plan.changes],
    }


# `#`, C1 controls, line separators, lone surrogates (no UTF-8 write carries one), bidi and
# zero-width characters (`cat plan.json` would reorder a line or show two values alike) occur
# only in JSON strings, where `\\u0023` and friends decode to the very same characters.
_SPANS = ((0x80, 0xA0), (0xD800, 0xE000), (0x200B, 0x2010), (0x202A, 0x202F), (0x2066, 0x206A))
_ONE = (ord("#"), 0x061C, 0x2028, 0x2029, 0x2060, 0xFEFF)
_INERT = {c: f"\\u{c:04x}" for c in (*_ONE, *(c for a, b in _SPANS for c in range(a, b)))}


def dumps(document: Mapping[str, object], *, one_line: bool = False) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 text, one trailing newline.

    The text is inert in a CI log (`cat plan.json` in a pipeline is common): no `##vso[` or
    `##[` can appear (every `#` is written `\\u0023`), C0 controls are escaped by `json`, C1
    controls, Unicode line separators and lone surrogates here, and every line starts with
    indentation and `"`, `{`, `[` or `}`, so none starts with `::`. The data is unchanged.
    `one_line`: the same, compact on one line (a JSON-lines record, `apply --output json`).
    """
    indent, separators = (None, (",", ":")) if one_line else (2, None)
    text = json.dumps(
        document, sort_keys=True, indent=indent, separators=separators, ensure_ascii=False
    )
    return text.translate(_INERT) + "\n"


def plan_digest(plan: Plan) -> str:
    """`sha256:<hex>` of what the plan will do, stable across runs and machines.

    It covers the stack, the cluster and, per job key (sorted), the action, reason and block
    codes, field diffs, the live job id and digests, and duplicates; not reason wording,
    live State or ChangeTime, running-task counts or notes, which move without the plan's
    meaning changing (apply checks State/ChangeTime per job instead). Minor format versions
    never change what it covers.
    """
    view = {
        "stack": plan.stack,
        "cluster": plan.cluster,
        "changes": [
            {
                "key": c.key,
                "action": c.action.value,
                "reasons": [r.code for r in c.reasons],
                "blocks": [b.code for b in c.blocks],
                "diffs": sorted(
                    (
                        [d["section"], d["name"], d["before"], d["after"], d["sensitive"]]
                        for d in map(_diff, c.diffs)
                    ),
                    key=json.dumps,  # None sorts with strings this way
                ),
                "live_id": c.live_id,
                "live_digest": c.live_digest,
                "desired_digest": c.desired_digest,
                "duplicates": sorted(c.duplicates),
                # 1.1's `moved_from` only when set: a 1.0 plan's digest stays the same.
                **({"moved_from": c.moved_from} if c.moved_from else {}),
                # 1.2's `extension` only when set, for the same reason.
                **({"extension": _extension(c.extension)} if c.extension else {}),
            }
            for c in sorted(plan.changes, key=lambda c: c.key)
        ],
    }
    canonical = json.dumps(view, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SavedPlan:
    """A plan read back from a file, with the envelope it was saved with."""

    plan: Plan
    extra: dict[str, Any]
    digest: str


def save_plan(plan: Plan, path: Path, *, extra: Mapping[str, Any]) -> None:
    """Write the plan document plus `extra` (JSON data, never secrets) to `path` atomically."""
    check_overwritable(path)
    document = {**plan_document(plan), "extra": dict(extra)}
    text = dumps(document)  # TypeError here means `extra` held something that is not JSON data
    replace_file(path, text.encode("utf-8"), private=False)


def check_overwritable(path: Path) -> None:
    """A plan is saved only to a new file or over a saved plan, never over anything else."""
    if path.exists() and not _is_plan(path):
        raise PlanFileError(
            f"refusing to overwrite {path}: it is not a saved hpcspec plan",
            code="plan-file-not-overwritten",
            hint="--out names the file the plan is written to; choose a new name",
        )


def _is_plan(path: Path) -> bool:
    """Whether `path` holds a saved plan (of any version): only such a file is overwritten."""
    try:
        raw = loads_strict(read_capped_text(path, MAX_PLAN_BYTES))
    except (OSError, UnicodeDecodeError, FileTooLarge, ValueError):
        return False
    return isinstance(raw, dict) and {"format_version", "plan_digest", "changes"} <= raw.keys()


def load_plan(path: Path) -> Plan:
    """The plan saved in `path`; refuses unknown major versions and edited files."""
    return read_saved_plan(path).plan


def read_saved_plan(path: Path) -> SavedPlan:
    """The plan saved in `path` with its `extra` envelope and recorded digest."""
    try:
        text = read_capped_text(path, MAX_PLAN_BYTES)
    except (OSError, UnicodeDecodeError, FileTooLarge) as exc:
        raise PlanFileError(
            f"cannot read plan file {path}: {exc}", code="plan-file-unreadable"
        ) from None
    try:
        raw = loads_strict(text)
    except json.JSONDecodeError as exc:
        raise _not_a_plan(path, f"it is not JSON ({exc.msg} at line {exc.lineno})") from None
    except StrictJsonError as exc:
        raise _not_a_plan(path, str(exc)) from None
    if not isinstance(raw, dict) or "format_version" not in raw:
        raise _not_a_plan(path, "it has no format_version")
    _check_version(path, raw["format_version"])
    try:
        doc = _PlanDoc.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _not_a_plan(path, f"{where}: {first['msg']}") from None
    plan = _to_plan(doc)
    if plan_digest(plan) != doc.plan_digest:
        raise PlanFileError(
            f"plan file {path} was changed after it was saved: its plan_digest does not "
            "match its changes",
            code="plan-file-modified",
            hint="run hpcspec plan again and apply the file it writes",
        )
    return SavedPlan(plan=plan, extra=dict(doc.extra), digest=doc.plan_digest)


def _check_version(path: Path, version: object) -> None:
    if not isinstance(version, str):
        why = f'format_version must be a string such as "{_MAJOR}.0", not {json.dumps(version)}'
        raise _not_a_plan(path, why)
    major, _, minor = version.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise _not_a_plan(path, f"format_version {version!r} is not MAJOR.MINOR")
    if int(major) != _MAJOR:
        raise PlanFileError(
            f"plan file {path} has format_version {version}; this hpcspec reads "
            f"{_MAJOR}.x plans only",
            code="plan-format-unsupported",
            hint="plan and apply with the same major version of hpcspec",
        )


def _not_a_plan(path: Path, why: str) -> PlanFileError:
    return PlanFileError(
        f"{path} is not a saved hpcspec plan: {why}",
        code="plan-file-invalid",
        hint="write one with hpcspec plan --out FILE",
    )


# The change's fields read back as they were saved.
_AS_SAVED = (
    *("live_id", "live_state", "live_change_time", "live_digest", "desired_digest"),
    *("running_tasks", "failed_only", "unmet", "moved_from", "extension", "live_content"),
)


def _to_plan(doc: _PlanDoc) -> Plan:
    return Plan(
        stack=doc.stack,
        cluster=doc.cluster,
        source=doc.source,
        insecure=doc.insecure,
        notes=tuple(doc.notes),
        changes=tuple(
            Change(
                key=c.key,
                action=c.action,
                reasons=tuple(Reason(r.code, r.message) for r in c.reasons),
                diffs=tuple(
                    FieldDiff(
                        d.section,
                        d.name,
                        _masked(d.before, d.sensitive),
                        _masked(d.after, d.sensitive),
                        sensitive=d.sensitive,
                        allowed_now=d.allowed_now,
                        literal=d.literal,
                    )
                    for d in c.diffs
                ),
                blocks=tuple(Block(b.code, b.message, b.hint) for b in c.blocks),
                duplicates=tuple(c.duplicates),
                **{name: getattr(c, name) for name in _AS_SAVED},
            )
            for c in doc.changes
        ),
    )
