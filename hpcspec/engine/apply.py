"""Apply: carry a plan out on the cluster, once, in dependency order (DESIGN.md §4).

Jobs run in waves: a wave holds the jobs whose parents are done (a parent's id goes into
`ParentJobIds`). In each wave the jobs' own steps run in parallel; job listings settle races for
batches of staged jobs, and each batch's winners are submitted while later jobs are still
being created (`_Wave.run`). A failure stops
only the failing job and its dependents; everything else goes on, and the result says what
was done, what failed and what never started.
"""

from __future__ import annotations

import logging
import queue
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hpcspec.engine import create
from hpcspec.engine.discovery import choose_current, list_stack
from hpcspec.engine.journal import Journal
from hpcspec.engine.plan import Action, Change, Plan
from hpcspec.engine.protocols import ClusterWriter, OutcomeUnknown
from hpcspec.engine.secrets import resolve_secret
from hpcspec.engine.update import update_job
from hpcspec.errors import ExitCode, HpcspecError
from hpcspec.hpcpack.definition import SecretRef
from hpcspec.hpcpack.errors import RefusedByState, ServerError
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import DesiredJob, DesiredState, ResolvedStack


class Outcome(Enum):
    DONE = "done"
    FAILED = "failed"
    NOT_STARTED = "not started"
    REFUSED = "refused"  # blocked in the plan
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class JobResult:
    key: str
    outcome: Outcome
    action: Action
    job_id: int | None = None
    message: str = ""


@dataclass(frozen=True)
class ApplyResult:
    results: tuple[JobResult, ...]

    def of(self, outcome: Outcome) -> list[JobResult]:
        return [r for r in self.results if r.outcome is outcome]

    @property
    def exit_code(self) -> ExitCode:
        bad = self.of(Outcome.FAILED) + self.of(Outcome.NOT_STARTED) + self.of(Outcome.REFUSED)
        if not bad:
            return ExitCode.OK
        return ExitCode.PARTIAL if self.of(Outcome.DONE) else ExitCode.ERROR

    def job_ids(self) -> dict[str, int]:
        return {r.key: r.job_id for r in self.results if r.job_id is not None}


@dataclass(frozen=True)
class ApplyOptions:
    via: str = "xml"  # or "rest"
    parallelism: int = 8
    source: str = ""  # provenance stamped as hpcspec.source


Report = Callable[[JobResult], None]
log = logging.getLogger(__name__)
LISTING_PAGE = 1000  # rows per job-listing request (the client's rowsPerRead)
SETTLE_BATCHES = 8  # a big wave is settled (one listing each) in about this many batches
SUBMIT_ATTEMPTS = 3  # a submit is sent again only while the job is proven still Configuring


def apply_plan(
    cluster: ClusterWriter,
    stack: ResolvedStack,
    plan: Plan,
    journal: Journal,
    *,
    options: ApplyOptions,
    report: Report | None = None,
    secret: Callable[[SecretRef], str] = resolve_secret,
) -> ApplyResult:
    """Execute every unblocked change of `plan`; returns what happened per key."""
    changes = {c.key: c for c in plan.changes}
    ids: dict[str, int] = {c.key: c.live_id for c in plan.changes if c.live_id is not None}
    results: dict[str, JobResult] = {}

    def finish(result: JobResult) -> None:
        results[result.key] = result
        if result.job_id is not None:
            ids[result.key] = result.job_id
        if report is not None:
            report(result)

    def not_started(key: str, why: str) -> None:
        change = changes[key]
        finish(JobResult(key, Outcome.NOT_STARTED, change.action, change.live_id, why))

    for change in plan.changes:
        if change.blocks:
            finish(
                JobResult(
                    change.key,
                    Outcome.REFUSED,
                    change.action,
                    change.live_id,
                    change.blocks[0].message,
                )
            )
        elif not change.is_change:
            finish(JobResult(change.key, Outcome.UNCHANGED, change.action, change.live_id))
    _add_parent_ids(cluster, stack, plan, ids)
    pending = [k for k in changes if k not in results]
    with ThreadPoolExecutor(max_workers=max(1, options.parallelism)) as pool:
        while pending:
            wave = [k for k in pending if _parents_done(stack.jobs.get(k), pending)]
            if not wave:  # parents failed or never started
                break
            runner = _Wave(cluster, stack, changes, ids, journal, options, secret)
            runner.run(pool, wave, finish)
            failed = {k for k in wave if results[k].outcome is Outcome.FAILED}
            pending = [k for k in pending if k not in wave]
            blocked = _dependents(stack, failed, pending)
            for key in blocked:
                not_started(key, "a job it depends on failed")
            pending = [k for k in pending if k not in blocked]
    for key in pending:
        not_started(key, "a job it depends on did not finish applying")
    return ApplyResult(tuple(results[c.key] for c in plan.changes))


