"""The exactly-once rules (DESIGN.md §4): every write apply sends happens once, or is proven not
to have happened before it is sent again.

- `send_once` is the one retry loop: after an unclear answer (a lost answer, a 5xx) the
  caller's `find` looks at the cluster for what the write did; only a proven absence sends
  it again.
- A create carries the identity tags and a fresh per-attempt token, announced in the journal
  first; after an unclear answer the token is looked up (`find_by_token`). A REST create is
  complete only when every part is in; one left half-built is cancelled, never marked.
- `mark` writes the ClientSource marker (and what the create could not carry), so discovery
  sees the job; the REST path writes the digest tag last: only a complete job claims a spec.
- `submit_once` sends a submit again only while the job is proven still Configuring.
- `cancel_once` judges an unclear cancel by the job's state; `discard` cancels a job of ours
  that must never run.
- `settle_races` is the race rule: of live jobs with one key and digest, a submitted one wins,
  else the lowest id; a losing job of ours is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import TypeVar

from hpcspec.engine import identity, ordered_adds
from hpcspec.engine.discovery import list_stack
from hpcspec.engine.journal import Journal, JournalEvent
from hpcspec.engine.outcomes import StepFailed
from hpcspec.engine.protocols import ClusterWriter, JobColumns, OutcomeUnknown
from hpcspec.engine.steps import CreateMethod
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, Value
from hpcspec.hpcpack.definition import JobDefinition, RunAs, TaskDefinition, pairs
from hpcspec.hpcpack.errors import ApiError, RefusedByState, ServerError
from hpcspec.hpcpack.jobxml import SecretResolver
from hpcspec.hpcpack.states import JobState

MAX_ATTEMPTS = 3
T = TypeVar("T")


def send_once(
    send: Callable[[], T],
    find: Callable[[ApiError], T | None],
    *,
    unclear: tuple[type[ApiError], ...],
    attempts: int = MAX_ATTEMPTS,
) -> T:
    """`send()`; after an `unclear` error, `find(error)` says what the write did (None: it
    surely did not, so it is sent again, `attempts` times at most, then the error stands)."""
    for attempt in range(1, attempts + 1):
        try:
            return send()
        except unclear as error:
            found = find(error)
            if found is not None:
                return found
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _idempotent(call: Callable[..., None], *args: object, **kwargs: object) -> None:
    """Setting values is idempotent even over POST: an unclear answer is simply sent again."""
    send_once(lambda: call(*args, **kwargs), lambda _: None, unclear=(OutcomeUnknown, ServerError))


@dataclass(frozen=True)
class CreateRequest:
    """Everything needed to create one job of a stack."""

    stack: str
    key: str
    digest: str
    definition: JobDefinition  # as resolved: no identity tags yet
    source: str = ""
    parent_ids: tuple[int, ...] = ()


def tagged(request: CreateRequest, token: str) -> JobDefinition:
    """The definition with hpcspec's identity tags among its custom properties."""
    tags = identity.identity_tags(
        request.stack,
        request.key,
        request.digest,
        token=token,
        source=request.source or None,
        sensitive=identity.sensitive_names(request.definition),
    )
    custom = {**dict(request.definition.custom_properties), **tags}
    return replace(
        request.definition, custom_properties=pairs(custom), parent_job_ids=request.parent_ids
    )


class IncompleteCreate(HpcspecError):
    """A REST create stopped after the job existed; the job is cancelled, apply creates anew."""


def create_once(
    cluster: ClusterWriter,
    request: CreateRequest,
    journal: Journal,
    *,
    via: CreateMethod,
    secret: SecretResolver,
    task_pool: Executor | None = None,
) -> int:
    """Create the job once; returns its id. Each attempt has its own token, journalled first;
    an ambiguous failure is resolved by looking the token up. A REST create adds its tasks on
    `task_pool` (one by one without it)."""
    tokens: list[str] = []

    def send() -> int:
        tokens.append(identity.new_token())
        journal.record(
            JournalEvent.CREATE_INTENT,
            request.key,
            token=tokens[-1],
            digest=request.digest,
            via=via,
        )
        definition = tagged(request, tokens[-1])
        if via is CreateMethod.XML:
            return cluster.create_job_xml(definition, secret=secret)
        return cluster.create_job(definition, client_source=pending_marker(request, tokens[-1]))

    def find(_: ApiError) -> int | None:
        found = find_by_token(cluster, request, tokens[-1])
        if found is None:
            journal.record(JournalEvent.CREATE_ABSENT, request.key, token=tokens[-1])
        return found

    try:
        job_id = send_once(send, find, unclear=(OutcomeUnknown,))
    except OutcomeUnknown:
        raise OutcomeUnknown(
            f"could not create job {request.key!r} after {MAX_ATTEMPTS} attempts"
        ) from None
    if via is CreateMethod.REST:
        journal.record(JournalEvent.CREATE_STARTED, request.key, token=tokens[-1], job_id=job_id)
        definition = tagged(request, tokens[-1])
        fill_args = (secret, journal, request.key, tokens[-1], task_pool)
        _fill_via_rest(cluster, job_id, definition, *fill_args)
    journal.record(JournalEvent.CREATE_RESULT, request.key, token=tokens[-1], job_id=job_id)
    return job_id


