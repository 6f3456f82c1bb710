"""A saved plan that is not what `hpcspec plan --out` wrote is refused with what is wrong and
where (the key path), never an internal error and never applied as something else
(docs/plan-format.md, "Reading a saved plan")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpcspec.engine.plan import Action, Block, BlockCode, Change, Plan
from hpcspec.engine.planfile import PlanFileError, read_saved_plan, save_plan
from hpcspec.strict_json import StrictJsonError, loads_strict
from tests.conftest import Runner

EXTRA = {"manifest": "m.yaml", "manifest_absolute": "/nowhere/m.yaml", "vars": {}}


def _saved(tmp_path: Path) -> Path:
    plan = Plan(
        stack="s",
        cluster="http://127.0.0.1:9/hpc",
        changes=(Change("job", Action.CREATE, desired_digest="cccc"),),
    )
    path = tmp_path / "plan.json"
    save_plan(plan, path, extra=EXTRA)
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(PlanFileError) as refused:
        read_saved_plan(path)
    return refused.value.message


def test_a_plan_nested_100000_levels_deep_is_refused_as_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert _refusal(path).endswith(
        "is not a saved hpcspec plan: it is nested deeper than 32 levels"
    )


def test_a_plan_nested_deeper_than_32_levels_inside_an_object_names_where(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    document = json.loads(path.read_text())
    document["extra"]["vars"] = json.loads("[" * 40 + "]" * 40)
    path.write_text(json.dumps(document))
    assert "extra.vars." in _refusal(path) and "nested deeper than 32 levels" in _refusal(path)


def test_a_numeric_format_version_is_refused_saying_it_must_be_a_string(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    document = json.loads(path.read_text())
    document["format_version"] = 1.2
    path.write_text(json.dumps(document))
    assert 'format_version must be a string such as "1.0", not 1.2' in _refusal(path)


def test_an_edited_duplicate_key_in_a_change_is_refused_with_its_path(tmp_path: Path) -> None:
    # Someone adds a block below the original "blocks": [] of a change; json keeps the last
    # key, so either copy could be the one a reader uses: the file is refused instead.
    path = _saved(tmp_path)
    text = path.read_text()
    assert text.count('"blocks": []') == 1
    blocked = Block(BlockCode.STALE_PLAN, "edited by hand")
    second = json.dumps([{"code": blocked.code.value, "message": blocked.message}])
    edited = text.replace('"blocks": []', f'"blocks": [], "blocks": {second}')
    path.write_text(edited)
    assert "changes.0.blocks: the key 'blocks' appears twice" in _refusal(path)


def test_a_duplicate_top_level_key_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    path.write_text(path.read_text().replace('"stack": "s"', '"stack": "s", "stack": "t"'))
    assert "stack: the key 'stack' appears twice" in _refusal(path)


def test_loads_strict_reads_what_json_reads_when_keys_are_unique() -> None:
    text = '{"a": [1, {"b": null, "c": [true, 2.5]}], "d": {}}'
    assert loads_strict(text) == json.loads(text)
    with pytest.raises(StrictJsonError, match=r"a\.1\.b: the key 'b' appears twice"):
        loads_strict('{"a": [1, {"b": 1, "b": 2}]}')


def test_applying_a_plan_without_its_extra_envelope_says_so(
    tmp_path: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _saved(tmp_path)
    document = json.loads(path.read_text())
    del document["extra"]
    path.write_text(json.dumps(document))
    monkeypatch.chdir(tmp_path)  # "." exists: it was once taken for the manifest
    code, _, err = run_cli("apply", str(path), "--auto-approve")
    assert code == 1
    assert "is a directory" not in err
    assert "extra.manifest must be the manifest's file name, not missing" in err
    assert "save one with hpcspec plan --out FILE" in err


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("manifest", 3, "extra.manifest must be the manifest's file name, not 3"),
        ("manifest", "", 'extra.manifest must be the manifest\'s file name, not ""'),
        ("vars", [1, 2], "extra.vars must be a mapping of --var names to values, not [1, 2]"),
        ("manifest_absolute", None, "extra.manifest_absolute must be a file name, not missing"),
    ],
)
def test_applying_a_plan_with_a_malformed_extra_names_the_key(
    tmp_path: Path, run_cli: Runner, key: str, value: object, said: str
) -> None:
    path = _saved(tmp_path)
    document = json.loads(path.read_text())
    document["extra"][key] = value
    path.write_text(json.dumps(document))
    code, _, err = run_cli("apply", str(path), "--auto-approve")
    assert code == 1
    assert said in err and "internal error" not in err
