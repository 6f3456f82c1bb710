"""The property codec and the cluster's .NET time format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES
from hpcspec.hpcpack.codec import PropertyMap, canonical, decode_properties, encode
from hpcspec.hpcpack.timeformat import TimeFormat

FORMATS = [
    "M/d/yyyy h:mm:ss tt",  # the reference's example (en-US head node)
    "dd/MM/yyyy HH:mm:ss",  # en-GB
    "yyyy-MM-dd'T'HH:mm:ss.fff",
    "d MMMM yyyy H:mm",
    "dddd, MMM d, yyyy hh:mm:ss tt",
]

moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)


@pytest.mark.parametrize("pattern", FORMATS)
@given(moment=moments)
def test_time_format_round_trips(pattern: str, moment: datetime) -> None:
    time_format = TimeFormat(pattern)
    text = time_format.format(moment)
    parsed = time_format.parse(text)
    assert parsed is not None and parsed.tzinfo is UTC
    precision = {"fff": 1000, "ss": 1_000_000}
    expected = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if "fff" not in pattern:
        expected = expected.replace(microsecond=0)
    if ":ss" not in pattern:
        expected = expected.replace(second=0)
    assert parsed == expected, (text, precision)


def test_reference_example_time_is_utc() -> None:
    parsed = TimeFormat().parse("7/5/2019 9:05:07 PM")
    assert parsed == datetime(2019, 7, 5, 21, 5, 7, tzinfo=UTC)
    assert TimeFormat().parse("12/1/2026 12:00:00 AM") == datetime(2026, 12, 1, tzinfo=UTC)
    assert TimeFormat().parse("") is None
    with pytest.raises(ValueError, match="date format"):
        TimeFormat().parse("2019-07-05")


def test_property_names_are_case_insensitive() -> None:
    row = decode_properties([{"name": "State", "value": "Running"}, {"Name": "Id", "Value": 4}])
    assert row["state"] == row["STATE"] == "Running"
    assert row.integer("id") == 4 and row.integer("Missing") is None
    assert "sTaTe" in row and list(row) == ["State", "Id"]
    assert row == {"STATE": "Running", "id": "4"}
    assert PropertyMap({"a": "1"}) != {"a": "2"}


def test_encode_uses_the_catalogue_wire_names_and_forms() -> None:
    hold = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    body = encode(
        {"priority": "Highest-1", "nodegroups": ["A", "B"], "HoldUntil": hold, "Custom": 5},
        JOB_PROPERTIES,
        TimeFormat(),
    )
    assert body == [
        {"Name": "ExpandedPriority", "Value": "3999"},
        {"Name": "NodeGroups", "Value": "A,B"},
        {"Name": "HoldUntil", "Value": "11/28/2026 11:30:00 PM"},
        {"Name": "Custom", "Value": "5"},
    ]


def test_canonical_reads_wire_values_back() -> None:
    values = {"isrerunnable": "True", "RuntimeSeconds": "3600", "UserBlob": "", "TaskId": "3.1"}
    assert canonical(values, TASK_PROPERTIES) == {"IsRerunnable": True, "RuntimeSeconds": 3600}
    job = canonical({"HoldUntil": "1/2/2026 3:04:05 PM"}, JOB_PROPERTIES, TimeFormat().parse)
    assert job == {"HoldUntil": "2026-01-02T15:04:05Z"}  # canonical: ISO 8601 UTC


def test_expanded_priority_wins_over_the_bucket_name() -> None:
    wire = {"Priority": "Normal", "ExpandedPriority": "2005", "Name": "x"}
    assert canonical(wire, JOB_PROPERTIES) == {"Priority": 2005, "Name": "x"}


JOB_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "Name": st.text(
            st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=80
        ),
        "Priority": st.integers(0, 4000),
        "RuntimeSeconds": st.integers(0, 10**7),
        "MinCores": st.integers(1, 10**4),
        "IsExclusive": st.booleans(),
        "UnitType": st.sampled_from(JOB_PROPERTIES["UnitType"].enum),
        "NodeGroups": st.lists(st.sampled_from(["A", "B", "Gpu"]), min_size=1, unique=True).map(
            ",".join
        ),
    },
)


@given(values=JOB_VALUES)
def test_encode_then_canonical_is_the_identity(values: dict[str, object]) -> None:
    body = encode(values, JOB_PROPERTIES)  # type: ignore[arg-type]
    wire = decode_properties(body)
    assert canonical(wire, JOB_PROPERTIES) == values