def pending_marker(request: CreateRequest, token: str) -> str:
    """The marker a REST-created job carries until it is complete: findable, never current."""
    return identity.client_source_marker(request.stack, request.key, f"pending-{token}")


def _fill_via_rest(
    cluster: ClusterWriter,
    job_id: int,
    definition: JobDefinition,
    secret: SecretResolver,
    journal: Journal,
    key: str,
    token: str,
    task_pool: Executor | None,
) -> None:
    """The part-by-part path after the job exists (with its pending marker): custom
    properties without the digest tag, env, then the tasks (on `task_pool`, in manifest order:
    `ordered_adds`). `mark` writes the real marker and
    the digest last. If a part fails the job is cancelled (best effort; otherwise the next
    apply's recovery cancels it) and the error says to run apply again."""
    try:
        custom = {k: v for k, v in definition.custom_properties if k != identity.DIGEST_TAG}
        _idempotent(cluster.set_job_custom_properties, job_id, custom)
        if definition.env:
            _idempotent(cluster.set_job_env, job_id, dict(definition.env), secret=secret)

        def fill(task_id: int, task: TaskDefinition, over_placeholder: bool) -> None:
            if over_placeholder:
                _idempotent(cluster.set_task, job_id, task_id, task)
            if task.custom_properties:
                values = dict(task.custom_properties)
                _idempotent(cluster.set_task_custom_properties, job_id, task_id, values)
            if task.env:
                env = dict(task.env)
                _idempotent(cluster.set_task_env, job_id, task_id, env, secret=secret)

        ordered_adds.add_in_order(
            definition.tasks,
            token=token,
            add=lambda task: _add_task(cluster, job_id, task),
            fill=fill,
            pool=task_pool,
        )
    except HpcspecError as error:
        if discard(cluster, job_id, "hpcspec: an incomplete create, made again"):
            journal.record(
                JournalEvent.CREATE_ABSENT, key, token=token, job_id=job_id, note="incomplete"
            )
        raise IncompleteCreate(
            f"job {job_id} was created but not completed ({error.message}); run apply again",
            code="incomplete-create",
        ) from None


def _add_task(cluster: ClusterWriter, job_id: int, task: TaskDefinition) -> int:
    """Add one task once: after an unclear answer the job's tasks are read (names are unique in
    a job) and only a proven absence sends it again."""
    return send_once(
        lambda: cluster.add_task(job_id, task),
        lambda _: cluster.task_ids(job_id).get(task.name),
        unclear=(OutcomeUnknown, ServerError),
    )


def find_by_token(cluster: ClusterWriter, request: CreateRequest, token: str) -> int | None:
    """The job an ambiguous create made, if any: Configuring jobs named like it, by token.

    The job XML importer ignores ClientSource, so a just-created job has no marker yet; its
    Name and the token custom property find it.
    """
    pending = pending_marker(request, token)
    for job in list_stack(cluster, request.stack, [request.key]).by_key.get(request.key, []):
        if job.client_source == pending:  # a REST create carries its token in the marker
            return job.id
    name = request.definition.name
    for job in cluster.list_jobs(columns=JobColumns.IDENTITY):
        if job.name != name or job.state is not JobState.Configuring:
            continue
        custom = {k.lower(): v for k, v in cluster.job_custom_properties(job.id).items()}
        if custom.get(identity.TOKEN_TAG) == token:
            return job.id
    return None


