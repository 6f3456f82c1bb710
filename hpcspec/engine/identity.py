"""Identity: how a live job is recognised as a manifest job (DESIGN.md §2). No state file.

Each job hpcspec creates carries custom properties `hpcspec.stack`, `hpcspec.key`,
`hpcspec.digest`, `hpcspec.token` (one per create attempt) and `hpcspec.source`. A job listing
cannot return custom properties, so the identity a listing needs is also written where a
listing can read it, from the job's first moment on (docs/apply.md, "Identity"):

- `Name` at create, for both create paths (the job XML importer keeps Name but ignores
  ClientSource): `hpcspec:<stack hash><key hash>:<digest>:<xml|rest>-<token>` — a *pending*
  job, still being created (or left behind by a killed apply);
- `ClientSource` once the job is complete (`mark` restores the manifest's Name in the same
  PUT): `hpcspec:<stack hash><key hash>:<digest>` — a *marked* job that claims its spec;
- `Name` of a stack lock job (`lock.py`), set by its create and never changed:
  `hpcspec:<stack hash>:lock:<token>:<host>/<pid>`.

Every one of them starts with `hpcspec:<stack hash>`, so one listing finds every job of a
stack, pending ones and locks included (`stack_prefix`). `read_identity` is the one reader.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from hpcspec.engine.steps import CreateMethod
from hpcspec.hpcpack.definition import JobDefinition, SecretRef
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState

PREFIX = "hpcspec"
STACK_TAG = "hpcspec.stack"
KEY_TAG = "hpcspec.key"
DIGEST_TAG = "hpcspec.digest"
TOKEN_TAG = "hpcspec.token"
SOURCE_TAG = "hpcspec.source"
SENSITIVE_TAG = "hpcspec.sensitive"  # env names whose values came from {secret: …}
FORGOTTEN_TAG = "hpcspec.forgotten"  # `hpcspec forget`: "KEY at TIME"; no longer the stack's
NAME_LIMIT = 80  # a job's Name (sdk-xmldoc/Microsoft.Hpc.Scheduler.xml: "limited to 80 characters")
LOCK_WORD = "lock"
_HOLDER_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def stack_hash(stack: str) -> str:
    return _short(stack)


def key_hash(stack: str, key: str) -> str:
    return _short(f"{stack}/{key}")


def client_source_marker(stack: str, key: str, digest: str) -> str:
    """`hpcspec:<stack hash><key hash>:<digest>` for the job property ClientSource."""
    return f"{PREFIX}:{stack_hash(stack)}{key_hash(stack, key)}:{digest}"


def stack_prefix(stack: str) -> str:
    """What the marker, the pending Name and the lock Name of every job of `stack` start
    with: a listing keeps only rows whose ClientSource or Name does."""
    return f"{PREFIX}:{stack_hash(stack)}"


def pending_name(stack: str, key: str, digest: str, via: CreateMethod, token: str) -> str:
    """The Name a job carries from its create until `mark` restores the manifest's Name."""
    name = f"{PREFIX}:{stack_hash(stack)}{key_hash(stack, key)}:{digest}:{via.value}-{token}"
    if len(name) > NAME_LIMIT:
        raise ValueError(f"a pending name longer than {NAME_LIMIT} characters: {name!r}")
    return name


def lock_name(stack: str, token: str, host: str, pid: int) -> str:
    """The Name of a stack lock job: the stack, a token, and who holds it (host/pid; the
    host is shortened to fit the 80 characters of a Name)."""
    head = f"{PREFIX}:{stack_hash(stack)}:{LOCK_WORD}:{token}:"
    tail = f"/{pid}"
    room = NAME_LIMIT - len(head) - len(tail)
    return head + _HOLDER_UNSAFE.sub("-", host)[:room] + tail


@dataclass(frozen=True)
class Marker:
    """A parsed ClientSource marker."""

    stack_hash: str
    key_hash: str
    digest: str


