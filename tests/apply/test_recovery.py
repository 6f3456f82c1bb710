"""Recovery from the cluster, not the journal (issue 13 (5), (6)): jobs a killed apply left
pending are found by their pending Name in one listing, whatever the journal says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine import exactly_once
from hpcspec.engine.events import Event, Resumed
from hpcspec.engine.exactly_once import CreateRequest
from hpcspec.engine.journal import Journal
from hpcspec.engine.pipeline import ApplyRequest, apply_stacks
from hpcspec.engine.secrets import resolve_secret
from hpcspec.engine.steps import CreateMethod
from hpcspec.manifest.resolve import ResolvedStack
from tests.apply.recording import install
from tests.apply.stacks import audit, make_stack, patient_client


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    made = patient_client(cluster)
    yield made
    made.close()


def created_unmarked(client: Any, stack: ResolvedStack, journal: Journal, via: str) -> list[int]:
    """What an apply killed right after its creates leaves: pending jobs, no marker (a job
    XML create carries its parents' ids, as apply's does)."""
    ids: dict[str, int] = {}
    for key, job in stack.jobs.items():
        parents = tuple(ids[p] for p in job.depends_on)
        request = CreateRequest(stack.stack, key, job.digest, job.definition, parent_ids=parents)
        method = CreateMethod(via)
        ids[key] = exactly_once.create_once(
            client, request, journal, via=method, secret=resolve_secret
        )
    return list(ids.values())


class Seen:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def notify(self, event: Event) -> None:
        self.events.append(event)


def apply(client: Any, stack: ResolvedStack, root: Path) -> Seen:
    seen = Seen()
    request = ApplyRequest(cluster_name="emulator", journal_root=root)
    apply_stacks(client, [stack], request, observer=seen, confirm=lambda _: True)
    return seen


@pytest.mark.slow
def test_a_lost_journal_still_adopts_the_pending_job_xml_creates_in_one_listing(
    cluster: Any, client: Any, tmp_path: Path
) -> None:
    stack = make_stack("recover-xml", 6)
    journal = Journal(tmp_path / "lost" / "recover-xml.jsonl")
    pending = created_unmarked(client, stack, journal, "xml")
    journal.path.unlink()  # an ephemeral CI runner: the next apply has no journal
    recorder = install(cluster)
    seen = apply(client, stack, tmp_path)
    resumed = [e for e in seen.events if isinstance(e, Resumed)]
    assert [sorted(e.job_ids) for e in resumed] == [sorted(pending)]
    found = audit(client, "recover-xml", list(stack.jobs))
    assert sorted(found.survivors().values()) == sorted(pending)  # adopted, none created
    assert found.configuring() == [] and found.two_alive() == []
    routes = [route for route, _ in recorder.seen]
    marks = [n for n, r in enumerate(routes) if r.startswith("PUT /hpc/jobs/")]
    # Recovery found all six from the lock's one discovery: no lookup per pending create.
    # (A client with no profile lists twice while no job shows a marker: `unmeasured`.)
    before = routes[: marks[0]]
    assert not [r for r in before if r.startswith("GET /hpc/jobs/")], routes
    assert before.count("GET /hpc/jobs") <= 2, routes


@pytest.mark.slow
def test_a_pending_rest_create_is_cancelled_and_created_anew(client: Any, tmp_path: Path) -> None:
    stack = make_stack("recover-rest", 2)
    journal = Journal(tmp_path / "lost" / "recover-rest.jsonl")
    pending = created_unmarked(client, stack, journal, "rest")
    journal.path.unlink()
    seen = apply(client, stack, tmp_path)
    resumed = [e for e in seen.events if isinstance(e, Resumed)]
    assert [sorted(e.cancelled) for e in resumed] == [sorted(pending)]
    found = audit(client, "recover-rest", list(stack.jobs))
    assert set(found.survivors().values()).isdisjoint(pending)
    assert found.configuring() == [] and found.two_alive() == []
    assert found.wrong_tasks(2) == []


def test_a_pending_job_is_never_current_for_plan_or_status(client: Any, tmp_path: Path) -> None:
    """Issue 13 (2): a REST build in progress is not a Configuring job to update."""
    from hpcspec.engine.pipeline import plan_stack
    from hpcspec.engine.plan import Action
    from hpcspec.engine.status import stack_status

    stack = make_stack("recover-busy", 1)
    created_unmarked(client, stack, Journal(tmp_path / "j.jsonl"), "rest")
    plan = plan_stack(client, stack, cluster_name="emulator")
    assert [c.action for c in plan.changes] == [Action.CREATE]
    assert [row.state for row in stack_status(client, "recover-busy", ["j0"])] == ["absent"]


def test_an_adopted_pending_job_edited_by_hand_is_restored_before_it_is_submitted(
    client: Any, tmp_path: Path
) -> None:
    """Recovery adopts a killed apply's whole job XML create; the plan then reads that
    Configuring job whole, so a task edited meanwhile is restored, never submitted (red team
    f3: before, the plan said "submit" and the edited task ran)."""
    from hpcspec.engine.events import Planned
    from hpcspec.engine.plan import Action, ReasonCode

    stack = make_stack("recover-edited", 1)
    journal = Journal(tmp_path / "lost" / "recover-edited.jsonl")
    (pending,) = created_unmarked(client, stack, journal, "xml")
    wanted = [t.command_line for t in client.read_whole_job(pending).definition.tasks]
    client.set_task(pending, 1, {"CommandLine": "echo TAMPERED"})
    journal.path.unlink()

    seen = apply(client, stack, tmp_path)
    assert [sorted(e.job_ids) for e in seen.events if isinstance(e, Resumed)] == [[pending]]
    (planned,) = [e for e in seen.events if isinstance(e, Planned)]
    (change,) = planned.plans[0].changes
    assert change.action is Action.UPDATE and change.live_id == pending, change
    assert ReasonCode.DRIFT in [r.code for r in change.reasons], change
    whole = client.read_whole_job(pending).definition
    assert [t.command_line for t in whole.tasks] == wanted
    assert client.job_state(pending).name != "Configuring"  # submitted, as restored


def test_an_adopted_pending_job_without_its_parents_is_replaced_not_submitted(
    client: Any, tmp_path: Path
) -> None:
    """A leftover Configuring job whose ParentJobIds do not hold its dependsOn would run
    before its parent: the plan (drift's rule) sees it and a new job with the parents
    replaces it."""
    from hpcspec.engine.events import Planned
    from hpcspec.engine.plan import Action

    stack = make_stack("recover-orphaned", 5)  # j4 depends on j3
    journal = Journal(tmp_path / "lost" / "recover-orphaned.jsonl")
    for key, job in stack.jobs.items():  # no parent ids: j4 lost its dependency
        request = CreateRequest(stack.stack, key, job.digest, job.definition)
        exactly_once.create_once(
            client, request, journal, via=CreateMethod.XML, secret=resolve_secret
        )
    journal.path.unlink()

    seen = apply(client, stack, tmp_path)
    (planned,) = [e for e in seen.events if isinstance(e, Planned)]
    actions = {c.key: c.action for c in planned.plans[0].changes}
    assert actions == {**{f"j{n}": Action.SUBMIT for n in range(4)}, "j4": Action.REPLACE}
    found = audit(client, "recover-orphaned", list(stack.jobs))
    survivor = found.survivors()["j4"]
    parents = client.job_properties(survivor, ["ParentJobIds"]).text("ParentJobIds")
    assert parents == str(found.survivors()["j3"])
