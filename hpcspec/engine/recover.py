"""Resuming after an interrupted apply: settle every create the journal left open.

A create intent without a result means the process died (or the answer was lost) after the
request may have reached the cluster. Before planning, each such token is looked up: a job
created by job XML (one request: complete or absent) is marked, so discovery sees it and no
second job is created; a REST job whose create never finished may lack tasks, so it is
cancelled and apply creates the job anew. A token that matches nothing is recorded as absent.
A pending create that cannot be settled now (the cluster failed to answer) stays open for the
next apply; recovery never stops the apply.
"""

from __future__ import annotations

import logging

from hpcspec.engine import create
from hpcspec.engine.journal import Journal, PendingCreate
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.errors import HpcspecError
from hpcspec.manifest.resolve import ResolvedStack

log = logging.getLogger(__name__)


def recover(
    cluster: ClusterWriter, stack: ResolvedStack, journal: Journal, *, via: str = "xml"
) -> list[int]:
    """Mark the jobs of open create intents; returns their ids.

    A job created for a spec the manifest no longer wants is cancelled instead (found by its
    token when the job's name is still known), so nothing is left behind unmarked.
    `via` is a fallback for journals written before intents recorded how they created.
    """
    found: list[int] = []
    for pending in journal.pending_creates():
        try:
            job_id = _settle(cluster, stack, journal, pending, pending.via or via)
        except HpcspecError as error:
            log.info("could not settle the create of %s yet: %s", pending.key, error.message)
            continue
        if job_id is not None:
            found.append(job_id)
    return found


def _settle(
    cluster: ClusterWriter, stack: ResolvedStack, journal: Journal, pending: PendingCreate, how: str
) -> int | None:
    desired = stack.jobs.get(pending.key)
    if desired is None:
        if pending.job_id is not None and not create.discard(
            cluster, pending.job_id, "hpcspec: created for a spec since removed"
        ):
            return None
        journal.record(
            "create-absent",
            pending.key,
            token=pending.token,
            note="the key is no longer in the manifest",
        )
        if pending.job_id is not None:
            journal.record("marked", pending.key, job_id=pending.job_id)
        return None
    request = create.CreateRequest(
        stack.stack, desired.key, pending.digest or desired.digest, desired.definition
    )
    job_id = pending.job_id or create.find_by_token(cluster, request, pending.token)
    if job_id is None:
        journal.record("create-absent", pending.key, token=pending.token)
        return None
    changed = bool(pending.digest) and pending.digest != desired.digest
    half_built = not pending.complete and how != "xml"
    if changed or half_built:
        why = "the manifest changed" if changed else "an incomplete REST create"
        if not create.discard(cluster, job_id, f"hpcspec: cancelled, {why}"):
            return None
        journal.record("create-absent", pending.key, token=pending.token, job_id=job_id, note=why)
        journal.record("marked", pending.key, job_id=job_id)
        return None
    create.mark(cluster, request, job_id, via=how)
    if pending.complete is False:
        journal.record(
            "create-result", pending.key, token=pending.token, job_id=job_id, note="recovered"
        )
    journal.record("marked", pending.key, job_id=job_id)
    return job_id