def parse_marker(text: str) -> Marker | None:
    """The marker in a ClientSource value, or None when it is not hpcspec's."""
    parts = (text or "").split(":")
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 16:
        return None
    return Marker(parts[1][:8], parts[1][8:], parts[2])


class IdentityKind(Enum):
    """What a job of a stack is, as its listing row says."""

    MARKED = "marked"  # complete, claims the spec of its digest (ClientSource marker)
    PENDING = "pending"  # still being created, or left behind by a killed apply (Name)
    LOCK = "lock"  # a stack lock job: never submitted (Name)


@dataclass(frozen=True)
class JobIdentity:
    """Whose job a listed job is: its stack and key (hashed), digest, and for a pending job
    how it was created and with which token; for a lock, its token and holder."""

    kind: IdentityKind
    stack_hash: str
    key_hash: str = ""
    digest: str = ""
    via: CreateMethod | None = None
    token: str = ""
    holder: str = ""  # a lock's `host/pid`


def parse_name(name: str) -> JobIdentity | None:
    """A pending job's or a lock's identity from its Name, or None for any other Name."""
    parts = (name or "").split(":")
    if len(parts) < 4 or parts[0] != PREFIX:
        return None
    if len(parts) == 5 and len(parts[1]) == 8 and parts[2] == LOCK_WORD:
        return JobIdentity(IdentityKind.LOCK, parts[1], token=parts[3], holder=parts[4])
    if len(parts) != 4 or len(parts[1]) != 16:
        return None
    via, _, token = parts[3].partition("-")
    if via not in {m.value for m in CreateMethod} or not token:
        return None
    return JobIdentity(
        IdentityKind.PENDING, parts[1][:8], parts[1][8:], parts[2], CreateMethod(via), token
    )


def read_identity(name: str, client_source: str) -> JobIdentity | None:
    """The identity of a listed job: its Name first (set atomically by the create, so a job
    is pending until `mark` restores its Name), else its ClientSource marker."""
    named = parse_name(name)
    if named is not None:
        return named
    marker = parse_marker(client_source)
    if marker is None:
        return None
    if marker.digest.startswith("pending-"):  # a REST create of hpcspec before the Name rule
        token = marker.digest.removeprefix("pending-")
        kind, rest = IdentityKind.PENDING, CreateMethod.REST
        return JobIdentity(kind, marker.stack_hash, marker.key_hash, "", rest, token)
    return JobIdentity(IdentityKind.MARKED, marker.stack_hash, marker.key_hash, marker.digest)


def listed_identity(job: LiveJob) -> JobIdentity | None:
    """The identity of a listed job (`read_identity`), where a pending job that was
    submitted is MARKED: apply submits a job only after its mark answered, so its mark was
    answered but not applied (a server or proxy that says 200 to a PUT it dropped). Such a
    job claims its spec by the digest in its Name; ClientSource can no longer be written."""
    found = read_identity(job.name, job.client_source)
    if found is None or found.kind is not IdentityKind.PENDING or not _lost_mark(job, found):
        return found
    return JobIdentity(IdentityKind.MARKED, found.stack_hash, found.key_hash, found.digest)


def _lost_mark(job: LiveJob, found: JobIdentity) -> bool:
    """A pending job (`found`) that left Configuring by a submit: its SubmitTime is set, or
    it is queued, running or ran (a listing without times tells it by the state alone)."""
    if not found.digest:
        return False
    return job.submit_time is not None or (
        job.state is not JobState.Configuring and not job.state.is_canceled
    )


def live_digest(job: LiveJob) -> str | None:
    """The digest a live job was created or last updated with: its `hpcspec.digest` tag when
    its custom properties were read (the marker cannot change after submit), else the
    marker's (a submitted job whose mark was lost: its Name's, `listed_identity`). The one
    rule every comparison with a desired digest uses."""
    tagged = job.custom(DIGEST_TAG)
    if tagged:
        return tagged
    marker = parse_marker(job.client_source)
    if marker is not None:
        return marker.digest
    found = listed_identity(job) if job.name.startswith(PREFIX) else None
    return found.digest if found is not None and found.kind is IdentityKind.MARKED else None


