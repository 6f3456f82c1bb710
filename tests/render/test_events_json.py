"""The JSON-lines records of a run (`apply/destroy/reconcile --output json`), pure.

A stream holding one record of every type is compared with a golden file
(`golden/events.jsonl`; regenerate with UPDATE_GOLDEN=1 like the plan goldens) and checked
against the schema shipped in `schemas/`; every engine event type has a schema entry and a
section in docs/plan-format.md; an event type this version does not know is still written,
field by field; and a record is one line that no CI runner reads as a command.
"""

from __future__ import annotations

import json
import os
import re
import typing
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hpcspec.engine.events import (
    Applied,
    Event,
    JobApplied,
    JobRequeued,
    JobStateChanged,
    LockWaiting,
    Planned,
    Resumed,
    RoundEnded,
    StackFailed,
    StepFinished,
    StepStarted,
    StillWaiting,
    WaitEnded,
    WaitPolled,
)
from hpcspec.engine.outcomes import ApplyResult, ApplyVerdict, JobResult, Outcome, WaitVerdict
from hpcspec.engine.plan import Action
from hpcspec.engine.status import FailedTask, JobStatus
from hpcspec.engine.steps import StepKind
from hpcspec.errors import HpcspecError, Location
from hpcspec.hpcpack.errors import ServerError
from hpcspec.render.events_json import (
    diagnostic_record,
    event_records,
    event_type,
    json_line,
    log_record,
    version_record,
)
from tests.render import plans
from tests.render.event_schema import SCHEMA, known_types, records

GOLDEN = Path(__file__).parent / "golden" / "events.jsonl"
DOC = Path(__file__).parents[2] / "docs" / "plan-format.md"
AT = datetime(2026, 11, 28, 9, 30, 1, 250000, tzinfo=UTC)

RUNNING = JobStatus("cfd-nightly/solve", 50, "Running", {"Running": 2, "Queued": 1}, 3, 12)
FAILED = JobStatus(
    "cfd-nightly/flaky",
    51,
    "Failed",
    {"Failed": 1},
    1,
    4,
    failed=(FailedTask("run", 1, 0, 3, ("flaky.exe: license server busy",)),),
    requeue_count=1,
)


def every_event() -> list[Event]:
    """One event of every engine type, as a run with a refusal, a failure and a wait has."""
    every, none = plans.every_action(), plans.no_changes()
    done = JobResult("mesh", Outcome.DONE, Action.CREATE, 50)
    refused = JobResult("solve", Outcome.REFUSED, Action.REPLACE, 44, "needs consent")
    failed = JobResult("tune", Outcome.FAILED, Action.UPDATE, 41, "error: HTTP 500 [server]")
    unchanged = JobResult("steady", Outcome.UNCHANGED, Action.NO_OP, 48)
    results = (ApplyResult((done, refused, failed, unchanged)),)
    return [
        LockWaiting("cfd-nightly", 39, "HPC\\ci", "runner-7/4242", 600.0),
        Resumed("cfd-nightly", (40,), (38,)),
        Planned((every, none)),
        StepStarted("cfd-nightly", "mesh", StepKind.CREATE_VIA_XML, None),
        StepFinished("cfd-nightly", "mesh", StepKind.CREATE_VIA_XML, 50),
        StepStarted("cfd-nightly", "tune", StepKind.UPDATE, 41),
        StepFinished("cfd-nightly", "tune", StepKind.UPDATE, 41, failed=True),
        JobApplied("cfd-nightly", done),
        JobApplied("cfd-nightly", refused),
        JobApplied("cfd-nightly", failed),
        JobApplied("cfd-nightly", unchanged),
        Applied((every, none), results, ApplyVerdict.PARTIAL),
        StackFailed("other", "other.yaml:3:5: error: no such node group [node-group-missing]"),
        RoundEnded(ApplyVerdict.PARTIAL, 2, 1),
        WaitPolled((RUNNING,)),
        JobStateChanged(RUNNING, "Queued"),
        JobStateChanged(FAILED, None),
        JobRequeued(FAILED, 1, 2),
        StillWaiting((RUNNING,)),
        WaitEnded(WaitVerdict.FAILED, (RUNNING, FAILED)),
    ]


def stream() -> str:
    error = HpcspecError(
        "the cluster refused the credentials",
        code="auth-failed",
        hint="check HPCSPEC_USERNAME",
        location=Location(file="m.yaml", line=3, column=5, path="jobs.mesh"),
    )
    out = [version_record("9.9.9", "apply")]
    for event in every_event():
        out += event_records(event)
    out += [log_record("reconcile: stopped"), diagnostic_record(error)]
    return "".join(json_line(record, AT) for record in out)


def test_every_record_type_matches_the_golden_stream_and_the_schema() -> None:
    rendered = stream()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered, encoding="utf-8", newline="\n")
    assert rendered == GOLDEN.read_text(encoding="utf-8")
    written = {record["type"] for record in records(rendered)}
    assert written == known_types()


