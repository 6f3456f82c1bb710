"""Running one step of apply on the cluster: what each (unbatched) step kind does.

The executor (`executor.py`) decides when a key's step runs and reports its events;
`StepRunner.run` carries it out through the exactly-once rules (`exactly_once`), the journal,
and the update and rescue actions. A new step kind's action goes here (`steps.py` lists the
other places).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hpcspec.engine import exactly_once, identity, rescue, steps
from hpcspec.engine.drift import whole_digest
from hpcspec.engine.exactly_once import CreateRequest
from hpcspec.engine.journal import Journal, JournalEvent
from hpcspec.engine.lifecycle import cancel_message
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.engine.steps import Step
from hpcspec.engine.update import rekey, update_job
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.jobxml import SecretResolver
from hpcspec.manifest.resolve import DesiredJob


class ApplyRefused(HpcspecError):
    """A change apply will not carry out (it names why)."""


@dataclass
class StepRunner:
    """What one apply needs to run its steps."""

    cluster: ClusterWriter
    stack: str
    journal: Journal
    secret: SecretResolver
    ids: Mapping[str, int]  # each key's live job (a create's parents), as the apply learns them
    task_pool: Executor | None = None  # a REST create's task writes, shared across the apply
    # key → (job id, what the plan saw of that Configuring job read whole:
    # `Change.live_content`), until apply first changes or submits it (`unchanged_since_plan`)
    seen: dict[str, tuple[int, str]] = field(default_factory=dict)

    def run(self, step: Step, job_id: int | None) -> int | None:
        """Run `step` on its key's job `job_id`; returns the key's job afterwards (a create's
        new job, else `job_id`)."""
        cluster = self.cluster
        match step:
            case steps.CancelDuplicate():
                message = (
                    identity.extra_job_message(step.kept) if step.kept else "hpcspec: extra job"
                )
                exactly_once.cancel_once(cluster, step.job_id, message, forced=True)
            case steps.Cancel():
                # The message marks the job as ended by hpcspec (`lifecycle`): a destroyed
                # key is created again by the next apply, and a replaced job names its heir.
                message = cancel_message(step.reason, at=datetime.now(UTC), replaced_by=job_id)
                exactly_once.cancel_once(cluster, step.job_id, message, forced=False)
            case steps.Create():
                request = self._request(step.job, step.source)
                return exactly_once.create_once(
                    cluster,
                    request,
                    self.journal,
                    via=step.via,
                    secret=self.secret,
                    task_pool=self.task_pool,
                )
            case steps.Mark():
                assert job_id is not None  # JobSteps: a mark follows a create
                request = self._request(step.job, "")
                exactly_once.mark(cluster, request, job_id, via=step.via)
                self.journal.record(JournalEvent.MARKED, step.key, job_id=job_id)
            case steps.Update():
                self.unchanged_since_plan(step.key, step.change.live_id)
                update_job(cluster, step.stack, step.job, step.change, self.secret)
            case steps.Submit():
                assert job_id is not None  # JobSteps: a submit acts on a job
                self.unchanged_since_plan(step.key, job_id)
                note = exactly_once.submit_once(cluster, job_id, step.run_as, self.secret)
                self.journal.record(
                    JournalEvent.SUBMITTED, step.key, job_id=job_id, note=note or None
                )
            case steps.Requeue():
                cluster.requeue_job(step.job_id)
            case steps.RequeueFailed():
                rescue.requeue_failed(cluster, step.job_id)
            case steps.CancelTask():
                message = cancel_message(step.reason, at=datetime.now(UTC))
                rescue.cancel_task(cluster, step.job_id, step.task, message)
            case steps.Rekey():
                self.unchanged_since_plan(step.key, step.job_id)
                rekey(cluster, step)
            case _:
                raise AssertionError(f"no way to run a {step.kind} step here")
        return job_id

    def unchanged_since_plan(self, key: str, job_id: int | None) -> None:
        """Before apply first writes to (re-keys, updates) or submits a Configuring job it did
        not create, the job read whole must be as the plan saw it (4 requests + 2 per task):
        an edit made while the plan waited for its confirmation is refused, never submitted."""
        seen = self.seen.pop(key, None)
        if seen is None or job_id != seen[0]:
            return
        now = self.cluster.read_whole_job(job_id).definition
        if now is None or whole_digest(now) != seen[1]:
            raise ApplyRefused(
                f"job {job_id} ({key}) was edited after the plan (its tasks, env or "
                "properties): not changed or submitted",
                code="edited-since-plan",
                hint="run hpcspec plan again, review the edits, and apply",
            )

    def _request(self, job: DesiredJob, source: str) -> CreateRequest:
        missing = [p for p in job.depends_on if p not in self.ids]
        if missing:
            raise ApplyRefused(
                f"{job.key} depends on {', '.join(missing)}, which has no live job",
                code="missing-parent",
                hint=f"apply {missing[0]} first (or drop --target)",
            )
        parents = tuple(self.ids[p] for p in job.depends_on)
        return CreateRequest(self.stack, job.key, job.digest, job.definition, source, parents)