def mark(cluster: ClusterWriter, request: CreateRequest, job_id: int, *, via: CreateMethod) -> None:
    """Stamp the ClientSource marker and the parents' ids; after a job XML create, also the
    properties the importer ignores (`derived/job-xml-import-export.json`)."""
    marker = identity.client_source_marker(request.stack, request.key, request.digest)
    values: dict[str, Value] = {"ClientSource": marker}
    if request.parent_ids:
        values["ParentJobIds"] = ",".join(str(i) for i in request.parent_ids)
    values |= (
        jobxml.not_imported(request.definition)
        if via is CreateMethod.XML
        else {n: v for n, v in request.definition.properties if not JOB_PROPERTIES[n].create}
    )
    cluster.set_job(job_id, values)
    if via is CreateMethod.REST:
        # The REST path writes the digest tag last: only a complete job claims the spec.
        digest = {identity.DIGEST_TAG: request.digest}
        _idempotent(cluster.set_job_custom_properties, job_id, digest)
        return
    # A fresh job numbers its tasks 1, 2, 3… in file order (JobTaskId).
    for position, task in enumerate(request.definition.tasks, start=1):
        extra = jobxml.task_not_imported(task.properties)
        if extra:
            cluster.set_task(job_id, position, extra)


def submit_once(
    cluster: ClusterWriter, job_id: int, run_as: RunAs | None, secret: SecretResolver
) -> str:
    """Submit; a submit is sent again only while the job is proven still Configuring. Returns
    a note for the journal ("" when the answer was clear)."""
    unclear: tuple[type[ApiError], ...] = (OutcomeUnknown, RefusedByState, ServerError)

    def send() -> str:
        cluster.submit_job(job_id, run_as=run_as, secret=secret)
        return ""

    def find(error: ApiError) -> str | None:
        # A lost answer, a 5xx, or a rival apply submitted it: the job's state decides.
        try:
            state = cluster.job_state(job_id)
        except Exception as reading:
            raise StepFailed(
                f"submit outcome unknown and the job cannot be read ({reading}); run apply again"
            ) from None
        if state is JobState.Configuring:
            return None  # surely not submitted: send again
        if state.is_canceled:
            raise StepFailed(
                f"submit failed ({error.message}); job is {state.name}; run apply again"
            )
        return f"found {state.name}"

    try:
        return send_once(send, find, unclear=unclear)
    except unclear as error:
        raise StepFailed(
            f"submit failed ({error.message}); job is Configuring; run apply again"
        ) from None


def cancel_once(cluster: ClusterWriter, job_id: int, message: str, *, forced: bool) -> None:
    """Cancel; after an unclear answer the job's state says whether it took."""

    def send() -> bool:
        cluster.cancel_job(job_id, message, forced=forced)
        return True

    def took(_: ApiError) -> bool | None:
        return cluster.job_state(job_id).is_canceled or None

    send_once(send, took, unclear=(OutcomeUnknown, ServerError, RefusedByState), attempts=1)


def discard(cluster: ClusterWriter, job_id: int, message: str) -> bool:
    """Cancel a job hpcspec made that must never run; True once it is surely not alive."""
    try:
        if not cluster.job_state(job_id).is_alive:
            return True
        cluster.cancel_job(job_id, message, forced=True)
        return True
    except HpcspecError:
        return False


@dataclass(frozen=True)
class Settlement:
    """Who submits each key, and how many listing rows it took to find out."""

    winners: dict[str, int]
    rows_listed: int = 0


def settle_races(
    cluster: ClusterWriter,
    stack: str,
    created: Mapping[str, tuple[str, int]],
    *,
    all_keys: Sequence[str] = (),
    superseded: Mapping[str, int | None] | None = None,
) -> Settlement:
    """For each key, the job that should be submitted: mine, or a racing applier's.

    `created` maps key → (digest, my job id). One listing serves every key. Another live job
    of the same key and digest that is already submitted wins; among unsubmitted ones the
    lowest id wins. A losing job of mine is cancelled.
    """
    if not created:
        return Settlement({})
    # Every key of the stack, so no other job of it costs a custom-property read.
    keys = sorted({*all_keys, *created})
    listing = list_stack(cluster, stack, keys, columns=JobColumns.IDENTITY)
    listed = listing.by_key
    superseded = superseded or {}
    winners: dict[str, int] = {}
    for key, (digest, mine) in created.items():
        rivals = [
            job
            for job in listed.get(key, [])
            if job.id != mine
            and job.id != superseded.get(key)  # the job this change replaces or reruns
            and identity.live_digest(job) == digest
            and job.state.is_alive
        ]
        submitted = sorted(j.id for j in rivals if j.state is not JobState.Configuring)
        waiting = sorted(j.id for j in rivals if j.state is JobState.Configuring)
        winner = submitted[0] if submitted else min([mine, *waiting])
        if winner != mine:
            cluster.cancel_job(
                mine, f"hpcspec: job {winner} already carries this spec", forced=True
            )
        winners[key] = winner
    return Settlement(winners, listing.rows)
