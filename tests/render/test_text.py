"""The text renderer: summary first, blocks per change, colour only when asked for."""

from __future__ import annotations

import io
import re

import pytest

from hpcspec.engine.plan import (
    Action,
    Block,
    BlockCode,
    Change,
    DiffSection,
    FieldDiff,
    Plan,
    Reason,
    ReasonCode,
    Unmet,
)
from hpcspec.render import render_text, use_color
from hpcspec.render.markdown import render_markdown
from tests.render import plans


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Closed:
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def test_colour_only_on_a_terminal() -> None:
    assert use_color(_Tty(), {}) is True
    assert use_color(io.StringIO(), {}) is False
    assert use_color(_Closed(), {}) is False


@pytest.mark.parametrize("value", ["1", "", "0", "false"])
def test_no_color_set_to_any_value_turns_colour_off(value: str) -> None:
    assert use_color(_Tty(), {"NO_COLOR": value}) is False


def test_a_dumb_terminal_gets_no_colour() -> None:
    assert use_color(_Tty(), {"TERM": "dumb"}) is False


def test_colour_off_means_no_escape_sequences() -> None:
    plan = plans.every_action()
    assert "\x1b" not in render_text(plan, color=False)
    coloured = render_text(plan, color=True)
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_text(plan, color=False)


def test_the_summary_line_comes_first() -> None:
    first = render_text(plans.every_action(), color=False).splitlines()[0]
    assert first == (
        "Plan for stack cfd-nightly on https://head.example.org/hpc: 1 to create, 1 to update, "
        "1 to submit, 1 to replace, 1 to rerun, 1 to extend, 1 to requeue, 1 to cancel, "
        "1 refused, 1 failed"  # the replace of a running job without consent is refused
    )


def test_insecure_plans_say_so() -> None:
    lines = render_text(plans.every_action(), color=False).splitlines()
    assert lines[1].startswith("warning: TLS verification is off (--insecure)")
    assert "--insecure" not in render_text(plans.no_changes(), color=False)


def _plan(*changes: Change) -> Plan:
    return Plan(stack="s", cluster="c", changes=changes)


def test_plain_no_ops_fold_into_a_count_removed_keys_into_one_line_exhausted_retries_show() -> None:
    quiet = Change(
        "quiet", Action.NO_OP, (Reason(ReasonCode.UNCHANGED, "job 1 matches"),), live_id=1
    )
    orphan = Change(
        "gone",
        Action.NO_OP,
        (Reason(ReasonCode.ORPHAN, "not in the manifest"),),
        live_id=2,
        live_state="Queued",
    )
    tired = Change(
        "tired",
        Action.NO_OP,
        (Reason(ReasonCode.RETRIES_EXHAUSTED, "gave up"),),
        live_id=3,
        unmet=Unmet.FAILED,
    )
    text = render_text(_plan(quiet, orphan, tired), color=False)
    assert "quiet" not in text and "1 unchanged job not shown." in text
    assert "gone" not in text and "1 job of keys removed from the manifest still alive" in text
    assert "tired: no change (job 3)" in text
    assert text.splitlines()[0] == "Plan for stack s on c: 1 unchanged, 1 failed, 1 removed key"
    assert "the cluster matches" not in text
    assert "the cluster does not match the manifest: 1 job key needs attention (tired)" in text


def test_field_diffs_read_before_arrow_after() -> None:
    change = Change(
        "a",
        Action.UPDATE,
        diffs=(
            FieldDiff(DiffSection.PROPERTY, "Name", "old", "new"),
            FieldDiff(DiffSection.ENV, "MODE", None, "fast"),
            FieldDiff(DiffSection.TASK, "solve/commandLine", "a.exe", "b.exe"),
            FieldDiff(DiffSection.TASK, "three", "echo 3", None, allowed_now=False),
            FieldDiff(DiffSection.CUSTOM_PROPERTY, "team", "aero", "cfd"),
        ),
        live_id=7,
        live_state="Queued",
    )
    lines = render_text(_plan(change), color=False).splitlines()
    assert '      ~ Name: "old" → "new"' in lines
    assert '      + env.MODE: "fast"' in lines
    assert '      ~ tasks.solve.commandLine: "a.exe" → "b.exe"' in lines
    assert '      - tasks.three: "echo 3" (cannot change in place)' in lines
    assert '      ~ customProperties.team: "aero" → "cfd"' in lines


def test_sensitive_fields_show_no_value() -> None:
    change = Change(
        "a",
        Action.UPDATE,
        diffs=(
            FieldDiff(DiffSection.ENV, "TOKEN", "(sensitive)", "(sensitive)", sensitive=True),
            FieldDiff(DiffSection.ENV, "KEY", None, "leaked-if-shown", sensitive=True),
        ),
    )
    text = render_text(_plan(change), color=False)
    assert "~ env.TOKEN: (sensitive, changed)" in text
    assert "+ env.KEY: (sensitive)" in text
    assert "leaked-if-shown" not in text


def test_refusals_show_with_their_hint() -> None:
    change = Change(
        "a",
        Action.REPLACE,
        blocks=(Block(BlockCode.REPLACE_RUNNING, "needs consent", "pass --yes"),),
    )
    text = render_text(_plan(change), color=False)
    assert "      ! refused: needs consent (pass --yes)" in text
    assert text.rstrip().endswith("apply will not carry out what is marked refused above.")


def test_no_changes_says_so() -> None:
    text = render_text(plans.no_changes(), color=False)
    assert text.rstrip().endswith("No changes: the cluster matches the manifest.")


def test_a_spec_change_kept_by_on_spec_change_ignore_is_not_called_a_match() -> None:
    """Red-team finding: the plan showed the changed command line, then closed with "No
    changes: the cluster matches the manifest."."""
    kept = Change(
        "a",
        Action.NO_OP,
        live_id=4,
        live_state="Finished",
        reasons=(Reason(ReasonCode.POLICY_IGNORE, "onSpecChange: ignore"),),
        diffs=(FieldDiff(DiffSection.TASK, "t1/CommandLine", "sleep:1", "exit:0 NEW"),),
    )
    text = render_text(_plan(kept), color=False)
    assert "the cluster matches the manifest." not in text
    assert text.rstrip().endswith(
        "No changes: the cluster matches the manifest, but for 1 job whose spec changed and "
        "that onSpecChange: ignore keeps as it is (a)."
    )
    markdown = render_markdown(_plan(kept))
    assert "**No changes.** The cluster matches the manifest, but for 1 job whose" in markdown


def test_a_refused_cancel_of_a_removed_key_is_counted_in_the_summary() -> None:
    """A change apply refuses is counted as refused, a removed key's cancel too (the second
    review: the summary said "no jobs" above "! refused: 1 change")."""
    from dataclasses import replace

    from hpcspec.engine.plan import Action, Block, BlockCode

    plan = plans.every_action()
    orphan = next(c for c in plan.changes if c.is_orphan and c.action is Action.CANCEL)
    stale = Block(BlockCode.STALE_PLAN, "the cluster changed since the plan")
    changes = [replace(c, blocks=(stale,)) if c is orphan else c for c in plan.changes]
    summary = replace(plan, changes=tuple(changes)).summary()
    assert "1 to cancel" not in summary and "2 refused" in summary, summary
