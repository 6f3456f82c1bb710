"""Resuming after an interrupted apply: settle every create the journal left open.

A create intent without a result means the process died (or the answer was lost) after the
request may have reached the cluster. Before planning, each such token is looked up: a job
found with it is marked (so discovery sees it and no second job is created); a token that
matches nothing is recorded as absent.
"""

from __future__ import annotations

from hpcspec.engine import create
from hpcspec.engine.cluster import ClusterWriter
from hpcspec.engine.journal import Journal
from hpcspec.manifest.resolve import ResolvedStack


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
        desired = stack.jobs.get(pending.key)
        how = pending.via or via
        if desired is None:
            journal.record(
                "create-absent",
                pending.key,
                token=pending.token,
                note="the key is no longer in the manifest",
            )
            if pending.job_id is not None:
                cluster.cancel_job(pending.job_id, "hpcspec: created for a spec since removed")
            continue
        request = create.CreateRequest(
            stack.stack, desired.key, pending.digest or desired.digest, desired.definition
        )
        job_id = pending.job_id or create.find_by_token(cluster, request, pending.token)
        if job_id is None:
            journal.record("create-absent", pending.key, token=pending.token)
            continue
        if pending.digest and pending.digest != desired.digest:
            cluster.cancel_job(job_id, "hpcspec: created for a spec that has since changed")
            journal.record(
                "create-absent",
                pending.key,
                token=pending.token,
                job_id=job_id,
                note="cancelled: the manifest changed",
            )
            journal.record("marked", pending.key, job_id=job_id)
            continue
        create.mark(cluster, request, job_id, via=how)
        if pending.job_id is None:
            journal.record(
                "create-result", pending.key, token=pending.token, job_id=job_id, note="recovered"
            )
        journal.record("marked", pending.key, job_id=job_id)
        found.append(job_id)
    return found
