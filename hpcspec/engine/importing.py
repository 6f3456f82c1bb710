"""Live jobs → manifest jobs, for `hpcspec import --job ID...` (Terraform's import with
generated configuration, where the cluster already holds the job).

Each job is read whole (`read_whole_job`: properties, custom properties, env, run-as user,
parent jobs, tasks with their env and custom properties) and made into an `ExportJob` for
`manifest.export`: only properties that differ from HPC Pack's defaults (`hpcpack.defaults`),
hpcspec's own identity tags left to the exporter, a parent job imported in the same run
becoming `dependsOn:` its key, and no secret value: an env variable hpcspec marked sensitive
when it created the job (`hpcspec.sensitive`), or whose name says it is a secret
(`looks_secret`), or that the caller names, becomes a `{secret: env:NAME}` placeholder that
names the variable — its value is never read into the manifest, a note, or an error.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from hpcspec.engine.identity import KEY_TAG, SENSITIVE_TAG
from hpcspec.engine.protocols import WholeJobReader
from hpcspec.hpcpack.defaults import job_settings, task_settings
from hpcspec.hpcpack.definition import EnvValue, JobDefinition, SecretRef, TaskDefinition, pairs
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.export import ExportJob, slug

# Names that hold credentials by convention: *PASSWORD*, *SECRET*, *TOKEN*, *CREDENTIAL*,
# API/ACCESS/PRIVATE keys, connection strings, SAS, and KEY / PASS / PWD as a whole word.
_SECRET_NAME = re.compile(
    r"PASSW(OR)?D|SECRET|TOKEN|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CONN(ECTION)?_?STR"
    r"|(^|_)(KEY|PASS|PWD|PW|SAS|AUTH)($|_)",
    re.IGNORECASE,
)


def looks_secret(name: str) -> bool:
    """Whether an env variable's name says its value is a credential."""
    return _SECRET_NAME.search(name) is not None


@dataclass(frozen=True)
class ImportedJobs:
    """Jobs ready for `export_manifest`, and what the reader of the manifest should know."""

    jobs: tuple[ExportJob, ...]
    notes: tuple[str, ...]


def import_jobs(
    reader: WholeJobReader,
    job_ids: Sequence[int],
    *,
    key: str | None = None,
    secret_names: Collection[str] = (),
) -> ImportedJobs:
    """Read each job whole and make it a manifest job (`key` names a single job's key)."""
    if key is not None and len(job_ids) != 1:
        raise ValueError("a key can be given for one job only")
    live = [reader.read_whole_job(job_id) for job_id in job_ids]
    keys = _keys(live, key)
    notes: list[str] = []
    jobs = []
    for job in live:
        definition = job.definition
        assert definition is not None
        own_key = keys[job.id]
        sensitive = _sensitive(job, secret_names)
        cleaned = _without_defaults(_placeholders(definition, sensitive, own_key, notes))
        parents = [keys[p] for p in definition.parent_job_ids if p in keys]
        outside = [p for p in definition.parent_job_ids if p not in keys]
        if outside:
            notes.append(
                f"job {own_key!r}: parent job(s) {', '.join(map(str, outside))} are not imported"
                " here; import them in the same command to keep the dependency"
            )
        cleaned = replace(cleaned, parent_job_ids=())
        notes += _state_notes(job, own_key)
        if definition.run_as is not None:
            notes.append(
                f"job {own_key!r}: runs as {definition.run_as.user_name}: the password is never"
                " readable; add runAs.password: {secret: …} unless the head node caches it"
            )
        jobs.append(ExportJob(cleaned, key=own_key, depends_on=tuple(parents)))
    return ImportedJobs(tuple(jobs), tuple(notes))


def _keys(live: Sequence[LiveJob], given: str | None) -> dict[int, str]:
    """Each job's key: given, its `hpcspec.key` tag, a slug of its name, else `job-ID`;
    made unique in the order the jobs were asked for."""
    keys: dict[int, str] = {}
    used: set[str] = set()
    for job in live:
        name = job.definition.name if job.definition is not None else job.name
        key = given or job.custom(KEY_TAG) or slug(name, fallback=f"job-{job.id}")
        chosen, number = key, 2
        while chosen.lower() in used:
            chosen, number = f"{key}-{number}", number + 1
        used.add(chosen.lower())
        keys[job.id] = chosen
    return keys


def _sensitive(job: LiveJob, extra: Collection[str]) -> set[str]:
    """`NAME` (job env) and `task/NAME` (task env) whose values must not be imported."""
    marked = (job.custom(SENSITIVE_TAG) or "").split(",")
    return {n.strip() for n in [*marked, *extra] if n.strip()}


def _placeholder(
    name: str, value: EnvValue, where: str, sensitive: set[str], notes: list[str]
) -> EnvValue:
    scoped = f"{where}/{name}" if where else name
    if isinstance(value, SecretRef):
        return value
    if scoped in sensitive or name in sensitive:
        why = "hpcspec created it from a secret" if scoped in sensitive else "you named it"
    elif looks_secret(name):
        why = "its name says it is a secret"
    else:
        return value
    notes.append(f"env {scoped}: value not imported ({why}); it reads env:{name} where apply runs")
    return SecretRef("env", name)


def _placeholders(
    definition: JobDefinition, sensitive: set[str], key: str, notes: list[str]
) -> JobDefinition:
    local: list[str] = []
    env = pairs((n, _placeholder(n, v, "", sensitive, local)) for n, v in definition.env)
    tasks = tuple(
        replace(
            task,
            env=pairs((n, _placeholder(n, v, task.name, sensitive, local)) for n, v in task.env),
        )
        for task in definition.tasks
    )
    notes += [f"job {key!r}: {note}" for note in local]
    return replace(definition, env=env, tasks=tasks)


def _without_defaults(definition: JobDefinition) -> JobDefinition:
    tasks = tuple(_task_without_defaults(t) for t in definition.tasks)
    return replace(definition, properties=pairs(job_settings(definition.properties)), tasks=tasks)


def _task_without_defaults(task: TaskDefinition) -> TaskDefinition:
    return replace(task, properties=pairs(task_settings(task.properties)))


def _state_notes(job: LiveJob, key: str) -> list[str]:
    if job.state is JobState.Configuring:
        return [f"job {key!r}: job {job.id} is Configuring (not submitted); add state: configuring"]
    if job.state.is_canceled:
        return [f"job {key!r}: job {job.id} was canceled"]
    return []
