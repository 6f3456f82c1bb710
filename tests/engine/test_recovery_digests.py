"""Recovery adopts a pending job an interrupted apply of an earlier hpcspec left, when its
digest is one the key still accepts (`DesiredJob.made_from`; the second review: it was
cancelled as "the manifest changed" and created again)."""

from __future__ import annotations

from dataclasses import replace

from hpcspec.engine.identity import IdentityKind, JobIdentity
from hpcspec.engine.recovery import _why_not_adopted
from hpcspec.engine.steps import CreateMethod
from tests.apply.stacks import make_stack


def test_a_pending_job_with_an_earlier_digest_of_the_same_spec_is_adopted() -> None:
    stack = make_stack("recover-digests", 1)
    key, job = next(iter(stack.jobs.items()))
    earlier = replace(job, digests=frozenset({job.digest, "0123456789abcdef"}))
    stack = replace(stack, jobs={key: earlier})
    pending = JobIdentity(IdentityKind.PENDING, "s", "k", "0123456789abcdef", CreateMethod.XML)
    assert _why_not_adopted(stack, key, pending, has_alive=False) is None
    other = replace(pending, digest="fedcba9876543210")
    assert _why_not_adopted(stack, key, other, has_alive=False) == "the manifest changed"
