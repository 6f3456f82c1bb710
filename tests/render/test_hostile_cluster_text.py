"""What `cluster info`, `cluster check` and several JSON plans print from a hostile head node.

Node, group and template names, the version string, a probe's evidence (a scheduler message)
and a clean-up error are the server's words: like a plan's, they reach a terminal, a CI log and
a pull request inert (docs/security.md, "CI logs and terminals"). In markdown no value pings
a person or links an issue.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from hpcspec.cli.cluster_cmd import render_text as render_info
from hpcspec.cli.plan import emit
from hpcspec.hpcpack.check import CheckReport, Outcome
from hpcspec.hpcpack.check.model import Finding
from hpcspec.hpcpack.client.cluster import ClusterInfo, NodeGroup
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.render.cluster_check import render_markdown, render_text
from hpcspec.render.neutralise import inert_json
from tests.render.ci import PAYLOADS, runner_commands
from tests.render.test_injection import hostile_plan

# A terminal escape, a title (OSC), a forged line, a runner command, a Trojan Source override,
# and markdown/HTML that would close a fold, load an image, ping a person or break a table.
HOSTILE = (
    "x\x1b[2J\x1b]0;owned\x07\r::error::forged\n##vso[task.complete]\u202eevil"
    " </details> <img src=https://t.example/p.png> @octocat ``` |"
)


def _info(payload: str) -> ClusterInfo:
    return ClusterInfo(
        url="https://hpc.example/hpc",
        version=payload,
        active_head_node=payload,
        date_time_format=payload,
        node_groups=((NodeGroup(payload, payload), (payload, "CN001")),),
        nodes_by_state=((payload, 2),),
        job_templates=(payload, "Default"),
    )


def _report(payload: str) -> CheckReport:
    return CheckReport(
        url="https://hpc.example/hpc",
        findings=[Finding("paging.small-pages", "Paging works", Outcome.UNKNOWN, payload)],
        profile=ClusterProfile(),
        jobs={7: "Canceled"},
        cleanup_errors=[f"job 7: {payload}"],
        prefix="hpcspec-check-1-",
    )


def _terminal_inert(output: str) -> None:
    assert runner_commands(output) == []
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", output)


@pytest.mark.parametrize("payload", [HOSTILE, *PAYLOADS])
def test_cluster_info_shows_the_servers_names_inert(payload: str) -> None:
    _terminal_inert(render_info(_info(payload)))


@pytest.mark.parametrize("payload", [HOSTILE, *PAYLOADS])
def test_cluster_check_text_shows_evidence_and_clean_up_errors_inert(payload: str) -> None:
    _terminal_inert(render_text(_report(payload), "profile saved to /tmp/p.json"))


def test_cluster_check_markdown_shows_evidence_as_text_not_markup() -> None:
    markdown = render_markdown(_report(HOSTILE), "profile saved to /tmp/p.json")
    _terminal_inert(markdown)
    for markup in ("</details>", "<img", "@octocat", "```", "\u202e"):
        assert markup not in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| unknown")]
    assert len(rows) == 1 and rows[0].count("|") == 5  # the table keeps its four columns
    assert "&#92;u202eevil" in markdown  # the override is shown, not obeyed


def test_cluster_info_and_check_json_are_inert_and_exact() -> None:
    for document in (_info(HOSTILE).as_dict(), _report(HOSTILE).as_dict()):
        text = inert_json(document)
        assert runner_commands(text) == [] and json.loads(text) == document


def test_several_json_plans_are_inert_like_one(capsys: pytest.CaptureFixture[str]) -> None:
    plans = [hostile_plan(p) for p in PAYLOADS[:2]] + [hostile_plan(HOSTILE)]
    emit(plans, "json")
    out = capsys.readouterr().out
    assert runner_commands(out) == []
    assert [p["stack"] for p in json.loads(out)] == [*PAYLOADS[:2], HOSTILE]


PINGS = "@octocat @org/team #12 org/repo#3 GH-7 gh-8 !4 group/project!5 &6 %7 $8"


def _pings(markdown: str) -> list[str]:
    """What GitHub would turn into a mention or an issue reference (entities aside)."""
    shown = re.sub(r"<!--.*?-->", "", markdown)  # the hidden marker line is not rendered
    text = html.unescape(shown)  # a forge links text after decoding entities
    return re.findall(r"@\w|[#!&%$]\d|\bGH-\d", text, re.IGNORECASE)


def test_a_plan_comment_pings_nobody_and_links_no_issue() -> None:
    from hpcspec.render import render_markdown

    markdown = render_markdown(hostile_plan(PINGS))
    assert _pings(markdown) == []
    assert "org/repo#\u200b3" in markdown  # still reads the same


def test_a_failed_tasks_summary_pings_nobody_and_links_no_issue() -> None:
    from hpcspec.engine.logs import TaskLog
    from hpcspec.hpcpack.live import LiveTask
    from hpcspec.hpcpack.states import TaskState
    from hpcspec.render.failures import failures_markdown

    log = TaskLog(PINGS, 12, LiveTask(1, PINGS, TaskState.Failed, output=PINGS))
    markdown = failures_markdown([log], hidden=0, command="hpcspec logs")
    # GitHub links nothing inside <pre> (the task's output); the fold's title is outside it.
    assert _pings(re.sub(r"<pre>.*?</pre>", "", markdown, flags=re.DOTALL)) == []


def test_status_markdown_shows_task_names_and_output_inert() -> None:
    from hpcspec.engine.status import FailedTask, JobStatus
    from hpcspec.render.status import render_status_markdown

    task = FailedTask("t\r::add-mask::x", 1, 0, 2, (HOSTILE, "\x1b]8;;https://e.example\x07link"))
    row = JobStatus(HOSTILE, 7, "Failed", {"Failed": 1}, 1, failed=(task,))
    markdown = render_status_markdown(HOSTILE, [row])
    _terminal_inert(markdown)
    assert "<img" not in markdown and "```" not in markdown


def test_force_unlock_shows_the_lock_jobs_owner_inert(
    monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    from hpcspec.cli import lock_cmd
    from hpcspec.hpcpack.live import LiveJob
    from hpcspec.hpcpack.states import JobState

    class Client:
        def close(self) -> None:
            pass

    monkeypatch.setattr(lock_cmd, "open_client", lambda _flags: (Client(), None))
    lock = LiveJob(5, JobState.Canceled, owner="HPC\\x\r::error::forged\x1b[2J")
    monkeypatch.setattr(lock_cmd, "force_unlock", lambda _client, _stack, _id: lock)
    code, out, _ = run_cli("force-unlock", "5", "--stack", "s", "--force")
    assert code == 0 and "released (owner HPC\\x\\r::error::forged\\x1b[2J)" in out
    _terminal_inert(out)
