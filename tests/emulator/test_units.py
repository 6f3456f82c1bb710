"""Pure pieces of the emulator: time format, exit codes, XML safety, body codecs, paging."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.emulator import bodies, errors, listing, row_codec, safe_xml
from hpcspec.emulator import properties as P
from hpcspec.emulator.jobxml_import import _runtime
from hpcspec.hpcpack.profile import ClusterProfile


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_head_node_time_format_round_trips_to_the_second(moment):
    epoch = moment.replace(tzinfo=UTC, microsecond=0).timestamp()
    assert P.parse_time(P.format_time(epoch)) == epoch


def test_time_format_matches_the_spec_example():
    epoch = datetime(2019, 7, 5, 9, 5, 7, tzinfo=UTC).timestamp()
    assert P.format_time(epoch) == "7/5/2019 9:05:07 AM"
    assert (
        P.parse_time("11/28/2026 14:05:00") == datetime(2026, 11, 28, 14, 5, tzinfo=UTC).timestamp()
    )


@pytest.mark.parametrize(
    ("spec", "code", "ok"),
    [("", 0, True), ("", 1, False), ("0,3,10..20", 15, True), ("0,3,10..20", 21, False),
     ("min..-1", -5, True), ("1..max", 2**31 - 1, True), ("20..10", 15, True)],
)  # fmt: skip
def test_valid_exit_codes(spec, code, ok):
    # per msdocs/ischedulertask-validexitcodes.md
    assert P.exit_code_ok(spec, code) is ok


def test_min_or_max_alone_is_not_a_valid_exit_code_list():
    with pytest.raises(errors.SchedulerError):
        P.check_exit_codes("max")


@pytest.mark.parametrize(
    "xml",
    ['<!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>', "<!doctype x><x/>", "<x>", ""],
)
def test_unsafe_or_broken_xml_is_refused(xml):
    with pytest.raises(errors.SchedulerError) as raised:
        safe_xml.parse(xml)
    assert raised.value.status == 400


def test_rest_property_names_match_in_any_case():
    data = b'[{"NAME": "Name", "value": "x"}, {"name": "MinCores", "Value": 2}]'
    assert bodies.read_pairs(data, xml=False) == [("Name", "x"), ("MinCores", "2")]


@pytest.mark.parametrize(
    ("text", "seconds"), [("Infinite", 0), ("30", 1800), ("1:30", 5400), ("1:00:01", 86460)]
)
def test_legacy_runtime_forms(text, seconds):
    # per derived/job-xml-import-export.json: [[DD:]HH:]MM or Infinite
    assert _runtime(text) == str(seconds)


@given(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=15))
def test_pages_cover_every_row_once_with_the_token_on_all_but_the_last(count, size):
    items = [{"Id": str(i)} for i in range(count)]
    profile = ClusterProfile()
    query = listing.make_query(
        {"rowsperread": str(size)}, listing.JOB_FILTERS, "sortjobsby", profile
    )
    seen, tokens = [], []
    while True:
        chunk, token = listing.page(items, query)
        seen += chunk
        tokens.append(token)
        if token is None:
            break
        query = listing.make_query(
            {"rowsperread": str(size), "queryid": token}, listing.JOB_FILTERS, "sortjobsby", profile
        )
    assert seen == items
    assert all(tokens[:-1]) and tokens[-1] is None
    assert len(tokens) == max(1, -(-count // size))


_ROW = st.dictionaries(st.sampled_from(["Id", "Name", "State", "%s", 'a"b']), st.text(max_size=8))


@given(st.lists(_ROW, min_size=1, max_size=6), st.booleans())
def test_a_listing_renders_as_json_dumps_of_its_rest_objects(
    rows: list[dict[str, str]], same_names: bool
) -> None:
    if same_names:  # a page: every row has the same names in the same order
        rows = [{name: row.get(name, "") for name in rows[0]} for row in rows]
    expected = [{"Properties": [{"Name": k, "Value": v} for k, v in r.items()]} for r in rows]
    assert bodies.render(rows, xml=False) == json.dumps(expected).encode()


@given(st.dictionaries(st.text(), st.text() | st.integers() | st.none()))
def test_a_stored_column_is_the_json_encoders_text(values: dict[str, object]) -> None:
    # row_codec.dump builds the text itself; rows written before and after read the same
    assert row_codec.dump(values) == json.dumps(values)  # type: ignore[arg-type]
    assert row_codec.load(row_codec.dump(values)) == values  # type: ignore[arg-type]
