"""Cluster profiles: a lossless JSON round trip, defaults that are the emulator, clear errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.hpcpack.profile import (
    FORMAT,
    ClusterProfile,
    ErrorStyle,
    NodeEndpoints,
    ProfileError,
    SweepExpansion,
)
from hpcspec.hpcpack.states import JobState

_STATES = st.frozensets(st.sampled_from(list(JobState)))
_TEXT = st.text(max_size=20)

profiles = st.builds(
    ClusterProfile,
    version=_TEXT,
    client_source_kept=st.booleans(),
    client_source_stamp=_TEXT,
    error_style=st.sampled_from(ErrorStyle),
    not_found_status=st.integers(400, 599),
    refused_by_state_status=st.integers(400, 599),
    bad_value_status=st.integers(400, 599),
    forbidden_status=st.integers(400, 599),
    node_endpoints=st.sampled_from(NodeEndpoints),
    datetime_format=st.sampled_from(["M/d/yyyy h:mm:ss tt", "d/M/yyyy HH:mm:ss"]),
    sweep_expansion=st.sampled_from(SweepExpansion),
    custom_property_states=_STATES,
    environment_states=_STATES,
    default_rows_per_read=st.integers(1, 10_000),
    max_rows_per_read=st.integers(0, 10_000),
    start_row=st.booleans(),
    listing_lag_ms=st.integers(0, 600_000),
    listing_omits_empty=st.booleans(),
    source=_TEXT,
    checked_at=_TEXT,
    unverified=st.lists(st.sampled_from(["version", "client_source_kept", "node_endpoints"])).map(
        tuple
    ),
)


@given(profiles)
def test_a_profile_survives_its_json_file_unchanged(profile):
    assert ClusterProfile.from_json(profile.to_json()) == profile


def test_the_default_profile_is_the_emulator_without_a_profile():
    profile = ClusterProfile()
    assert profile.client_source_kept
    assert profile.error_style is ErrorStyle.SCHEDULER
    assert profile.node_endpoints is NodeEndpoints.NODES
    assert profile.sweep_expansion is SweepExpansion.EAGER
    assert profile.datetime_format == "M/d/yyyy h:mm:ss tt"
    assert profile.custom_property_states == {
        JobState.Configuring,
        JobState.Queued,
        JobState.Running,
    }
    assert profile.environment_states == {JobState.Configuring}
    assert profile.listing_lag_ms == 0  # the emulator lists a job as soon as it answers
    assert ClusterProfile.from_json("{}") == profile


def test_a_profile_file_names_only_what_differs():
    text = '{"client_source": {"kept": false, "stamp": "HPC"}, "errors": {"style": "aspnet"}}'
    profile = ClusterProfile.from_json(text)
    assert profile == ClusterProfile(
        client_source_kept=False, client_source_stamp="HPC", error_style=ErrorStyle.ASPNET
    )
    assert json.loads(profile.to_json())["format"] == FORMAT


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"errors": {"style": "xml"}}', "profile.errors.style: 'xml' is not one of scheduler"),
        ('{"paging": {"max_rows": "5"}}', 'profile.paging.max_rows: expected int, got "5"'),
        ('{"writes": {"environment": ["Sleeping"]}}', "profile.writes.environment"),
        ('{"errors": {"not_found": 200}}', "not_found_status 200 is not an HTTP error status"),
        ('{"listing": {"lag_ms": -5}}', "listing.lag_ms -5 is below 0"),
        ('{"listing": {"lag_ms": 1.5}}', "profile.listing.lag_ms: expected int, got 1.5"),
        ('{"listing": {"lag": 30}}', "profile.listing: unknown keys ['lag']"),
        ('{"node_endpoint": "nodes"}', "profile: unknown keys ['node_endpoint']"),
        ('{"format": 99}', "format 99 was written by a newer hpcspec"),
        ("[1]", "profile: expected an object"),
        ("{", "profile: not JSON"),
    ],
)
def test_a_bad_profile_file_says_which_key_is_wrong(text, fragment):
    with pytest.raises(ProfileError) as raised:
        ClusterProfile.from_json(text)
    assert fragment in raised.value.message


@pytest.mark.parametrize(
    ("default", "limit", "asked", "rows"),
    [(10, 0, None, 10), (10, 0, 5000, 5000), (10, 1000, 5000, 1000), (25, 0, 0, 1)],
)
def test_rows_per_read_follow_the_default_and_the_limit(default, limit, asked, rows):
    profile = ClusterProfile(default_rows_per_read=default, max_rows_per_read=limit)
    assert profile.rows_per_read(asked) == rows
