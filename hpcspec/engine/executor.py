"""The step executor: runs the steps of a plan once, in dependency order (DESIGN.md §4).

The threads live here, the rules about what to do in `step_generator`, what each step does in
`step_runner` and how it is done once in `exactly_once`. Jobs run in waves: a wave holds the
keys whose parents are done (a parent's id goes into `ParentJobIds`). In a wave, each key's
steps run in order, keys in parallel (`parallelism` requests in flight at most). A key whose
next step is batched (a race check) parks; one job listing settles a whole batch, and each
batch's winners go on (submit, then the re-check) while later keys are still being created.
A job XML create's mark runs beside its key's race check (`steps.mark_beside_race_check`); the
submit waits for both. A failure stops only the failing key and the keys that depend on it;
the result says, per key of the plan, what was done, what failed and what never started.
Each step's start and end, and each key's result, go to the observer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hpcspec.engine import race, steps
from hpcspec.engine.custom_identity import client_source_known
from hpcspec.engine.events import Event, JobApplied, Observer, StepFinished, StepStarted
from hpcspec.engine.heap import frozen_heap
from hpcspec.engine.journal import Journal
from hpcspec.engine.outcomes import ApplyResult, JobResult, Outcome, StepFailed
from hpcspec.engine.plan import Action, Plan
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.engine.race import Settlement
from hpcspec.engine.step_runner import StepRunner
from hpcspec.engine.steps import (
    ApplyOptions,
    JobSteps,
    RaceCheck,
    RecheckRace,
    SettleRace,
    Step,
)
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.jobxml import SecretResolver

log = logging.getLogger(__name__)
LISTING_PAGE = 1000  # rows per job-listing request (the client's rowsPerRead)
SETTLE_BATCHES = 8  # a big wave is settled (one listing each) in about this many batches
LAST_STARTS = 2  # once at most this many × parallelism keys are left, they start first


@dataclass
class _Progress:
    """One key's steps as they run: the next step and the job they act on."""

    chain: JobSteps
    job_id: int | None
    position: int = 0
    beside: steps.Mark | None = None  # the mark that runs beside the key's race check
    marking: bool = False  # that mark has not ended (set and cleared by the wave's loop)
    mark_failed: str | None = None  # why it failed
    settled: bool = False  # the race check ended while the mark ran; its result is `held`
    held: JobResult | None = None  # the check's result (None: our job won)


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
    run.runner.seen = {  # the Configuring jobs apply changes or submits as they are
        c.key: (c.live_id, c.live_content)
        for c in plan.changes
        if c.action in (Action.UPDATE, Action.SUBMIT) and c.live_id and c.live_content
    }
    with frozen_heap():  # no full collector pass over the plan while requests wait
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
        self.cluster, self.stack, self.keys = cluster, stack, keys
        self.options, self.observer = options, observer
        self.ids = dict(known_ids)
        self.runner = StepRunner(cluster, stack, journal, secret, self.ids)
        self.results: dict[str, JobResult] = {}
        self.floors: Mapping[str, int] | None = None  # None: ended jobs are no rivals
        self._lock = threading.Lock()

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
            # A REST create's task writes: `parallelism` at once across the whole apply.
            ThreadPoolExecutor(max_workers=self.options.parallelism) as self.runner.task_pool,
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
        wave's listings cost at most about one request per `parallelism` jobs. A mark that
        runs beside its key's race check goes before other work (while the check is pending it
        parks no key, so a batch does not wait for it; once the check let the key through, its
        submit and re-check follow, so the re-checks wait for it); once at most `LAST_STARTS`
        × `parallelism` keys are left to start, they start before other keys resume, so the
        wave's last key is not created late (`benchmarks/schedule_model.py`).
        """
        slots = self.options.parallelism
        batch = max(slots, len(wave) // SETTLE_BATCHES)
        to_start = deque(wave)
        to_resume: deque[_Progress] = deque()
        to_mark: deque[_Progress] = deque()
        parked: list[_Progress] = []
        running: dict[Future[Any], tuple[str, Any]] = {}
        finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()

        def launch(work: Callable[[Any], Any], item: Any, kind: str) -> None:
            future = pool.submit(work, item)
            running[future] = (kind, item)
            future.add_done_callback(finished.put)

        settling = False
        while to_start or to_resume or to_mark or parked or running:
            # Work that can still park a key: a start or resume, or the mark of a key its
            # race check let through (its submit follows, then its re-check). A mark whose
            # key still waits for its check parks nothing new.
            busy = any(
                kind not in ("settle", "mark") or (kind == "mark" and item.settled)
                for kind, item in running.values()
            )
            while len(running) < slots:
                idle = not (to_start or to_resume or busy)  # nothing else can park a key
                # Re-checks after a submit ride along with the next batch of checks.
                checks = sum(isinstance(self._race(p), SettleRace) for p in parked)
                last = 0 < len(to_start) <= LAST_STARTS * slots
                if parked and not settling and (checks >= batch or idle):
                    chosen, parked = parked, []
                    launch(self._settle, chosen, "settle")
                    settling = True
                elif to_mark:
                    launch(self._mark_beside, to_mark.popleft(), "mark")
                elif to_resume and not last:
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
                elif kind == "mark":
                    future.result()  # the mark's failure is in `mark_failed`
                    item.marking = False
                    to_resume.extend(self._join(item, item.held) if item.settled else [])
                elif isinstance(outcome := future.result(), JobResult):
                    self.finish(outcome)
                else:
                    parked.append(outcome)
                    if outcome.beside is not None and not outcome.marking:
                        outcome.marking = True
                        to_mark.append(outcome)

    def _advance(self, progress: _Progress) -> _Progress | JobResult:
        """Run the key's steps up to a batched one (parked) or the end (its result). A mark
        that may run beside the race check (`steps.mark_beside_race_check`) is left to the
        wave's loop, once the client knows how to list marked jobs (`client_source_known`)."""
        chain = progress.chain
        while progress.position < len(chain.steps):
            step = chain.steps[progress.position]
            if step.batched:
                return progress
            if (
                isinstance(step, steps.Mark)
                and steps.mark_beside_race_check(chain.steps, progress.position)
                and client_source_known(self.cluster)
            ):
                progress.beside = step
                progress.position += 1
                continue
            failed = self._reported(progress, step)
            if failed is not None:
                return JobResult(chain.key, Outcome.FAILED, chain.action, progress.job_id, failed)
            progress.position += 1
        return JobResult(chain.key, Outcome.DONE, chain.action, progress.job_id)

    def _mark_beside(self, progress: _Progress) -> None:
        """The mark of a key parked for its race check (its failure waits in `mark_failed`)."""
        assert progress.beside is not None  # queued by the wave's loop for this mark
        progress.mark_failed = self._reported(progress, progress.beside)

    def _reported(self, progress: _Progress, step: Step) -> str | None:
        """Run one step between its started and finished events; why it failed, or None."""
        self.notify(StepStarted(self.stack, step.key, step.kind, _acted_on(progress, step)))
        try:
            progress.job_id = self.runner.run(step, progress.job_id)
        except Exception as error:
            ended = StepFinished(self.stack, step.key, step.kind, _acted_on(progress, step), True)
            self.notify(ended)
            return _why(error)
        ended = StepFinished(self.stack, step.key, step.kind, _acted_on(progress, step, True))
        self.notify(ended)
        return None

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
            why = race.unlisted(error)
            settled = Settlement(failures={c.key: why for c in claims})
        for step, progress in zip(checks, batch, strict=True):
            failed = step.key in settled.failures
            self.notify(StepFinished(self.stack, step.key, step.kind, progress.job_id, failed))
        return settled

    def _after_settle(self, batch: list[_Progress], settled: Settlement) -> list[_Progress]:
        """The keys that go on (`_join`); a key whose mark still runs beside its check waits
        for it."""
        go_on = []
        for progress in batch:
            result = self._checked(progress, settled)
            if progress.marking:
                progress.settled, progress.held = True, result
            else:
                go_on += self._join(progress, result)
        return go_on

    def _checked(self, progress: _Progress, settled: Settlement) -> JobResult | None:
        """A key's result from its race check: None if our job won; the winner's job if ours
        lost (it is the key's job, ours was cancelled); the failure if the check failed."""
        chain, mine = progress.chain, progress.job_id
        if chain.key in settled.failures:
            error = settled.failures[chain.key]
            if isinstance(self._race(progress), RecheckRace):
                assert mine is not None  # a re-check follows our submit
                error = race.after_submit(error, mine)
            return JobResult(chain.key, Outcome.FAILED, chain.action, mine, str(error))
        verdict = settled.verdicts[chain.key]
        if verdict.winner == mine:
            return None
        state = "" if verdict.submitted else " (not submitted yet)"
        message = (
            f"another apply's job {verdict.winner}{state} carries the key; "
            f"ours ({mine}) was cancelled"
        )
        if verdict.other_spec:  # the key has its job, but not the spec this apply asked for
            error = race.spec_raced(message, verdict.winner)
            return JobResult(chain.key, Outcome.FAILED, chain.action, verdict.winner, str(error))
        return JobResult(chain.key, Outcome.DONE, chain.action, verdict.winner, message)

    def _join(self, progress: _Progress, result: JobResult | None) -> list[_Progress]:
        """A key whose race check (`result`) and mark have both ended goes on only if our job
        won and is marked: a failed mark fails the key (its job stays unsubmitted, for the next
        apply's recovery), unless the job lost, was cancelled, and the winner carries the key."""
        progress.settled, progress.held, progress.beside = False, None, None
        chain = progress.chain
        lost = result is not None and result.outcome is Outcome.DONE
        if progress.mark_failed is not None and not lost:
            why = progress.mark_failed
            result = JobResult(chain.key, Outcome.FAILED, chain.action, progress.job_id, why)
        if result is not None:
            self.finish(result)
            return []
        progress.position += 1
        return [progress]

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
