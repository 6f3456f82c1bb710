"""Every manifest in tests/manifest/bad/ is refused with the right line, key path and code.

Each file starts with `# expect: {"line": N, "path": "jobs.a...", "code": "..."}` (null = not
asserted; an optional "message" or "hint" is a part of the error's message or hint: words
for the user, never pydantic's or a regular expression). The same files are run through
`hpcspec validate` to prove the exit code and the `file:line:col` in the message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hpcspec.cli import main
from hpcspec.manifest import InvalidManifest, load_and_resolve

BAD = Path(__file__).parent / "bad"
# pydantic's own phrasing ("String should match pattern '^…$'"): never what a user reads
PYDANTIC_WORDS = re.compile(r"\b(Input|String|Dictionary|List|Value) should\b|after validation")
CASES = sorted(BAD.glob("*.yaml"))


def _expectation(path: Path) -> dict[str, object]:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} lacks its expect header"
    return dict(json.loads(first.removeprefix("# expect: ")))


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_manifest_is_refused_at_the_right_place(path: Path) -> None:
    expect = _expectation(path)
    with pytest.raises(InvalidManifest) as raised:
        load_and_resolve(path)
    problem = raised.value.problems[0]
    assert problem.code == expect["code"], problem.render()
    assert problem.location.file == str(path)
    if expect["line"] is not None:
        assert problem.location.line == expect["line"], problem.render()
        assert problem.location.column is not None
    if expect["path"] is not None:
        assert problem.location.path == expect["path"], problem.render()
    assert problem.message
    assert not PYDANTIC_WORDS.search(problem.message), problem.render()
    if "message" in expect:
        assert str(expect["message"]) in problem.message, problem.render()
    if "hint" in expect:
        assert str(expect["hint"]) in (problem.hint or ""), problem.render()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_validate_exits_1_naming_file_and_line(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expect = _expectation(path)
    with pytest.raises(SystemExit) as done:
        main(["validate", str(path)])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    prefix = f"{path}:{expect['line']}:" if expect["line"] is not None else f"{path}"
    assert prefix in err
    assert f"[{expect['code']}]" in err
