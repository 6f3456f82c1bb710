"""The step executor: runs the steps of a plan once, in dependency order (DESIGN.md §4).

The threads live here, the rules about what to do in `step_generator` and about doing it once
in `exactly_once`. Jobs run in waves: a wave holds the keys whose parents are done (a parent's
id goes into `ParentJobIds`). In a wave, each key's steps run in order, keys in parallel
(`parallelism` requests in flight at most). A key whose next step is batched (a race
check) parks; one job listing settles a whole batch, and each batch's winners go on (submit,
then the re-check) while later keys are still being created. A failure stops only the
failing key and the keys that depend on it; the result says, per key of the plan, what was
done, what failed and what never started. Each step's start and end, and each key's result,
go to the observer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hpcspec.engine import exactly_once, identity, race, rescue, steps
from hpcspec.engine.events import Event, JobApplied, Observer, StepFinished, StepStarted
from hpcspec.engine.exactly_once import CreateRequest
from hpcspec.engine.journal import Journal, JournalEvent
from hpcspec.engine.lifecycle import cancel_message
from hpcspec.engine.outcomes import ApplyResult, JobResult, Outcome, StepFailed
from hpcspec.engine.plan import Plan
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.engine.race import Settlement
from hpcspec.engine.steps import (
    ApplyOptions,
    JobSteps,
    RaceCheck,
    RecheckRace,
    SettleRace,
    Step,
)
from hpcspec.engine.update import rekey, update_job
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.jobxml import SecretResolver
from hpcspec.manifest.resolve import DesiredJob

log = logging.getLogger(__name__)
LISTING_PAGE = 1000  # rows per job-listing request (the client's rowsPerRead)
SETTLE_BATCHES = 8  # a big wave is settled (one listing each) in about this many batches


class ApplyRefused(HpcspecError):
    """A change apply will not carry out (it names why)."""


@dataclass
class _Progress:
    """One key's steps as they run: the next step and the job they act on."""

    chain: JobSteps
    job_id: int | None
    position: int = 0


def execute(
    cluster: ClusterWriter,
    plan: Plan,
    chains: Sequence[JobSteps],
    journal: Journal,
    *,
    keys: Sequence[str],
    options: ApplyOptions,
    secret: SecretResolver,
    observer: Observer,
    known_ids: Mapping[str, int],
    floors: Mapping[str, int] | None = None,
) -> ApplyResult:
    """Run `chains` (the steps of `plan`'s changes); refused and unchanged keys are reported
    as they are. `keys` are every key of the stack; `known_ids` the live job of each key
    discovery found (parents outside the plan); `floors` each key's highest ended job id
    discovery saw (`LiveStack.ended_floors`, for the race rule)."""
    run = _Executor(cluster, plan.stack, keys, journal, options, secret, observer, known_ids)
    run.floors = floors
    return run.run(plan, chains)


