"""Changing a live job in place: the fields the plan found different, then the digest tag.

Only what the state allows reaches here (the planner chose UPDATE): changed job properties
by PUT, changed custom properties, env and tasks (the last two only while Configuring), and
finally `hpcspec.digest` — and the ClientSource marker while it can still change — so the
next plan sees the job as current.
"""

from __future__ import annotations

from collections.abc import Callable

from hpcspec.engine import identity
from hpcspec.engine.cluster import ClusterWriter
from hpcspec.engine.create import env_values, task_wire
from hpcspec.engine.discovery import row_value
from hpcspec.engine.plan import Change
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES
from hpcspec.hpcpack.definition import SecretRef
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import DesiredJob


def update_job(
    cluster: ClusterWriter,
    stack: str,
    desired: DesiredJob,
    change: Change,
    secret: Callable[[SecretRef], str],
) -> None:
    """Apply an UPDATE change to job `change.live_id`."""
    assert change.live_id is not None
    job_id = change.live_id
    configuring = change.live_state == JobState.Configuring.name
    definition = desired.definition
    props = dict(definition.properties)
    changed = {d.name for d in change.diffs if d.section == "property"}
    values = {
        JOB_PROPERTIES[n].wire_name: JOB_PROPERTIES[n].wire(props[n])
        for n in sorted(changed)
        if n in props
    }
    # Env and tasks first; the marker and the digest tag last, so a half-done update never
    # claims the new spec (the next plan then sees it as still changed and finishes it).
    if configuring and any(d.section == "env" for d in change.diffs):
        cluster.set_job_env(job_id, env_values(definition.env, secret))
    if configuring and any(d.section == "task" for d in change.diffs):
        _update_tasks(cluster, job_id, desired, change, secret)
    if configuring:
        values["ClientSource"] = identity.client_source_marker(stack, desired.key, desired.digest)
    if values:
        cluster.set_job(job_id, values)
    custom = dict(definition.user_custom_properties())
    custom_changed = {d.name for d in change.diffs if d.section == "customProperty"}
    updates = {n: custom.get(n, "") for n in sorted(custom_changed)}
    updates[identity.SENSITIVE_TAG] = identity.sensitive_names(definition)
    updates[identity.DIGEST_TAG] = desired.digest
    cluster.set_job_custom_properties(job_id, updates)


def _update_tasks(
    cluster: ClusterWriter,
    job_id: int,
    desired: DesiredJob,
    change: Change,
    secret: Callable[[SecretRef], str],
) -> None:
    rows = cluster.iter_tasks(job_id, properties=("JobTaskId", "Name"), expand_parametric=False)
    ids = {row_value(r, "Name").lower(): int(row_value(r, "JobTaskId")) for r in rows}
    touched = {d.name.split("/")[0].lower() for d in change.diffs if d.section == "task"}
    for task in desired.definition.tasks:
        if task.name.lower() not in touched:
            continue
        task_id = ids.get(task.name.lower())
        if task_id is None:
            task_id = cluster.add_task(job_id, task_wire(task))
        else:
            cluster.set_task(job_id, task_id, task_wire(task))
        if task.custom_properties:
            cluster.set_task_custom_properties(job_id, task_id, dict(task.custom_properties))
        if task.env:
            cluster.set_task_env(job_id, task_id, env_values(task.env, secret))
