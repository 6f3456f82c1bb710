"""hpcspec's identity tags read in any case, as a server may answer custom property names
(drift reads them so: 9752d6d); adopt's claim check and import's adopt hint must too."""

from __future__ import annotations

import pytest

from hpcspec.engine import identity
from hpcspec.engine.adopt import _check_claims
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.codec import PropertyMap
from hpcspec.hpcpack.live import LiveJob, custom_value
from hpcspec.hpcpack.states import JobState


class _Tags:
    """A cluster that answers a job's custom properties with their names re-spelled."""

    def job_custom_properties(self, job_id: int) -> PropertyMap:
        return PropertyMap({"HPCSpec.Forgotten": "old at 2026-11-30", "HPCSPEC.STACK": "a"})


def test_adopting_a_forgotten_job_says_it_was_forgotten_whatever_the_tag_names_case() -> None:
    job = LiveJob(
        7, JobState.Running, client_source=identity.client_source_marker("a", "k", "d" * 16)
    )
    with pytest.raises(HpcspecError) as refused:
        _check_claims(_Tags(), "b", "k", job, [])  # type: ignore[arg-type]
    assert refused.value.message.startswith("job 7 was forgotten")


def test_imports_adopt_hint_reads_the_stack_tag_in_any_case() -> None:
    assert custom_value((("HPCSpec.Stack", "a"), ("team", "x")), identity.STACK_TAG) == "a"
    assert custom_value((("team", "x"),), identity.STACK_TAG) is None
