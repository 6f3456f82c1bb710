"""A JSON answer holding half a UTF-16 surrogate pair (`answer_body.load_json`)."""

from __future__ import annotations

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
