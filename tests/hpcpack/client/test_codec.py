"""The property codec and the cluster's .NET time format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES
from hpcspec.hpcpack.codec import (
    PropertyMap,
    canonical,
    decode_objects,
    decode_properties,
    encode,
)
from hpcspec.hpcpack.readback import live_job
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


def _read_every_key_case_insensitively(body: list[object]) -> list[dict[str, str]]:
    """The reading the codec's direct path must agree with: every key lowered first, and a
    property name spelled twice in different case one property (`PropertyMap`: where the
    name first came, under its last spelling and value)."""
    rows = []
    for item in body:
        assert isinstance(item, dict)
        fields = {str(k).lower(): v for k, v in item.items()}
        folded: dict[str, tuple[str, str]] = {}
        for prop in fields.get("properties") or []:
            named = {str(k).lower(): v for k, v in prop.items()}
            value = named.get("value")
            name = str(named["name"])
            folded[name.lower()] = (name, "" if value is None else str(value))
        rows.append(dict(folded.values()))
    return rows


_KEY = st.sampled_from(["Name", "name", "NAME"])
_VALUE_KEY = st.sampled_from(["Value", "value"])
_VALUES = st.none() | st.text(max_size=5) | st.integers() | st.booleans()
_PROPERTY = st.one_of(
    st.builds(lambda n, v: {"Name": n, "Value": v}, st.text(min_size=1, max_size=6), _VALUES),
    st.builds(
        lambda k, vk, n, v, extra: {k: n, vk: v} | ({"__type": "x"} if extra else {}),
        _KEY,
        _VALUE_KEY,
        st.text(min_size=1, max_size=6),
        _VALUES,
        st.booleans(),
    ),
)
_ROW = st.builds(
    lambda key, props: {key: props},
    st.sampled_from(["Properties", "properties"]),
    st.lists(_PROPERTY, max_size=6),
)


@given(body=st.lists(_ROW, max_size=4))
@example(  # found by Hypothesis: a name spelled twice in different case is one property
    body=[{"Properties": [{"Name": "B", "Value": None}, {"Name": "b", "Value": None}]}]
)
def test_rows_read_directly_equal_rows_read_case_insensitively(body: list[object]) -> None:
    # The server's own spelling is read without lowering every key; any other spelling
    # (or an extra key) takes the case-insensitive path. Both must give the same rows.
    rows = decode_objects(body)
    expected = _read_every_key_case_insensitively(body)
    assert [dict(r) for r in rows] == expected
    assert [list(r) for r in rows] == [list(e) for e in expected]  # the server's order


def test_property_map_get_and_text_find_any_case_and_default_when_missing() -> None:
    row = decode_properties([{"Name": "ClientSource", "Value": "hpcspec:x"}])
    assert row.get("clientsource") == row.text("CLIENTSOURCE") == "hpcspec:x"
    assert row.get("Missing") is None and row.get("Missing", 7) == 7
    assert row.text("Missing") == "" and row.text("Missing", "-") == "-"
    empty = decode_properties([{"Name": "Empty", "Value": None}])
    assert empty.get("empty") == "" and empty.text("EMPTY", "x") == ""


_COLUMNS = ("Id", "State", "Name", "Owner", "ClientSource", "ChangeTime", "SubmitTime")
_COLUMNS += ("RequeueCount", "ErrorMessage", "TaskCount", "RunningTaskCount")
_COLUMNS += ("FinishedTaskCount", "FailedTaskCount", "QueuedTaskCount")


@given(
    counts=st.lists(st.integers(min_value=0, max_value=5000), min_size=6, max_size=6),
    spelling=st.lists(st.sampled_from([str.lower, str.upper, str]), min_size=14, max_size=14),
    missing=st.sets(st.sampled_from(_COLUMNS[5:])),
    text=st.text(max_size=6),
)
def test_a_listing_row_reads_the_same_whatever_the_case_of_its_names(
    counts: list[int], spelling: list[object], missing: set[str], text: str
) -> None:
    values = dict.fromkeys(_COLUMNS, text) | {"Id": "42", "State": "Running"}
    values |= {"ChangeTime": "7/5/2019 9:05:07 PM", "SubmitTime": ""}
    values |= dict(zip(_COLUMNS[7:8] + _COLUMNS[9:], map(str, counts), strict=True))
    values = {k: v for k, v in values.items() if k not in missing}
    server = decode_properties([{"Name": k, "Value": v} for k, v in values.items()])
    names = [f(k) for f, k in zip(spelling, values, strict=False)]  # type: ignore[operator]
    pairs = zip(names, values.values(), strict=True)
    cased = decode_properties([{"Name": n, "Value": v} for n, v in pairs])
    parse_time = TimeFormat().parse
    # A PropertyMap finds a column in any case; a plain mapping by its exact name.
    assert live_job(cased, parse_time) == live_job(server, parse_time)
    assert live_job(server, parse_time) == live_job(dict(values), parse_time)


@given(body=st.lists(_ROW, max_size=4), shared=st.booleans())
@example(  # found by Hypothesis: iterated, the name spelled twice was two keys of one value
    body=[{"Properties": [{"Name": "f0000", "Value": None}, {"Name": "F0000", "Value": "0"}]}],
    shared=False,
)
def test_every_row_finds_each_name_in_any_case_as_its_last_spelling_says(
    body: list[object], shared: bool
) -> None:
    # Rows that carry the same names share one index (`PropertyMap._owning`): reading a body
    # twice, or rows alike, must find what each row's own names say.
    rows = decode_objects(body + body if shared else body)
    expected = _read_every_key_case_insensitively(body + body if shared else body)
    for row, values in zip(rows, expected, strict=True):
        folded: dict[str, str] = {}
        for name, value in values.items():
            folded[name.lower()] = value  # the last spelling of a name wins
        names = [*values, "Absent"]
        for asked in [*names, *(n.lower() for n in names), *(n.upper() for n in names)]:
            assert row.get(asked) == folded.get(asked.lower())
        assert row.texts(*names, *names) == [folded.get(n.lower()) or "" for n in names * 2]
        assert row == PropertyMap(values)
        # Iterated, a name spelled twice in different case is one property, as looked up.
        assert {name.lower(): value for name, value in row.items()} == folded
        assert len(row) == len(folded) and all(row[name] == value for name, value in row.items())


def test_a_value_that_is_not_text_is_read_one_property_at_a_time() -> None:
    body = [{"Name": "A", "Value": 7}, {"Name": "B", "Value": None}, {"Name": "C", "Value": True}]
    assert dict(decode_properties(body)) == {"A": "7", "B": "", "C": "True"}
    with pytest.raises(ValueError, match="no Name"):
        decode_properties([{"Name": 3, "Value": "x"}])
    with pytest.raises(ValueError, match="Name/Value objects"):
        decode_properties([["Name", "Value"]])


@given(moment=moments, junk=st.text(max_size=8))
def test_a_time_read_again_is_what_it_was_the_first_time(moment: datetime, junk: str) -> None:
    # A client remembers the times a listing's rows share; unreadable text stays None.
    from hpcspec.hpcpack.client.base import ClientBase
    from hpcspec.hpcpack.transport import Transport, TransportOptions

    time_format = TimeFormat(FORMATS[0])
    client = ClientBase(Transport(TransportOptions("https://head/hpc")), time_format=time_format)
    text = time_format.format(moment)
    for _ in range(2):
        assert client.parse_time(text) == time_format.parse(text)
        assert client.parse_time(text + junk) == _parsed_or_none(time_format, text + junk)


def _parsed_or_none(time_format: TimeFormat, text: str) -> datetime | None:
    try:
        return time_format.parse(text)
    except ValueError:
        return None


@given(
    counts=st.lists(st.integers(min_value=0, max_value=9), min_size=11, max_size=11),
    texts=st.lists(st.text(max_size=4), min_size=4, max_size=4),
)
def test_a_listed_job_is_the_live_job_its_constructor_makes(
    counts: list[int], texts: list[str]
) -> None:
    # live_job builds a LiveJob without its frozen __init__: the same job, field by field
    from dataclasses import asdict, fields

    from hpcspec.hpcpack.live import TASK_COUNTERS, LiveJob

    name, owner, source, error = texts
    row = {"Id": "7", "State": "Queued", "Name": name, "Owner": owner, "ClientSource": source}
    row |= {"ErrorMessage": error, "ChangeTime": "7/5/2019 9:05:07 PM", "TaskCount": "3"}
    row |= dict(zip(TASK_COUNTERS.values(), map(str, counts), strict=True))
    made = live_job(decode_properties([{"Name": k, "Value": v} for k, v in row.items()]),
                    TimeFormat().parse, ["Priority"])  # fmt: skip
    again = LiveJob(**{f.name: getattr(made, f.name) for f in fields(LiveJob)})
    assert made == again and hash(made) == hash(again) and repr(made) == repr(again)
    assert vars(made) == vars(again) and list(vars(made)) == list(vars(again))
    assert asdict(made) == asdict(again)
    with pytest.raises(AttributeError):
        made.name = "changed"  # type: ignore[misc]
