"""Changing a live job in place: the fields the plan found different, then the digest tag.

Only what the state allows reaches here (the planner chose UPDATE): changed job properties
by PUT, changed custom properties, env and tasks (the last two only while Configuring), and
finally `hpcspec.digest` — and the ClientSource marker while it can still change — so the
next plan sees the job as current.
"""

from __future__ import annotations

from collections.abc import Callable

from hpcspec.engine import identity
from hpcspec.engine.plan import Change, DiffSection
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.engine.settling import when_settled
from hpcspec.engine.steps import Rekey
from hpcspec.hpcpack.catalogue import Value
from hpcspec.hpcpack.definition import EnvValue, SecretRef
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
    # A drift update also lists what the state does not let change (shown, never sent).
    changed = {d.name for d in change.diffs if d.section is DiffSection.PROPERTY and d.allowed_now}
    values: dict[str, Value] = {n: props[n] for n in sorted(changed) if n in props}
    # Env and tasks first; the marker and the digest tag last, so a half-done update never
    # claims the new spec (the next plan then sees it as still changed and finishes it).
    if configuring and any(d.section is DiffSection.ENV for d in change.diffs):
        gone = _removed(change, DiffSection.ENV, "")  # an empty value removes a variable
        cluster.set_job_env(job_id, {**gone, **dict(definition.env)}, secret=secret)
    if configuring and any(d.section is DiffSection.TASK for d in change.diffs):
        _update_tasks(cluster, job_id, desired, change, secret)
    if configuring:
        values["ClientSource"] = identity.client_source_marker(stack, desired.key, desired.digest)
    if values:  # a job on its way to the queue takes it once queued (`settling.py`)
        when_settled(cluster, job_id, lambda: cluster.set_job(job_id, values))
    custom = dict(definition.user_custom_properties())
    custom_changed = {d.name for d in change.diffs if d.section is DiffSection.CUSTOM_PROPERTY}
    updates = {n: custom.get(n, "") for n in sorted(custom_changed)}
    updates[identity.SENSITIVE_TAG] = identity.sensitive_names(definition)
    updates[identity.DIGEST_TAG] = desired.digest
    when_settled(cluster, job_id, lambda: cluster.set_job_custom_properties(job_id, updates))


def _update_tasks(
    cluster: ClusterWriter,
    job_id: int,
    desired: DesiredJob,
    change: Change,
    secret: Callable[[SecretRef], str],
) -> None:
    ids = {name.lower(): task_id for name, task_id in cluster.task_ids(job_id).items()}
    touched = {d.name.split("/")[0].lower() for d in change.diffs if d.section is DiffSection.TASK}
    for task in desired.definition.tasks:
        if task.name.lower() not in touched:
            continue
        task_id = ids.get(task.name.lower())
        if task_id is None:
            task_id = cluster.add_task(job_id, task)
        else:
            cluster.set_task(job_id, task_id, task)
        custom = {**_removed(change, DiffSection.TASK, f"{task.name}/customProperties.")}
        if task.custom_properties or custom:
            custom.update(dict(task.custom_properties))
            cluster.set_task_custom_properties(job_id, task_id, custom)
        env: dict[str, EnvValue] = {**_removed(change, DiffSection.TASK, f"{task.name}/env.")}
        if task.env or env:
            env.update(dict(task.env))
            cluster.set_task_env(job_id, task_id, env, secret=secret)


def _removed(change: Change, section: DiffSection, prefix: str) -> dict[str, str]:
    """Names the plan found on the live job and not in the manifest (a hand edit), each with
    the empty value that removes it (HPC Pack cannot delete a custom property: it is emptied,
    which the plan counts as absent)."""
    return {
        d.name[len(prefix) :]: ""
        for d in change.diffs
        if d.section is section
        and d.after is None
        and d.name.lower().startswith(prefix.lower())
        and "/" not in d.name[len(prefix) :]
    }


def rekey(cluster: ClusterWriter, step: Rekey) -> None:
    """`moved:`: the job's `hpcspec.key` tag says the new key (one PUT, repeatable); while the
    job is Configuring its ClientSource marker too, so discovery matches it by hash again."""
    tag = {identity.KEY_TAG: step.key}
    when_settled(cluster, step.job_id, lambda: cluster.set_job_custom_properties(step.job_id, tag))
    if step.configuring:
        marker = identity.client_source_marker(step.stack, step.key, step.digest)
        cluster.set_job(step.job_id, {"ClientSource": marker})
