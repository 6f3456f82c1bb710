"""Hostile JSON answers: half a UTF-16 surrogate pair, nesting too deep (`load_json`)."""

from __future__ import annotations

import pytest

from hpcspec.hpcpack.answer_body import decode_body
from hpcspec.hpcpack.error_body import read_error_body


def test_a_lone_surrogate_in_an_answer_becomes_the_replacement_character() -> None:
    body = b'[{"Name": "cut \\ud83d", "\\udc00key": ["a\\uD83D\\uDE00b", 1]}]'
    assert decode_body(body, "application/json") == [
        {"Name": "cut \ufffd", "\ufffdkey": ["a\U0001f600b", 1]}  # a whole pair is kept
    ]


def test_a_lone_surrogate_in_an_error_message_becomes_the_replacement_character() -> None:
    read = read_error_body(b'{"Message": "job \\ud800 failed"}', "application/json")
    assert read.message == "job \ufffd failed"


def test_json_nested_too_deep_is_a_bad_answer_not_an_internal_error() -> None:
    from hpcspec.hpcpack.answers import reply
    from hpcspec.hpcpack.errors import BadResponse

    deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(BadResponse, match=r"GET /jobs: the answer could not be read: .*nested"):
        reply("GET", "/jobs", 200, deep, {"Content-Type": "application/json"}, ())
    assert read_error_body(b'{"Message": ' + deep + b"}", "application/json").message
