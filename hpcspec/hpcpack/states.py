"""HPC Pack enumerations: job and task states, task types, unit types, node group operators.

Values are the .NET enum values from `reference/hpcpack/msdocs/jobstate.md`,
`taskstate.md`, `tasktype.md`, `jobunittype.md`, `jobnodegroupop.md` and
`research/hpcpack-ground-truth.md` §3.1 and §4. Names are what the REST API and job XML carry.
"""

from __future__ import annotations

from enum import Enum, IntFlag
from typing import TypeVar

_F = TypeVar("_F", bound=IntFlag)


class JobState(IntFlag):
    """Job states are flags (`jobstate.md`): `All` = 2047."""

    Configuring = 1
    Submitted = 2
    Validating = 4
    ExternalValidation = 8
    Queued = 16
    Running = 32
    Finishing = 64
    Finished = 128
    Failed = 256
    Canceled = 512
    Canceling = 1024

    @classmethod
    def parse(cls, text: str) -> JobState:
        """A state from its name (any case) or its number."""
        return _parse_flag(cls, text)

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_JOB_STATES

    @property
    def is_active(self) -> bool:
        """Submitted and not yet ended: it holds (or waits for) cluster resources."""
        return self in ACTIVE_JOB_STATES

    @property
    def is_canceled(self) -> bool:
        """Canceled, or Canceling on its way there: a cancel has taken."""
        return self in (JobState.Canceling, JobState.Canceled)

    @property
    def surely_submitted(self) -> bool:
        """Only a job that was submitted can be in this state: active (but not Canceling),
        Finished or Failed. A Canceled or Canceling job may have been cancelled while it was
        still Configuring."""
        return self in SUBMITTED_JOB_STATES

    @property
    def is_alive(self) -> bool:
        """Will run, or may still be submitted: Configuring or active, and not on its way out
        (Canceling). The one rule for "is this job alive": cancel it, race it, count it."""
        return self in ALIVE_JOB_STATES


TERMINAL_JOB_STATES = frozenset({JobState.Finished, JobState.Failed, JobState.Canceled})
ACTIVE_JOB_STATES = frozenset(
    {
        JobState.Submitted,
        JobState.Validating,
        JobState.ExternalValidation,
        JobState.Queued,
        JobState.Running,
        JobState.Finishing,
        JobState.Canceling,
    }
)
ALIVE_JOB_STATES = (ACTIVE_JOB_STATES | {JobState.Configuring}) - {JobState.Canceling}
SUBMITTED_JOB_STATES = (ACTIVE_JOB_STATES | {JobState.Finished, JobState.Failed}) - {
    JobState.Canceling
}


class TaskState(IntFlag):
    """Task states (`taskstate.md`): Queued = 8 here but 16 for jobs; no ExternalValidation."""

    NA = 0
    Configuring = 1
    Submitted = 2
    Validating = 4
    Queued = 8
    Dispatching = 16
    Running = 32
    Finishing = 64
    Finished = 128
    Failed = 256
    Canceled = 512
    Canceling = 1024

    @classmethod
    def parse(cls, text: str) -> TaskState:
        """A state from its name (any case) or its number."""
        return _parse_flag(cls, text)

    @property
    def is_terminal(self) -> bool:
        return self in (TaskState.Finished, TaskState.Failed, TaskState.Canceled)


class TaskType(Enum):
    """`tasktype.md`."""

    Basic = 0
    ParametricSweep = 1
    NodePrep = 2
    NodeRelease = 3
    Service = 4


class UnitType(Enum):
    """`jobunittype.md`; `Gpu` came with HPC Pack 2016."""

    Core = 0
    Socket = 1
    Node = 2
    Gpu = 3


class NodeGroupOp(Enum):
    """`jobnodegroupop.md`: how several node groups combine (default Intersect)."""

    Intersect = 0
    Uniform = 1
    Union = 2


class JobType(Enum):
    """`jobschema-jobtype-simpletype.md`."""

    Batch = 0
    Admin = 1
    Service = 2
    Broker = 3


def _parse_flag(cls: type[_F], text: str) -> _F:
    known = _PARSED.get((cls, text))
    if known is not None:  # a listing's rows carry a few states, many times over
        return known  # type: ignore[return-value]
    member = _parse_flag_text(cls, text)
    if len(_PARSED) < _PARSED_KEPT:
        _PARSED[cls, text] = member
    return member


_PARSED: dict[tuple[type, str], IntFlag] = {}  # (enum, text) -> what `_parse_flag_text` said
_PARSED_KEPT = 1024


def _parse_flag_text(cls: type[_F], text: str) -> _F:
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return cls(int(stripped))
    for name, member in cls.__members__.items():  # includes zero-valued NA (3.11 skips it)
        if name.lower() == stripped.lower():
            return member
    raise ValueError(f"{text!r} is not a {cls.__name__}")