class _Executor:
    def __init__(
        self,
        cluster: ClusterWriter,
        stack: str,
        keys: Sequence[str],
        journal: Journal,
        options: ApplyOptions,
        secret: SecretResolver,
        observer: Observer,
        known_ids: Mapping[str, int],
    ) -> None:
        self.cluster, self.stack, self.keys, self.journal = cluster, stack, keys, journal
        self.options, self.secret, self.observer = options, secret, observer
        self.ids = dict(known_ids)
        self.results: dict[str, JobResult] = {}
        self.floors: Mapping[str, int] | None = None  # None: ended jobs are no rivals
        self._lock = threading.Lock()
        # A REST create's task writes: `parallelism` at once across the whole apply.
        self.task_pool: ThreadPoolExecutor | None = None

    def notify(self, event: Event) -> None:
        with self._lock:  # workers report too: the observer hears one event at a time
            self.observer.notify(event)

    def finish(self, result: JobResult) -> None:
        self.results[result.key] = result
        if result.job_id is not None:
            self.ids[result.key] = result.job_id
        self.notify(JobApplied(self.stack, result))

    def run(self, plan: Plan, chains: Sequence[JobSteps]) -> ApplyResult:
        for change in plan.changes:
            self.ids.update({change.key: change.live_id} if change.live_id is not None else {})
            if change.blocks:
                message = change.blocks[0].message
                self.finish(
                    JobResult(change.key, Outcome.REFUSED, change.action, change.live_id, message)
                )
            elif not change.is_change:
                self.finish(JobResult(change.key, Outcome.UNCHANGED, change.action, change.live_id))
        by_key = {c.key: c for c in chains if c.key not in self.results}
        pending = [c.key for c in plan.changes if c.key in by_key]
        with (
            ThreadPoolExecutor(max_workers=self.options.parallelism) as pool,
            ThreadPoolExecutor(max_workers=self.options.parallelism) as self.task_pool,
        ):
            while pending:
                wave = [k for k in pending if not set(by_key[k].depends_on) & set(pending)]
                if not wave:  # parents failed or never started
                    break
                self._run_wave(pool, [_Progress(by_key[k], by_key[k].live_id) for k in wave])
                failed = {k for k in wave if self.results[k].outcome is Outcome.FAILED}
                pending = [k for k in pending if k not in wave]
                blocked = _dependents(by_key, failed, pending)
                for key in blocked:
                    self._not_started(by_key[key], "a job it depends on failed")
                pending = [k for k in pending if k not in blocked]
        for key in pending:
            self._not_started(by_key[key], "a job it depends on did not finish applying")
        return ApplyResult(tuple(self.results[c.key] for c in plan.changes))

    def _not_started(self, chain: JobSteps, why: str) -> None:
        self.finish(JobResult(chain.key, Outcome.NOT_STARTED, chain.action, chain.live_id, why))

    def _run_wave(self, pool: ThreadPoolExecutor, wave: list[_Progress]) -> None:
        """Advance every key, settle parked keys in batches, go on with each batch once it is
        settled; a key's result is reported as soon as it is known.

        At most `parallelism` tasks run at once. A batch is settled (one listing) when an
        eighth of the wave (at least `parallelism` keys), or every key still running, is
        parked (race checks before and re-checks after a submit share listings): the
        first jobs are submitted while later ones are still being created, at a few listings
        per wave. On a cluster whose listing takes several pages, batches grow so that a
        wave's listings cost at most about one request per `parallelism` jobs.
        """
        slots = self.options.parallelism
        batch = max(slots, len(wave) // SETTLE_BATCHES)
        to_start = deque(wave)
        to_resume: deque[_Progress] = deque()
        parked: list[_Progress] = []
        running: dict[Future[Any], tuple[str, Any]] = {}
        finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()

        def launch(work: Callable[[Any], Any], item: Any, kind: str) -> None:
            future = pool.submit(work, item)
            running[future] = (kind, item)
            future.add_done_callback(finished.put)

        settling = False
        while to_start or to_resume or parked or running:
            busy = any(kind != "settle" for kind, _ in running.values())
            while len(running) < slots:
                idle = not (to_start or to_resume or busy)  # nothing else can park a key
                # Re-checks after a submit ride along with the next batch of checks.
                checks = sum(isinstance(self._race(p), SettleRace) for p in parked)
                if parked and not settling and (checks >= batch or idle):
                    chosen, parked = parked, []
                    launch(self._settle, chosen, "settle")
                    settling = True
                elif to_resume:
                    launch(self._advance, to_resume.popleft(), "resume")
                    busy = True
                elif to_start:
                    launch(self._advance, to_start.popleft(), "start")
                    busy = True
                else:
                    break
            done = [finished.get()]
            while not finished.empty():
                done.append(finished.get())
            for future in done:
                kind, item = running.pop(future)
                if kind == "settle":
                    settling = False
                    settled: Settlement = future.result()
                    to_resume.extend(self._after_settle(item, settled))
                    pages = -(-settled.rows_listed // LISTING_PAGE)
                    batch = max(batch, pages * slots)
                elif isinstance(outcome := future.result(), JobResult):
                    self.finish(outcome)
                else:
                    parked.append(outcome)

    def _advance(self, progress: _Progress) -> _Progress | JobResult:
        """Run the key's steps up to a batched one (parked) or the end (its result)."""
        chain = progress.chain
        while progress.position < len(chain.steps):
            step = chain.steps[progress.position]
            if step.batched:
                return progress
            self.notify(StepStarted(self.stack, step.key, step.kind, _acted_on(progress, step)))
            try:
                self._run_step(progress, step)
            except Exception as error:
                ended = StepFinished(
                    self.stack, step.key, step.kind, _acted_on(progress, step), True
                )
                self.notify(ended)
                return JobResult(
                    chain.key, Outcome.FAILED, chain.action, progress.job_id, _why(error)
                )
            ended = StepFinished(self.stack, step.key, step.kind, _acted_on(progress, step, True))
            self.notify(ended)
            progress.position += 1
        return JobResult(chain.key, Outcome.DONE, chain.action, progress.job_id)

    def _run_step(self, progress: _Progress, step: Step) -> None:
        """What each (unbatched) step kind does."""
        match step:
            case steps.CancelDuplicate():
                message = (
                    identity.extra_job_message(step.kept) if step.kept else "hpcspec: extra job"
                )
                exactly_once.cancel_once(self.cluster, step.job_id, message, forced=True)
            case steps.Cancel():
                # The message marks the job as ended by hpcspec (`lifecycle`): a destroyed
                # key is created again by the next apply, and a replaced job names its heir.
                message = cancel_message(
                    step.reason, at=datetime.now(UTC), replaced_by=progress.job_id
                )
                exactly_once.cancel_once(self.cluster, step.job_id, message, forced=False)
            case steps.Create():
                request = self._request(step.job, step.source)
                progress.job_id = exactly_once.create_once(
                    self.cluster,
                    request,
                    self.journal,
                    via=step.via,
                    secret=self.secret,
                    task_pool=self.task_pool,
                )
            case steps.Mark():
                assert progress.job_id is not None  # JobSteps: a mark follows a create
                request = self._request(step.job, "")
                exactly_once.mark(self.cluster, request, progress.job_id, via=step.via)
                self.journal.record(JournalEvent.MARKED, step.key, job_id=progress.job_id)
            case steps.Update():
                update_job(self.cluster, step.stack, step.job, step.change, self.secret)
            case steps.Submit():
                assert progress.job_id is not None  # JobSteps: a submit acts on a job
                job_id = progress.job_id
                note = exactly_once.submit_once(self.cluster, job_id, step.run_as, self.secret)
                self.journal.record(
                    JournalEvent.SUBMITTED, step.key, job_id=job_id, note=note or None
                )
            case steps.Requeue():
                self.cluster.requeue_job(step.job_id)
            case steps.RequeueFailed():
                rescue.requeue_failed(self.cluster, step.job_id)
            case steps.CancelTask():
                message = cancel_message(step.reason, at=datetime.now(UTC))
                rescue.cancel_task(self.cluster, step.job_id, step.task, message)
            case steps.Rekey():
                rekey(self.cluster, step)
            case _:
                raise AssertionError(f"no way to run a {step.kind} step here")

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

    def _settle(self, batch: list[_Progress]) -> Settlement:
        """One listing decides the race of every parked key (`SettleRace` before a submit,
        `RecheckRace` after it; `race.py`). A listing that fails fails the whole batch:
        nothing is submitted on an unchecked race."""
        checks = [self._race(p) for p in batch]
        claims = []
        for step, progress in zip(checks, batch, strict=True):
            assert progress.job_id is not None  # JobSteps: a race check acts on a job
            floor = None if self.floors is None else self.floors.get(step.key, 0)
            claims.append(race.Claim(step.key, progress.job_id, step.superseded, floor))
            self.notify(StepStarted(self.stack, step.key, step.kind, progress.job_id))
        try:
            settled = race.settle(self.cluster, self.stack, claims, all_keys=self.keys)
        except Exception as error:  # no listing: no key of the batch may go on
            why = f"the race check with other appliers failed: {_why(error)}"
            settled = Settlement(failures={c.key: why for c in claims})
        for step, progress in zip(checks, batch, strict=True):
            failed = step.key in settled.failures
            self.notify(StepFinished(self.stack, step.key, step.kind, progress.job_id, failed))
        return settled

    def _after_settle(self, batch: list[_Progress], settled: Settlement) -> list[_Progress]:
        """The keys that go on (their job won); a key whose job lost is done — the winner's
        job is the key's job, and ours was cancelled; a key whose check failed failed."""
        go_on = []
        for progress in batch:
            chain, mine = progress.chain, progress.job_id
            check = self._race(progress)
            if chain.key in settled.failures:
                why = settled.failures[chain.key]
                if isinstance(check, RecheckRace):
                    why = f"job {mine} was submitted, but {why}; run apply again to settle it"
                self.finish(JobResult(chain.key, Outcome.FAILED, chain.action, mine, why))
                continue
            verdict = settled.verdicts[chain.key]
            if verdict.winner != mine:
                state = "" if verdict.submitted else " (not submitted yet)"
                message = (
                    f"another apply's job {verdict.winner}{state} carries the key; "
                    f"ours ({mine}) was cancelled"
                )
                self.finish(
                    JobResult(chain.key, Outcome.DONE, chain.action, verdict.winner, message)
                )
                continue
            progress.position += 1
            go_on.append(progress)
        return go_on

    @staticmethod
    def _race(progress: _Progress) -> RaceCheck:
        step = progress.chain.steps[progress.position]
        assert isinstance(step, RaceCheck)  # the only batched kinds
        return step


def _acted_on(progress: _Progress, step: Step, done: bool = False) -> int | None:
    """The job a step acts on: its own (a cancel's, a requeue's), else the key's; a create
    acts on none until it is done, and then on the job it made."""
    if isinstance(step, steps.Create) and not done:
        return None
    job_id: int | None = getattr(step, "job_id", progress.job_id)
    return job_id


def _why(error: Exception) -> str:
    """A failed step's report: its own words, or the surprise's type and text (one key's
    surprise must not stop the others)."""
    if isinstance(error, StepFailed | HpcspecError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _dependents(by_key: Mapping[str, JobSteps], failed: set[str], pending: list[str]) -> set[str]:
    out = set(failed)
    grew = True
    while grew:
        grew = False
        for key in pending:
            if key not in out and any(p in out for p in by_key[key].depends_on):
                out.add(key)
                grew = True
    return out - failed
