"""The exactly-once rules (DESIGN.md §4): every write apply sends happens once, or is proven not
to have happened before it is sent again.

- `send_once` is the one retry loop: after an unclear answer (a lost answer, a 5xx) the
  caller's `find` looks at the cluster for what the write did; only a proven absence sends
  it again.
- A create carries the identity tags and a fresh per-attempt token, announced in the journal
  first, and a *pending* Name that holds the token (`identity.pending_name`), so the job is
  listable from its first moment; after an unclear answer a listing looks the token up
  (`token_lookup`: on a cluster whose listing lags its writes, only a listing that shows a
  later job proves the job absent; one sent again after an absence assumed at the
  listing-lag bound is checked once more against the earlier attempts, and the earlier,
  lower job is kept). A REST create is complete only
  when every part is in; one left half-built is cancelled, never marked.
- `mark` restores the manifest's Name and writes the ClientSource marker (and what the create
  could not carry) in one PUT: from then on the job claims its spec.
- `submit_once` sends a submit again only while the job is proven still Configuring.
- `cancel_once` judges an unclear cancel by the job's state; `discard` cancels a job of ours
  that must never run.

The race rule between appliers is `race.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import TypeVar

from hpcspec.engine import identity, ordered_adds, token_lookup
from hpcspec.engine.journal import Journal, JournalEvent
from hpcspec.engine.listing_lag import Patience, create_log
from hpcspec.engine.outcomes import StepFailed
from hpcspec.engine.protocols import ClusterWriter, OutcomeUnknown
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


def tagged(request: CreateRequest, token: str, via: CreateMethod) -> JobDefinition:
    """The definition as created: hpcspec's identity tags among its custom properties, and
    the pending Name (the manifest's Name comes back with `mark`)."""
    tags = identity.identity_tags(
        request.stack,
        request.key,
        request.digest,
        token=token,
        source=request.source or None,
        sensitive=identity.sensitive_names(request.definition),
    )
    custom = {**dict(request.definition.custom_properties), **tags}
    name = identity.pending_name(request.stack, request.key, request.digest, via, token)
    properties = {**dict(request.definition.properties), "Name": name}
    return replace(
        request.definition,
        properties=pairs(properties),
        custom_properties=pairs(custom),
        parent_job_ids=request.parent_ids,
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
        definition = tagged(request, tokens[-1], via)
        sent = time.monotonic()
        if via is CreateMethod.XML:
            job_id = cluster.create_job_xml(definition, secret=secret)
        else:
            job_id = cluster.create_job(definition)
        create_log(cluster).record(sent, job_id)  # a witness for other creates' lookups
        return job_id

    assumed: list[str] = []  # attempts taken to have made no job without proof

    def find(_: ApiError) -> int | None:
        stack, key, since = request.stack, request.key, time.monotonic()
        found = token_lookup.look_up(cluster, stack, key, tokens[-1], since=since)
        if found.found is None:
            journal.record(JournalEvent.CREATE_ABSENT, request.key, token=tokens[-1])
            assumed.extend([] if found.proven else [tokens[-1]])
        return found.found

    try:
        job_id = send_once(send, find, unclear=(OutcomeUnknown,))
    except OutcomeUnknown:
        raise OutcomeUnknown(
            f"could not create job {request.key!r} after {MAX_ATTEMPTS} attempts"
        ) from None
    token = tokens[-1]
    if assumed:  # our new job is listed after any job an earlier attempt made: look again
        earlier = token_lookup.earlier_job(cluster, request.stack, request.key, job_id, assumed)
        if earlier is not None:  # keep the earlier, lower one (the race rule would)
            discard(cluster, job_id, identity.extra_job_message(earlier[0]))
            journal.record(
                JournalEvent.CREATE_ABSENT, request.key, token=token, job_id=job_id, note="extra"
            )
            job_id, token = earlier
    if via is CreateMethod.REST:
        journal.record(JournalEvent.CREATE_STARTED, request.key, token=token, job_id=job_id)
        definition = tagged(request, token, via)
        _fill_via_rest(cluster, job_id, definition, secret, journal, request.key, token, task_pool)
    journal.record(JournalEvent.CREATE_RESULT, request.key, token=token, job_id=job_id)
    return job_id


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
    """The part-by-part path after the job exists (with its pending Name): custom properties,
    env, then the tasks (on `task_pool`, in manifest order: `ordered_adds`); `mark` then makes
    it a complete job. If a part fails the job is cancelled (best effort; otherwise the next
    apply's recovery cancels it) and the error says to run apply again."""
    try:
        custom = dict(definition.custom_properties)
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
        if discard(cluster, job_id, f"{identity.INCOMPLETE_JOB}, made again"):
            journal.record(
                JournalEvent.CREATE_ABSENT, key, token=token, job_id=job_id, note="incomplete"
            )
        raise IncompleteCreate(
            f"job {job_id} was created but not completed ({error.message}); run apply again",
            code="incomplete-create",
        ) from None


def _add_task(cluster: ClusterWriter, job_id: int, task: TaskDefinition) -> int:
    """Add one task once: after an unclear answer the job's tasks are read (names are unique in
    a job) and only an absence sends it again — read again while the task listing may lag
    (`token_lookup.task_by_name`). One assumed at the bound is checked once the new task is
    listed: a lost add's task that showed up late makes the job one task too many, so it
    fails (the caller discards the job, and the next apply creates it anew)."""
    assumed = False

    def send() -> int:
        sent = time.monotonic()
        task_id = cluster.add_task(job_id, task)
        create_log(cluster).record(sent, (job_id, task_id))  # a witness for other lookups
        return task_id

    def find(_: ApiError) -> int | None:
        nonlocal assumed
        found = token_lookup.task_by_name(cluster, job_id, task.name, since=time.monotonic())
        assumed = assumed or not found.proven
        return found.found

    task_id = send_once(send, find, unclear=(OutcomeUnknown, ServerError))
    if assumed and token_lookup.named_twice(cluster, job_id, task.name, task_id):
        raise HpcspecError(
            f"task {task.name!r} was added twice to job {job_id}: an add whose answer was "
            "lost was listed only after it was sent again",
            code="task-added-twice",
        )
    return task_id


def find_by_token(
    cluster: ClusterWriter,
    request: CreateRequest,
    token: str,
    patience: Patience | None = None,
    *,
    since: float | None = None,
) -> int | None:
    """The job an ambiguous create made, if any: a listing of the stack, where the job's
    pending Name carries the token (the job XML importer keeps Name, so both paths do);
    listed again while the listing may be behind the create (`token_lookup.look_up`)."""
    stack, key = request.stack, request.key
    return token_lookup.look_up(cluster, stack, key, token, since=since, patience=patience).found


def mark(cluster: ClusterWriter, request: CreateRequest, job_id: int, *, via: CreateMethod) -> None:
    """Make the new job complete: after a job XML create, first the task properties the
    importer ignores (`derived/job-xml-import-export.json`); then one PUT with the
    manifest's Name back (it had the pending Name), the ClientSource marker, the parents'
    ids and the job properties the create could not carry. The PUT comes last: a job is
    never marked before every part of it is in. Setting values is idempotent: an unclear
    answer is sent again."""
    if via is CreateMethod.XML:
        # A fresh job numbers its tasks 1, 2, 3… in file order (JobTaskId).
        for position, task in enumerate(request.definition.tasks, start=1):
            extra = jobxml.task_not_imported(task.properties)
            if extra:
                _idempotent(cluster.set_task, job_id, position, extra)
    marker = identity.client_source_marker(request.stack, request.key, request.digest)
    values: dict[str, Value] = {"Name": request.definition.name, "ClientSource": marker}
    if request.parent_ids:
        values["ParentJobIds"] = ",".join(str(i) for i in request.parent_ids)
    values |= (
        jobxml.not_imported(request.definition)
        if via is CreateMethod.XML
        else {n: v for n, v in request.definition.properties if not JOB_PROPERTIES[n].create}
    )
    _idempotent(cluster.set_job, job_id, values)


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
        # Canceling or Canceled: it took; ended otherwise: there is nothing left to cancel.
        state = cluster.job_state(job_id)
        return True if state.is_canceled or not state.is_alive else None

    send_once(send, took, unclear=(OutcomeUnknown, ServerError, RefusedByState))


def discard(cluster: ClusterWriter, job_id: int, message: str) -> bool:
    """Cancel a job hpcspec made that must never run; True once it is surely not alive."""
    try:
        if not cluster.job_state(job_id).is_alive:
            return True
        cluster.cancel_job(job_id, message, forced=True)
        return True
    except HpcspecError:
        return False