def documented_examples() -> dict[str, str]:
    """Each `#### `type`` section of docs/plan-format.md and its example line."""
    found = re.findall(r"^#### `([a-z_]+)`\n.*?```json\n(.*?)\n```", DOC.read_text(), re.M | re.S)
    return dict(found)


def test_every_engine_event_has_a_schema_entry_and_a_documented_section() -> None:
    names = {event_type(kind) for kind in typing.get_args(Event)} - {"wait_polled"}
    assert names <= known_types()
    examples = documented_examples()
    assert set(examples) == known_types()  # polls are not written: said in prose
    for name, line in examples.items():
        assert records(line + "\n")[0]["type"] == name


def fields_of(record: dict[str, Any]) -> set[str]:
    """A record's fields; for `planned`, its plan's and first change's fields too."""
    names = set(record)
    if record["type"] == "planned":
        names |= {f"plan.{k}" for k in record["plan"]}
        names |= {f"change.{k}" for k in record["plan"]["changes"][0]}
    return names


def test_each_documented_example_has_the_fields_the_records_have_now() -> None:
    written: dict[str, set[str]] = {}
    for record in records(GOLDEN.read_text(encoding="utf-8")):
        written.setdefault(record["type"], fields_of(record))
    for name, line in documented_examples().items():
        assert fields_of(json.loads(line)) == written[name], name


def diagnostic_section() -> str:
    """The `diagnostic` section of docs/plan-format.md, up to its example."""
    found = re.search(r"^#### `diagnostic`\n(.*?)```json", DOC.read_text(), re.M | re.S)
    assert found is not None
    return found.group(1)


def test_a_diagnostic_has_exactly_the_fields_the_schema_and_the_docs_name() -> None:
    """A REST API error's diagnostic carries the request (method, path, status, the
    scheduler's own message and code) beside the fields every error has: the schema names
    each (the API's as optional), and so does the docs table, as `diagnostic.NAME`."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    rule = next(
        r for r in schema["allOf"] if r["if"]["properties"]["type"]["const"] == "diagnostic"
    )
    shape = rule["then"]["properties"]["diagnostic"]
    plain = HpcspecError("no user name for https://head", code="config-error")
    api = ServerError("GET /jobs failed with HTTP 500", method="GET", path="/jobs", status=500)
    emitted = [records(json_line(diagnostic_record(e), AT))[0]["diagnostic"] for e in (plain, api)]
    assert set(emitted[0]) == set(shape["required"])
    assert set(emitted[1]) == set(shape["properties"])
    documented = set(re.findall(r"`diagnostic\.([a-z_]+)`", diagnostic_section()))
    assert documented == set(emitted[1])


def test_no_engine_event_has_a_field_the_envelope_would_hide() -> None:
    for kind in typing.get_args(Event):
        assert {f.name for f in fields(kind)}.isdisjoint({"type"}), kind


def test_a_wait_poll_writes_nothing_and_a_plan_is_one_record_per_stack() -> None:
    assert event_records(WaitPolled((RUNNING,))) == []
    planned = event_records(Planned((plans.every_action(), plans.no_changes())))
    assert [r["stack"] for r in planned] == ["cfd-nightly", "cfd-nightly"]
    assert [r["plan"]["summary"]["no-op"] for r in planned] == [3, 2]  # type: ignore[index]


def test_levels_follow_what_went_wrong() -> None:
    levels = {
        json.dumps(event_records(e)[0]["@message"]): event_records(e)[0]["@level"]
        for e in every_event()
        if not isinstance(e, WaitPolled | Planned)
    }
    assert levels['"cfd-nightly/tune (job 41): update failed"'] == "error"
    assert levels['"cfd-nightly/solve (job 44): replace refused: needs consent"'] == "warn"
    assert levels['"cfd-nightly/mesh (job 50): create done"'] == "info"
    assert levels['"partial: 1 done, 1 failed, 0 not started, 1 refused, 1 unchanged"'] == "warn"


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class LaterEvent:
    """An engine event added after this version: the fallback writes it as it is."""

    stack: str
    ids: tuple[int, ...]
    colour: Colour
    timeout: float
    opaque: object


def test_an_event_without_a_rule_is_written_field_by_field() -> None:
    event: Any = LaterEvent("s", (1, 2), Colour.RED, float("inf"), object())
    (record,) = event_records(event)
    assert record == {
        "type": "later_event",
        "@level": "info",
        "@message": "later event",
        "stack": "s",
        "ids": [1, 2],
        "colour": "red",
        "timeout": None,  # JSON has no Infinity
    }
    assert records(json_line(record, AT))[0]["type"] == "later_event"


@given(st.text(), st.text())
def test_a_record_is_one_inert_line_that_decodes_to_the_same_data(stack: str, key: str) -> None:
    (record,) = event_records(StepStarted(stack, key, StepKind.SUBMIT, 7))
    line = json_line(record, AT)
    assert line.endswith("\n") and "\n" not in line[:-1] and "\r" not in line
    assert "#" not in line and "\u2028" not in line and line.startswith("{")
    decoded = json.loads(line)
    assert (decoded["stack"], decoded["key"], decoded["@timestamp"]) == (
        stack,
        key,
        "2026-11-28T09:30:01.250000Z",
    )
