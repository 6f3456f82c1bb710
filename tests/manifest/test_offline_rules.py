"""HPC Pack's rules that validate checks offline, and the manifest's own bounds.

Each rule cites its reference in the hint (`../shared/reference/hpcpack/...`); the bad
corpus (tests/manifest/bad/) pins the line and code of each; these tests pin the wording a
user needs and the cases a corpus file cannot show (command-line variables, limits that need
long values, the clock).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hpcspec.cli import main
from hpcspec.manifest import InvalidManifest, parse_manifest, resolve
from hpcspec.manifest.rules import MAX_ENV_ENTRY, hold_until_problem

BASE = "apiVersion: hpcspec/v1\nstack: s\nvars: {run: a, cases: 3}\njobs:\n  a:\n"


def problems(text: str, overrides: dict[str, str] | None = None) -> list[str]:
    try:
        resolve(parse_manifest(text, file="m.yaml"), overrides)
    except InvalidManifest as invalid:
        return [p.render() + f" hint: {p.hint}" for p in invalid.problems]
    return []


def test_an_undeclared_var_override_is_an_error_with_a_did_you_mean() -> None:
    text = BASE + "    tasks:\n      t: {commandLine: 'run ${run}'}\n"
    (problem,) = problems(text, {"runn": "b"})
    assert "--var runn" in problem and "did you mean 'run'" in problem
    assert "m.yaml:3:1" in problem  # at the vars: key
    assert "[undeclared-variable]" in problem
    assert problems(text, {"run": "b"}) == []


def test_built_in_variables_cannot_be_overridden() -> None:
    (problem,) = problems(BASE + "    tasks: {t: {commandLine: x}}\n", {"stack": "other"})
    assert "built in" in problem


def test_validate_refuses_an_undeclared_var(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(BASE + "    tasks: {t: {commandLine: x}}\n")
    with pytest.raises(SystemExit) as done:
        main(["validate", str(path), "--var", "nightly=1"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert f"{path}:3:1: error: --var nightly" in err


def test_a_yaml_file_of_another_tool_gives_one_error_naming_what_is_missing() -> None:
    workflow = "name: CI\non: [push]\njobs:\n  build:\n    runs-on: x\n    steps: [{run: make}]\n"
    (problem,) = problems(workflow)
    assert "not an hpcspec manifest: apiVersion is missing (its keys: name, on, jobs)" in problem
    (problem,) = problems("apiVersion: apps/v1\nkind: Deployment\n")
    assert "not an hpcspec manifest: apiVersion is 'apps/v1'" in problem


def test_min_above_max_names_both_places() -> None:
    text = (
        "apiVersion: hpcspec/v1\nstack: s\ndefaults:\n  properties: {MinCores: 8}\njobs:\n"
        "  a:\n    properties: {MaxCores: 2}\n    tasks: {t: {commandLine: x}}\n"
    )
    (problem,) = problems(text)
    assert "m.yaml:4:16: error: MinCores 8 is greater than MaxCores 2" in problem
    assert "jobs.a.properties.MaxCores" in problem and "Validation_MinGreaterThanMax" in problem


@pytest.mark.parametrize(
    ("low", "high"),
    [("MinCores", "MaxCores"), ("MinNodes", "MaxNodes"), ("MinSockets", "MaxSockets"),
     ("MinMemory", "MaxMemory"), ("MinCoresPerNode", "MaxCoresPerNode")],
)  # fmt: skip
def test_every_job_min_max_pair_is_checked(low: str, high: str) -> None:
    text = BASE + f"    properties: {{{low}: 5, {high}: 4}}\n    tasks: {{t: {{commandLine: x}}}}\n"
    (problem,) = problems(text)
    assert f"{low} 5 is greater than {high} 4" in problem
    equal = text.replace(f"{high}: 4", f"{high}: 5")
    assert problems(equal) == []


@pytest.mark.parametrize("pair", [("MinCores", "MaxCores"), ("MinNodes", "MaxNodes"),
                                  ("MinSockets", "MaxSockets")])  # fmt: skip
def test_every_task_min_max_pair_is_checked(pair: tuple[str, str]) -> None:
    low, high = pair
    task = f"{{commandLine: x, properties: {{{low}: 2, {high}: 1}}}}"
    (problem,) = problems(BASE + f"    tasks: {{t: {task}}}\n")
    assert "Validation_TaskMinGreaterThanTaskMax" in problem


def test_integer_properties_are_32_bit() -> None:
    (problem,) = problems(
        BASE + "    properties: {MaxCores: 2147483648}\n    tasks: {t: {commandLine: x}}\n"
    )
    assert "does not fit HPC Pack's 32-bit integers" in problem
    assert (
        problems(
            BASE + "    properties: {MaxCores: 2147483647}\n    tasks: {t: {commandLine: x}}\n"
        )
        == []
    )


def test_a_var_substituted_integer_is_range_checked_too() -> None:
    text = BASE + "    properties: {MaxCores: '${big}'}\n    tasks: {t: {commandLine: x}}\n"
    text = text.replace("vars: {run: a, cases: 3}", "vars: {run: a, cases: 3, big: 1}")
    (problem,) = problems(text, {"big": "99999999999999999999999"})
    assert "32-bit" in problem


def test_fail_job_on_failure_count_above_one_is_for_sweeps() -> None:
    sweep = (
        "{commandLine: echo *, sweep: {start: 1, end: 9}, properties: {FailJobOnFailureCount: 3}}"
    )
    assert problems(BASE + f"    tasks: {{t: {sweep}}}\n") == []
    basic = "{commandLine: x, properties: {FailJobOnFailureCount: 3}}"
    (problem,) = problems(BASE + f"    tasks: {{t: {basic}}}\n")
    assert "ISchedulerTask.FailJobOnFailureCount (HPC Pack SDK docs)" in problem


def test_order_by_takes_the_sdk_form_and_is_written_canonically() -> None:
    text = BASE + "    properties: {OrderBy: '-memory, cores'}\n    tasks: {t: {commandLine: x}}\n"
    stack = resolve(parse_manifest(text, file="m.yaml"))
    assert stack.jobs["a"].definition.get("OrderBy") == "-Memory,Cores"
    (problem,) = problems(text.replace("-memory, cores", "Memory,-Memory"))
    assert "each at most once" in problem


def test_env_names_and_sizes_are_checked() -> None:
    long_value = "x" * MAX_ENV_ENTRY
    (problem,) = problems(
        BASE + f"    env: {{V: {long_value}}}\n    tasks: {{t: {{commandLine: x}}}}\n"
    )
    assert "characters long" in problem and "without documenting its own limit" in problem
    fits = "x" * (MAX_ENV_ENTRY - 2)
    assert problems(BASE + f"    env: {{V: {fits}}}\n    tasks: {{t: {{commandLine: x}}}}\n") == []


def test_hold_until_must_be_within_the_next_year() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert hold_until_problem("2026-06-02T00:00:00Z", now) is None
    assert "in the past" in (hold_until_problem("2026-05-31T23:59:59Z", now) or "")
    assert "more than a year" in (hold_until_problem("2027-06-02T00:00:00Z", now) or "")


def test_a_matrix_bomb_is_refused_before_expansion() -> None:
    axes = "\n".join(f"          a{i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" for i in range(12))
    text = BASE + f"    tasks:\n      t:\n        commandLine: x\n        matrix:\n{axes}\n"
    (problem,) = problems(text)  # 10^12 combinations: expanding them would never return
    assert "more than 100,000 tasks; its matrix alone has 1,000,000,000,000 combinations" in problem


def test_a_job_may_hold_exactly_the_task_limit() -> None:
    axes = "          x: [" + ", ".join(str(i) for i in range(1000)) + "]\n"
    axes += "          y: [" + ", ".join(str(i) for i in range(100)) + "]\n"
    text = BASE + f"    tasks:\n      t:\n        commandLine: x\n        matrix:\n{axes}"
    assert problems(text) == []
    more = text.replace("      t:\n", "      u: {commandLine: y}\n      t:\n")
    assert "more than 100,000 tasks" in problems(more)[0]


def test_validate_refuses_a_hold_until_in_the_past(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(BASE + "    properties:\n      HoldUntil: 2001-01-01T00:00:00Z\n"
                    "    tasks: {t: {commandLine: x}}\n")  # fmt: skip
    with pytest.raises(SystemExit) as done:
        main(["validate", str(path)])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert f"{path}:7:7: error: HoldUntil 2001-01-01T00:00:00Z is in the past" in err
    assert "Operation_JobInvalidHoldUntil" in err
