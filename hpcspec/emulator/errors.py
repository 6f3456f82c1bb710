"""Scheduler errors: a refusal with its message (`messages.py`) and the kind of status.

The `/hpc` web service documents no error schema or status codes
(`research/hpcpack-ground-truth.md` §1.5 and §8), so the status per kind is this emulator's
decision (`docs/emulator.md`), which a cluster profile may change; `error_bodies.py` renders
the body in the profile's style.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from hpcspec.emulator.messages import PERMISSION_DENIED, SchedulerMessage
from hpcspec.errors import HpcspecError

COMMON_NS = "http://schemas.microsoft.com/HPCS2008R2/common"
# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF): a
# value that holds one (a job named over JSON may) is written with U+FFFD in its place, so every
# listing stays well-formed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text for an XML element: markup escaped, characters XML cannot carry replaced."""
    return escape(_NOT_XML.sub("\ufffd", text))


class SchedulerError(HpcspecError):
    """A refusal the scheduler would report, with the HTTP status the emulator answers."""

    def __init__(
        self, status: int, scheduler: SchedulerMessage, *args: object, detail: str = ""
    ) -> None:
        text = scheduler.template.format(*args) if args else scheduler.template
        if detail:
            text = f"{text} {detail}"
        super().__init__(message=text, code="emulator-" + _kebab(scheduler.name))
        self.status = status
        self.scheduler = scheduler


def _kebab(name: str) -> str:
    out: list[str] = []
    for char in name.replace("_", "-"):
        if char.isupper() and out and out[-1] != "-":
            out.append("-")
        out.append(char.lower())
    return "".join(out)


def bad_request(scheduler: SchedulerMessage, *args: object, detail: str = "") -> SchedulerError:
    """400: the request itself is malformed or names something that does not exist."""
    return SchedulerError(400, scheduler, *args, detail=detail)


def not_found(scheduler: SchedulerMessage, *args: object) -> SchedulerError:
    """404: an unknown job, task, subtask, node or node group."""
    return SchedulerError(404, scheduler, *args)


def forbidden(detail: str = "") -> SchedulerError:
    """403: the caller may not act on this object."""
    return SchedulerError(403, PERMISSION_DENIED, detail=detail)


def conflict(scheduler: SchedulerMessage, *args: object) -> SchedulerError:
    """409: the object's state does not allow the operation."""
    return SchedulerError(409, scheduler, *args)
