"""Creating a job exactly once, and settling races between appliers (DESIGN.md §4).

A create carries the identity tags and a fresh per-attempt token. POSTs are never retried
blindly: after an ambiguous failure the token is looked up first, and only a proven absence
allows another attempt. Before submitting, `settle_race` makes sure no other live job of the
same key and digest is already submitted, and that of two unsubmitted ones the lower id wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from hpcspec.engine import identity
from hpcspec.engine.discovery import list_stack
from hpcspec.engine.journal import Journal
from hpcspec.engine.protocols import ClusterWriter, JobColumns, OutcomeUnknown
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, Value
from hpcspec.hpcpack.definition import JobDefinition, SecretRef, TaskDefinition, pairs
from hpcspec.hpcpack.errors import ServerError
from hpcspec.hpcpack.states import JobState

MAX_CREATE_ATTEMPTS = 3


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


def create_job(
    cluster: ClusterWriter,
    request: CreateRequest,
    journal: Journal,
    *,
    via: str,
    secret: Callable[[SecretRef], str],
) -> int:
    """Create the job once; returns its id. Ambiguous failures are resolved by token lookup.

    A REST create is journalled `create-started` once the job exists and `create-result` only
    when every part is in; a REST job left half-built is cancelled, never marked (so no task
    can go missing from a job that claims the spec)."""
    for _ in range(MAX_CREATE_ATTEMPTS):
        token = identity.new_token()
        journal.record("create-intent", request.key, token=token, digest=request.digest, via=via)
        definition = tagged(request, token)
        try:
            if via == "xml":
                job_id = cluster.create_job_xml(definition, secret=secret)
            else:
                job_id = cluster.create_job(
                    definition, client_source=pending_marker(request, token)
                )
        except OutcomeUnknown:
            found = find_by_token(cluster, request, token)
            if found is None:
                journal.record("create-absent", request.key, token=token)
                continue
            job_id = found
        if via != "xml":
            journal.record("create-started", request.key, token=token, job_id=job_id)
            fill_via_rest(cluster, job_id, definition, secret, journal, request.key, token)
        journal.record("create-result", request.key, token=token, job_id=job_id)
        return job_id
    raise OutcomeUnknown(
        f"could not create job {request.key!r} after {MAX_CREATE_ATTEMPTS} attempts"
    )


class IncompleteCreate(HpcspecError):
    """A REST create stopped after the job existed; the job is cancelled, apply creates anew."""


def pending_marker(request: CreateRequest, token: str) -> str:
    """The marker a REST-created job carries until it is complete: findable, never current."""
    return identity.client_source_marker(request.stack, request.key, f"pending-{token}")


def fill_via_rest(
    cluster: ClusterWriter,
    job_id: int,
    definition: JobDefinition,
    secret: Callable[[SecretRef], str],
    journal: Journal,
    key: str,
    token: str,
) -> None:
    """The property-by-property path after the job exists (with its pending marker): custom
    properties without the digest tag, env, then each task. `mark` writes the real marker and
    the digest last. If a step fails the job is cancelled (best effort; otherwise the next
    apply's recovery cancels it) and the error says to run apply again."""
    try:
        custom = {k: v for k, v in definition.custom_properties if k != identity.DIGEST_TAG}
        _again(cluster.set_job_custom_properties, job_id, custom)
        if definition.env:
            _again(cluster.set_job_env, job_id, dict(definition.env), secret=secret)
        for task in definition.tasks:
            task_id = _add_task(cluster, job_id, task)
            if task.custom_properties:
                task_custom = dict(task.custom_properties)
                _again(cluster.set_task_custom_properties, job_id, task_id, task_custom)
            if task.env:
                env = dict(task.env)
                _again(cluster.set_task_env, job_id, task_id, env, secret=secret)
    except HpcspecError as error:
        if discard(cluster, job_id, "hpcspec: an incomplete create, made again"):
            journal.record("create-absent", key, token=token, job_id=job_id, note="incomplete")
        raise IncompleteCreate(
            f"job {job_id} was created but not completed ({error.message}); run apply again",
            code="incomplete-create",
        ) from None


def _again(call: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Setting values is idempotent even over POST: an unclear answer is simply sent again."""
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        try:
            call(*args, **kwargs)
            return
        except (OutcomeUnknown, ServerError):
            if attempt == MAX_CREATE_ATTEMPTS:
                raise


def _add_task(cluster: ClusterWriter, job_id: int, task: TaskDefinition) -> int:
    """Add one task once: after an unclear answer the job's tasks are read (names are unique in
    a job) and only a proven absence sends it again."""
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        try:
            return cluster.add_task(job_id, task)
        except (OutcomeUnknown, ServerError):
            found = cluster.task_ids(job_id).get(task.name)
            if found is not None:
                return found
            if attempt == MAX_CREATE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def discard(cluster: ClusterWriter, job_id: int, message: str) -> bool:
    """Cancel a job hpcspec made that must never run; True once it is surely not live."""
    try:
        if not cluster.job_state(job_id).is_alive:
            return True
        cluster.cancel_job(job_id, message, forced=True)
        return True
    except HpcspecError:
        return False


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
    for row in cluster.list_jobs(columns=JobColumns.IDENTITY):
        if row.name != name or row.state is not JobState.Configuring:
            continue
        custom = {k.lower(): v for k, v in cluster.job_custom_properties(row.id).items()}
        if custom.get(identity.TOKEN_TAG) == token:
            return row.id
    return None


def mark(cluster: ClusterWriter, request: CreateRequest, job_id: int, *, via: str) -> None:
    """Stamp the ClientSource marker and the parents' ids; after a job XML create, also the
    properties the importer ignores (`derived/job-xml-import-export.json`)."""
    marker = identity.client_source_marker(request.stack, request.key, request.digest)
    values: dict[str, Value] = {"ClientSource": marker}
    if request.parent_ids:
        values["ParentJobIds"] = ",".join(str(i) for i in request.parent_ids)
    values |= (
        jobxml.not_imported(request.definition)
        if via == "xml"
        else {n: v for n, v in request.definition.properties if not JOB_PROPERTIES[n].create}
    )
    cluster.set_job(job_id, values)
    if via != "xml":
        # The REST path writes the digest tag last: only a complete job claims the spec.
        digest = {identity.DIGEST_TAG: request.digest}
        _again(cluster.set_job_custom_properties, job_id, digest)
        return
    # A fresh job numbers its tasks 1, 2, 3… in file order (JobTaskId).
    for position, task in enumerate(request.definition.tasks, start=1):
        extra = jobxml.task_not_imported(task.properties)
        if extra:
            cluster.set_task(job_id, position, extra)


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
    superseded: Mapping[str, int] | None = None,
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
