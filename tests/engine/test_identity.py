"""Identity tags and the ClientSource marker."""

from __future__ import annotations

from hpcspec.engine import identity


def test_marker_round_trip_names_stack_key_and_digest() -> None:
    marker = identity.client_source_marker("cfd", "mesh", "0123456789abcdef")
    parsed = identity.parse_marker(marker)
    assert parsed is not None
    assert parsed.stack_hash == identity.stack_hash("cfd")
    assert parsed.key_hash == identity.key_hash("cfd", "mesh")
    assert parsed.digest == "0123456789abcdef"


def test_marker_is_short_and_distinct_per_stack_and_key() -> None:
    a = identity.client_source_marker("cfd", "mesh", "d")
    assert len(a) <= 40
    assert a != identity.client_source_marker("cfd", "post", "d")
    assert a != identity.client_source_marker("other", "mesh", "d")


def test_foreign_client_sources_are_not_markers() -> None:
    for text in ("", "HPC Cluster Manager", "hpcspec:short:d", "other:0123456789abcdef:d"):
        assert identity.parse_marker(text) is None


def test_identity_tags() -> None:
    tags = identity.identity_tags("s", "k", "d", token="t", source="m.yaml@abc")
    assert tags == {
        "hpcspec.stack": "s",
        "hpcspec.key": "k",
        "hpcspec.digest": "d",
        "hpcspec.token": "t",
        "hpcspec.source": "m.yaml@abc",
    }
    assert identity.new_token() != identity.new_token()


def test_identity_tags_leave_out_token_and_source_unless_given() -> None:
    # `hpcspec render` writes these three only: a job file may be submitted many times.
    assert identity.identity_tags("s", "k", "d") == {
        "hpcspec.stack": "s",
        "hpcspec.key": "k",
        "hpcspec.digest": "d",
    }


def test_key_hash_separates_stack_from_key() -> None:
    # stack and key names cannot hold "/" (manifest KEY_PATTERN), so "stack/key" is unambiguous
    assert identity.key_hash("ab", "c") != identity.key_hash("a", "bc")
    assert identity.stack_hash("ab") != identity.stack_hash("a")