def claimed_elsewhere(
    stack: str, key: str, job: LiveJob, tags: Mapping[str, str], moved: Mapping[str, str]
) -> str | None:
    """Whose a job is when its marker or its identity tags (`tags`, its custom properties)
    name another hpcspec stack or key than `stack`/`key` — a key that `moved:` (old → new)
    renames to `key` is `key` — else None. A job `hpcspec forget` let go of is free by its
    tags, but a marker, which cannot change after submit, still names its first owner. The
    one rule for `adopt` and for a manifest's `adopt:` entries (`discovery.add_adopted`)."""
    mine = {key_hash(stack, k) for k in (key, *(old for old, new in moved.items() if new == key))}
    marker = parse_marker(job.client_source)
    if marker is not None and (
        marker.stack_hash != stack_hash(stack) or marker.key_hash not in mine
    ):
        return f"its ClientSource {job.client_source!r} names another stack or key"
    lowered = {name.lower(): value for name, value in tags.items()}
    tag_stack, tag_key = lowered.get(STACK_TAG, ""), lowered.get(KEY_TAG, "")
    if not tag_stack or lowered.get(FORGOTTEN_TAG):
        return None
    if tag_stack == stack and key in (tag_key, moved.get(tag_key)):
        return None
    return f"its identity tags name hpcspec stack {tag_stack!r}, key {tag_key!r}"


EXTRA_JOB = "hpcspec: extra job"  # how every cancel message of an extra job starts
INCOMPLETE_JOB = "hpcspec: an incomplete create"  # a create apply discarded (and makes again)


def extra_job_message(kept: int) -> str:
    """The cancel message of a job cancelled because job `kept` carries its key (a race
    loser, a duplicate); HPC Pack keeps it in the job's ErrorMessage."""
    return f"{EXTRA_JOB}; job {kept} carries its key"


def is_extra(job: LiveJob) -> bool:
    """A job apply cancelled because another job carries its key: never a key's current
    job while the key has another (the server prefixes the message: "Canceled by user.
    Message:…", `research/hpcpack-ground-truth.md` §4.1)."""
    return job.state.is_canceled and EXTRA_JOB in job.error_message


def never_carried_key(job: LiveJob) -> bool:
    """A job apply cancelled before it could carry its key: an extra job (`is_extra`) or an
    incomplete create it discarded. A key whose current job is one has no job: apply creates
    it (a race can leave every job of a key so: the lowest one discarded, the rest losers)."""
    said = job.error_message or ""
    return job.state.is_canceled and (EXTRA_JOB in said or INCOMPLETE_JOB in said)


def new_token() -> str:
    """A fresh per-attempt token: finds the job again after an ambiguous create."""
    return secrets.token_hex(12)


def sensitive_names(definition: JobDefinition) -> str:
    """`NAME,task/NAME,…`: the env variables whose values are secrets (never the values)."""
    names = [name for name, value in definition.env if isinstance(value, SecretRef)]
    names += [
        f"{task.name}/{name}"
        for task in definition.tasks
        for name, value in task.env
        if isinstance(value, SecretRef)
    ]
    return ",".join(names)


def identity_tags(
    stack: str,
    key: str,
    digest: str,
    *,
    token: str | None = None,
    source: str | None = None,
    sensitive: str = "",
) -> dict[str, str]:
    """The custom properties that tie a live job to its manifest job."""
    tags = {STACK_TAG: stack, KEY_TAG: key, DIGEST_TAG: digest}
    if sensitive:
        tags[SENSITIVE_TAG] = sensitive
    if token:
        tags[TOKEN_TAG] = token
    if source:
        tags[SOURCE_TAG] = source
    return tags