def _add_parent_ids(
    cluster: ClusterWriter, stack: ResolvedStack, plan: Plan, ids: dict[str, int]
) -> None:
    """Live ids of parents that are not in the plan (e.g. left out by --target)."""
    wanted = {
        p
        for c in plan.changes
        if c.key in stack.jobs
        for p in stack.jobs[c.key].depends_on
        if p not in ids
    }
    if not wanted:
        return
    listed = list_stack(cluster, stack.stack, list(stack.jobs)).by_key
    for key in wanted:
        if listed.get(key):
            ids[key] = choose_current(listed[key])[0].id


class ApplyRefused(HpcspecError):
    """A change apply will not carry out (it names why)."""


def _parents_done(job: DesiredJob | None, pending: list[str]) -> bool:
    return job is None or not any(parent in pending for parent in job.depends_on)


def _dependents(stack: ResolvedStack, failed: set[str], pending: list[str]) -> set[str]:
    out = set(failed)
    grew = True
    while grew:
        grew = False
        for key in pending:
            job = stack.jobs.get(key)
            if key not in out and job and any(p in out for p in job.depends_on):
                out.add(key)
                grew = True
    return out - failed


@dataclass
class _Wave:
    """One wave's work: stage (create/update/…), settle races, complete (submit)."""

    cluster: ClusterWriter
    stack: ResolvedStack
    changes: Mapping[str, Change]
    ids: Mapping[str, int]
    journal: Journal
    options: ApplyOptions
    secret: Callable[[SecretRef], str]

    def stage(self, key: str) -> int | JobResult | None:
        """Do the change's own steps. An int is a job id waiting to be submitted."""
        change = self.changes[key]
        desired = self.stack.jobs.get(key)
        try:
            for duplicate in change.duplicates:
                self._cancel(duplicate, "hpcspec: duplicate of job key " + key, forced=True)
            match change.action:
                case Action.CREATE | Action.RERUN | Action.REPLACE:
                    assert desired is not None
                    if change.action is Action.REPLACE and change.live_id is not None:
                        self._cancel(change.live_id, "hpcspec: replaced by a new job")
                    return self._create(desired)
                case Action.UPDATE:
                    assert desired is not None and change.live_id is not None
                    update_job(self.cluster, self.stack.stack, desired, change, self.secret)
                    if (
                        change.live_state == JobState.Configuring.name
                        and desired.state is DesiredState.SUBMITTED
                    ):
                        return change.live_id
                case Action.SUBMIT:
                    assert change.live_id is not None
                    return change.live_id
                case Action.REQUEUE:
                    assert change.live_id is not None
                    self.cluster.requeue_job(change.live_id)
                case Action.CANCEL:
                    assert change.live_id is not None
                    self._cancel(
                        change.live_id,
                        "hpcspec: "
                        + ("removed from the manifest" if desired is None else "state: canceled"),
                    )
                case Action.NO_OP:
                    pass
            return None
        except HpcspecError as error:
            return JobResult(key, Outcome.FAILED, change.action, change.live_id, str(error))
        except Exception as error:  # one job's surprise must not stop the others
            return JobResult(
                key,
                Outcome.FAILED,
                change.action,
                change.live_id,
                f"{type(error).__name__}: {error}",
            )

    def _cancel(self, job_id: int, message: str, *, forced: bool = False) -> None:
        """Cancel; after an unclear answer the job's state says whether it took."""
        try:
            self.cluster.cancel_job(job_id, message, forced=forced)
        except (OutcomeUnknown, ServerError, RefusedByState):
            state = self.cluster.job_state(job_id)
            if state not in (JobState.Canceling, JobState.Canceled):
                raise

    def _create(self, desired: DesiredJob) -> int | None:
        request = create.CreateRequest(
            stack=self.stack.stack,
            key=desired.key,
            digest=desired.digest,
            definition=desired.definition,
            source=self.options.source,
            parent_ids=self._parent_ids(desired),
        )
        job_id = create.create_job(
            self.cluster,
            request,
            self.journal,
            via=self.options.via,
            secret=self.secret,
        )
        create.mark(self.cluster, request, job_id, via=self.options.via)
        self.journal.record("marked", desired.key, job_id=job_id)
        if desired.state is DesiredState.SUBMITTED:
            return job_id
        self._created[desired.key] = job_id
        return None

    def _parent_ids(self, desired: DesiredJob) -> tuple[int, ...]:
        missing = [p for p in desired.depends_on if p not in self.ids]
        if missing:
            raise ApplyRefused(
                f"{desired.key} depends on {', '.join(missing)}, which has no live job",
                code="missing-parent",
                hint=f"apply {missing[0]} first (or drop --target)",
            )
        return tuple(self.ids[p] for p in desired.depends_on)

    def __post_init__(self) -> None:
        self._created: dict[str, int] = {}
        self.winners: dict[str, int] = {}

    def run(self, pool: ThreadPoolExecutor, wave: list[str], finish: Report) -> None:
        """Stage every job, settle races in batches, submit each batch once it is settled;
        `finish` hears of each job as soon as it is done.

        At most `parallelism` steps run at once. A batch is settled (one listing) when an
        eighth of the wave (at least `parallelism` jobs), or every job left, is staged and
        waiting: the first jobs are submitted while later ones are still being created, at a
        few listings per wave. On a cluster whose listing takes several pages, batches grow
        so that a wave's listings cost at most about one request per `parallelism` jobs.
        """
        slots = max(1, self.options.parallelism)
        batch = max(slots, len(wave) // SETTLE_BATCHES)
        to_stage = deque(wave)
        waiting: dict[str, int] = {}  # staged, not yet settled
        to_complete: deque[tuple[str, int | JobResult | None]] = deque()
        running: dict[Future[Any], tuple[str, Any]] = {}
        finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()

        def start(step: Callable[[Any], Any], item: Any, kind: str, subject: Any) -> None:
            future = pool.submit(step, item)
            running[future] = (kind, subject)
            future.add_done_callback(finished.put)

        settling = False
        while to_stage or waiting or to_complete or running:
            staging = any(kind == "stage" for kind, _ in running.values())
            while len(running) < slots:
                if (
                    waiting
                    and not settling
                    and (len(waiting) >= batch or not (to_stage or staging))
                ):
                    chosen, waiting = waiting, {}
                    start(self.settle, chosen, "settle", chosen)
                    settling = True
                elif to_complete:
                    item = to_complete.popleft()
                    start(self.complete, item, "complete", item[0])
                elif to_stage:
                    key = to_stage.popleft()
                    start(self.stage, key, "stage", key)
                    staging = True
                else:
                    break
            done = [finished.get()]
            while not finished.empty():
                done.append(finished.get())
            for future in done:
                kind, subject = running.pop(future)
                if kind == "stage":
                    staged = future.result()
                    if isinstance(staged, int):
                        waiting[subject] = staged
                    else:
                        to_complete.append((subject, staged))
                elif kind == "settle":
                    settled: create.Settlement = future.result()
                    self.winners.update(settled.winners)
                    to_complete.extend(subject.items())
                    settling = False
                    pages = -(-settled.rows_listed // LISTING_PAGE)
                    batch = max(batch, pages * slots)
                else:
                    finish(future.result())

    def settle(self, waiting: Mapping[str, int]) -> create.Settlement:
        """One listing decides, for every job about to be submitted, who submits."""
        digests = {k: (self.stack.jobs[k].digest, job_id) for k, job_id in waiting.items()}
        try:
            superseded = {k: c.live_id for k, c in self.changes.items() if c.live_id is not None}
            return create.settle_races(
                self.cluster,
                self.stack.stack,
                digests,
                all_keys=list(self.stack.jobs),
                superseded=superseded,
            )
        except Exception as error:  # cannot see rivals: submitting is still the right call
            if not isinstance(error, HpcspecError):
                log.warning(
                    "settling races failed (%s: %s); submitting", type(error).__name__, error
                )
            return create.Settlement(dict(waiting))

    def complete(self, item: tuple[str, int | JobResult | None]) -> JobResult:
        """Submit a staged job unless another applier's job wins the race."""
        key, staged = item
        change = self.changes[key]
        if isinstance(staged, JobResult):
            return staged
        if staged is None:
            return JobResult(
                key, Outcome.DONE, change.action, self._created.get(key, change.live_id)
            )
        winner = self.winners.get(key, staged)
        if winner != staged:
            return JobResult(
                key,
                Outcome.DONE,
                change.action,
                winner,
                f"another apply created job {winner} for this spec first",
            )
        try:
            for attempt in range(1, SUBMIT_ATTEMPTS + 1):
                try:
                    run_as = self.stack.jobs[key].definition.run_as
                    self.cluster.submit_job(staged, run_as=run_as, secret=self.secret)
                    break
                except (OutcomeUnknown, RefusedByState, ServerError) as error:
                    # Lost answer, 5xx, or a rival apply submitted it: the job's state decides;
                    # a job still Configuring was surely not submitted, so it is sent again.
                    result = self._after_unclear_submit(key, staged, error)
                    if result.outcome is Outcome.DONE or attempt == SUBMIT_ATTEMPTS:
                        return result
                    if "is Configuring" not in result.message:
                        return result
        except HpcspecError as error:
            return JobResult(key, Outcome.FAILED, change.action, staged, str(error))
        except Exception as error:
            return JobResult(
                key, Outcome.FAILED, change.action, staged, f"{type(error).__name__}: {error}"
            )
        self.journal.record("submitted", key, job_id=staged)
        return JobResult(key, Outcome.DONE, change.action, staged)

    def _after_unclear_submit(self, key: str, job_id: int, error: HpcspecError) -> JobResult:
        action = self.changes[key].action
        try:
            state = self.cluster.job_state(job_id)
        except Exception as reading:
            return JobResult(
                key,
                Outcome.FAILED,
                action,
                job_id,
                f"submit outcome unknown and the job cannot be read ({reading}); run apply again",
            )
        if state is JobState.Configuring or state in (JobState.Canceled, JobState.Canceling):
            return JobResult(
                key,
                Outcome.FAILED,
                action,
                job_id,
                f"submit failed ({error.message}); job is {state.name}; run apply again",
            )
        self.journal.record("submitted", key, job_id=job_id, note=f"found {state.name}")
        return JobResult(key, Outcome.DONE, action, job_id)
