"""Value forms: priorities, durations, booleans, exit codes, times."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.hpcpack import values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Normal", 2000),
        ("normal", 2000),
        ("Normal+5", 2005),
        ("AboveNormal-100", 2900),
        ("Lowest", 0),
        ("Highest", 4000),
        ("BelowNormal", 1000),
        ("1234", 1234),
        (0, 0),
        (4000, 4000),
    ],
)
def test_priority_forms_follow_expanded_priority_tryparse(text: object, expected: int) -> None:
    # per derived/job-xml-import-export.json "Priority"
    assert values.parse_priority(text) == expected


@pytest.mark.parametrize("bad", ["Urgent", "Highest+1", "Lowest-1", 4001, -1, True, "", [1]])
def test_bad_priorities_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        values.parse_priority(bad)


@given(st.integers(min_value=0, max_value=4000))
def test_priority_format_parses_back(value: int) -> None:
    assert values.parse_priority(values.format_priority(value)) == value


def test_priority_format_matches_export_examples() -> None:
    assert values.format_priority(2005) == "Normal+5"
    assert values.format_priority(2999) == "AboveNormal-1"
    assert values.format_priority(3000) == "AboveNormal"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90m", 5400),
        ("2h", 7200),
        ("1d2h", 93600),
        ("1h30m15s", 5415),
        (600, 600),
        ("45", 45),
        ("0", 0),
    ],
)
def test_durations(text: object, seconds: int) -> None:
    assert values.parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["2 hours", "h", "1x", -5, True, "", "1h-2m"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        values.parse_duration(bad)


@given(st.integers(min_value=0, max_value=10**8))
def test_duration_format_parses_back(seconds: int) -> None:
    assert values.parse_duration(values.format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), ("TRUE", True), ("false", False), ("1", True), (0, False)]
)
def test_booleans_as_the_importer_reads_them(raw: object, expected: bool) -> None:
    assert values.parse_bool(raw) is expected


@pytest.mark.parametrize("bad", ["yes", 2, None, "maybe"])
def test_bad_booleans(bad: object) -> None:
    with pytest.raises(ValueError):
        values.parse_bool(bad)


def test_exit_codes_accept_lists_ranges_and_min_max() -> None:
    assert values.parse_exit_codes("0, 3,10..20") == "0,3,10..20"
    assert values.parse_exit_codes([0, 3, "min..max"]) == "0,3,min..max"
    assert values.parse_exit_codes(0) == "0"
    with pytest.raises(ValueError):
        values.parse_exit_codes("zero")


def test_datetimes_become_utc() -> None:
    assert values.parse_datetime("2026-12-01T18:00:00+01:00") == "2026-12-01T17:00:00Z"
    assert values.parse_datetime("2026-12-01T18:00:00") == "2026-12-01T18:00:00Z"
    with pytest.raises(ValueError):
        values.parse_datetime("tomorrow")
