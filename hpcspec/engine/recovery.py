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

from hpcspec.engine import exactly_once
from hpcspec.engine.exactly_once import CreateRequest
from hpcspec.engine.journal import Journal, JournalEvent, PendingCreate
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.engine.steps import CreateMethod
from hpcspec.errors import HpcspecError
from hpcspec.manifest.resolve import ResolvedStack

log = logging.getLogger(__name__)


def recover(cluster: ClusterWriter, stack: ResolvedStack, journal: Journal) -> list[int]:
    """Mark the jobs of open create intents; returns their ids.

    A job created for a spec the manifest no longer wants is cancelled instead (found by its
    token when the job's name is still known), so nothing is left behind unmarked.
    """
    found: list[int] = []
    for pending in journal.pending_creates():
        try:
            job_id = _settle(cluster, stack, journal, pending)
        except HpcspecError as error:
            log.info("could not settle the create of %s yet: %s", pending.key, error.message)
            continue
        if job_id is not None:
            found.append(job_id)
    return found


def _settle(
    cluster: ClusterWriter, stack: ResolvedStack, journal: Journal, pending: PendingCreate
) -> int | None:
    desired = stack.jobs.get(pending.key)
    key, token = pending.key, pending.token
    if desired is None:
        if pending.job_id is not None and not exactly_once.discard(
            cluster, pending.job_id, "hpcspec: created for a spec since removed"
        ):
            return None
        journal.record(
            JournalEvent.CREATE_ABSENT,
            key,
            token=token,
            note="the key is no longer in the manifest",
        )
        if pending.job_id is not None:
            journal.record(JournalEvent.MARKED, key, job_id=pending.job_id)
        return None
    request = CreateRequest(
        stack.stack, desired.key, pending.digest or desired.digest, desired.definition
    )
    job_id = pending.job_id or exactly_once.find_by_token(cluster, request, token)
    if job_id is None:
        journal.record(JournalEvent.CREATE_ABSENT, key, token=token)
        return None
    changed = bool(pending.digest) and pending.digest != desired.digest
    half_built = not pending.complete and pending.via is not CreateMethod.XML
    if changed or half_built:
        why = "the manifest changed" if changed else "an incomplete REST create"
        if not exactly_once.discard(cluster, job_id, f"hpcspec: cancelled, {why}"):
            return None
        journal.record(JournalEvent.CREATE_ABSENT, key, token=token, job_id=job_id, note=why)
        journal.record(JournalEvent.MARKED, key, job_id=job_id)
        return None
    exactly_once.mark(cluster, request, job_id, via=pending.via)
    if not pending.complete:
        journal.record(
            JournalEvent.CREATE_RESULT, key, token=token, job_id=job_id, note="recovered"
        )
    journal.record(JournalEvent.MARKED, key, job_id=job_id)
    return job_id
