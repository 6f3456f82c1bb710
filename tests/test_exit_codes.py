"""Every outcome a command can report has one exit code, from one table (README's table)."""

from __future__ import annotations

from hpcspec.cli.exit_codes import EXIT_CODES, Detailed, exit_code
from hpcspec.engine.outcomes import ApplyVerdict, WaitVerdict
from hpcspec.errors import ExitCode


def test_every_verdict_has_an_exit_code() -> None:
    for outcome in (*ApplyVerdict, *WaitVerdict, *Detailed):
        assert outcome in EXIT_CODES, outcome


def test_the_codes_the_readme_promises() -> None:
    assert exit_code(ApplyVerdict.APPLIED) == 0
    assert exit_code(ApplyVerdict.FAILED) == exit_code(ApplyVerdict.DECLINED) == 1
    assert exit_code(ApplyVerdict.PARTIAL) == ExitCode.PARTIAL == 3
    assert exit_code(ApplyVerdict.STALE_PLAN) == 4
    assert exit_code(WaitVerdict.FAILED) == 5 and exit_code(WaitVerdict.TIMED_OUT) == 6
    assert exit_code(Detailed.of(True, asked=True)) == 2
    assert exit_code(Detailed.of(True, asked=False)) == exit_code(Detailed.of(False, asked=True))
