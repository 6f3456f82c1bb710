"""Learning, without a cluster profile, whether the cluster keeps the ClientSource hpcspec
writes: the part of the REST client that watches its own marker writes and submits.

A server may keep what a client writes in ClientSource, replace it at every write, or keep
it until the job is submitted and replace it then (the references are silent: `hpcspec
cluster check` measures it; `profile.StampedAt`). Discovery finds hpcspec's jobs by that
marker only where it survives the submit, so "kept" is saved only on proof that it did:

1. After the first marker write (the mark's PUT, an adopt, an update), one read of the job.
   Our marker there (or another applier's: a value of the same `hpcspec:` scheme, which a
   server that replaces ClientSource would have replaced too) shows it is kept *at write*
   (`client_source_verdict`): nothing is saved, and discovery still lists without guessing
   (a listing by marker would miss rivals' jobs that a submit stamped).
   Another value is proof that the server replaced it only when the read shows our write
   landed (the same PUT's Name, or a create): then "replaced" is learned and saved.
   Otherwise the read may come from a replica behind the primary (it shows the job as it
   was before our write): nothing is learned, and the next listing reads the job again
   (`settle_client_source`).
2. After the first submit of a job this client marked, one read of its ClientSource and
   State. A State past Configuring shows the submit landed: a client's marker there is saved
   as "kept"; another value as "replaced" (at submit, when step 1 saw it kept at write). A
   read that still shows Configuring is stale: the next listing reads again. A server that
   replaced it later (at validation, or when the job starts) would go unseen here: `hpcspec
   cluster check` reads it once the job is queued.

A saved "replaced" that was learned (not measured by `hpcspec cluster check`) is corrected by
evidence: a listing that shows a job this client marked, in a state only a submitted job can
be in, with the very marker it wrote (only our write can have put it there, and it survived
the submit) saves "kept" instead. It costs nothing: the listing's rows carry ClientSource and State.

Cost: one read after the first marker write and one after the first submit, in the first
process that writes markers to the cluster (none once the fact is saved); a stale read costs
one more read at the next listing. The reads of concurrent writers are not repeated: a write
or submit sent while a read is in flight does not wait for it (nor read); the next listing
waits for the answer (`settle_client_source`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client.base import ClientBase
from hpcspec.hpcpack.codec import PropertyMap
from hpcspec.hpcpack.profile import StampedAt
from hpcspec.hpcpack.states import JobState

FACT = "client_source_kept"
SUBMITTED = ("ClientSource", "State")  # step 2 reads both: a Configuring job is a stale read


@dataclass(frozen=True)
class MarkerWrite:
    """A ClientSource this client wrote, and what proves a read of the job shows the write."""

    job_id: int
    sent: str
    name: str | None = None  # the Name the same PUT sent: read back, the PUT has landed
    created: bool = False  # sent with the create: any read of the job shows it


class ClientSourceLearning(ClientBase):
    """Watches marker writes and submits until whether ClientSource is kept is known."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Held while one thread reads what the others' listings need (one read at a time).
        self.detecting = threading.Lock()
        self._written: dict[int, MarkerWrite] = {}  # marker writes, while the fact is unknown
        self._kept_at_write = False  # step 1 read our marker back (this process only)
        self._owed_write: MarkerWrite | None = None  # a write whose step 1 is still owed
        self._owed_submit: MarkerWrite | None = None  # a submitted job whose step 2 is owed
        self._doubted: dict[str, str] = {}  # job id -> marker written where "replaced" was learned

    def client_source_verdict(self) -> bool | None:
        """What this client has found: the profile's fact when known; else True once a marker
        write read back intact (kept at write: not proven past a submit, so neither saved nor
        taken by discovery, which lists without guessing until it is); else None."""
        if self.profile.knows(FACT):
            return self.profile.client_source_kept
        return True if self._kept_at_write else None

    def settle_client_source(self) -> None:
        """Return once the reads in flight have answered, and after reading again a job whose
        read was owed (another thread's read failed, or a read looked stale). A failure of
        the step-1 read is this call's (the caller's listing must know how to find marked
        jobs); before any marker write nothing is read."""
        if self.profile.knows(FACT):
            return
        with self.detecting:
            submitted = self._owed_submit
            if submitted is not None and not self.profile.knows(FACT):
                self._read_submitted(submitted)
            written = self._owed_write
            if written is not None and not self._kept_at_write and not self.profile.knows(FACT):
                self._read_written(written)

    def _wrote_client_source(self, write: MarkerWrite) -> None:
        """After a create or PUT that sent ClientSource: step 1, unless known or in flight."""
        if self.profile.knows(FACT):
            if not self.profile.client_source_kept and not self.profile.checked_at:
                self._doubted[str(write.job_id)] = write.sent  # a listing may show it kept
            return
        self._written[write.job_id] = write
        if self._kept_at_write:
            return  # step 2 decides, at the first submit
        if not self.detecting.acquire(blocking=False):
            self._owed_write = write  # read by the next listing if the read in flight fails
            return
        try:
            if not self.profile.knows(FACT) and not self._kept_at_write:
                self._read_written(write)
        finally:
            self.detecting.release()

    def _submitted(self, job_id: int) -> None:
        """After a submit that was answered: step 2 for a job this client marked. Its
        failure is not the submit's (the job was submitted): the next listing reads again."""
        if self.profile.knows(FACT):
            return
        write = self._written.get(job_id)
        if write is None:
            return
        if not self.detecting.acquire(blocking=False):
            self._owed_submit = write
            return
        try:
            if not self.profile.knows(FACT):
                self._read_submitted(write)
        finally:
            self.detecting.release()

    def _watching(self, rows: Iterator[PropertyMap]) -> Iterator[PropertyMap]:
        """A listing's rows, checked for a marker this client wrote where "replaced" was
        learned (`_seen`); as they are while there is none."""
        return self._watch(rows) if self._doubted else rows

    def _watch(self, rows: Iterator[PropertyMap]) -> Iterator[PropertyMap]:
        for row in rows:
            self._seen(row)
            yield row

    def _seen(self, row: PropertyMap) -> None:
        """A listed job that carries, once submitted, the marker this client wrote to it: the
        cluster keeps ClientSource, whatever was learned before."""
        sent = self._doubted.get(row.text("Id").strip())
        if sent is None or row.text("ClientSource") != sent:
            return
        if not _surely_submitted(row.text("State")):
            return  # a job cancelled before its submit (a race loser) keeps its marker
        self._doubted.clear()
        self.correct(
            f"job {row.text('Id')} kept the ClientSource marker hpcspec wrote through its "
            "submit, so the cluster keeps ClientSource after all: hpcspec finds its jobs by "
            "it again (what was saved before was wrong)",
            client_source_kept=True,
            client_source_stamp="",
            client_source_stamped_at=StampedAt.WRITE,
        )

    def _read_written(self, write: MarkerWrite) -> None:
        """Step 1 (with `detecting` held): one read of a job we wrote a marker to."""
        asked = ("ClientSource", "Name") if write.name is not None else ("ClientSource",)
        self._owed_write = write  # until this read decides
        try:
            row = self._properties(f"/jobs/{int(write.job_id)}", properties=asked)
        except errors.NotFound:  # a replica that has not seen the job yet
            return
        kept = row.text("ClientSource")
        if _written_by_a_client(kept, write.sent):
            self._kept_at_write, self._owed_write = True, None
        elif write.created or (write.name is not None and row.text("Name") == write.name):
            self._owed_write = None
            self._replaced(kept, StampedAt.WRITE)
        # else: the job as it was before our write (a stale replica?): nothing is learned

    def _read_submitted(self, write: MarkerWrite) -> None:
        """Step 2 (with `detecting` held): one read of a submitted job we marked."""
        self._owed_submit = write  # until this read decides
        try:
            row = self._properties(f"/jobs/{int(write.job_id)}", properties=SUBMITTED)
        except errors.ApiError:
            return  # the job was submitted all the same; the next listing reads again
        if not _past_configuring(row.text("State")):
            return  # a read from before the submit (a stale replica): proves nothing
        self._owed_submit = None
        kept = row.text("ClientSource")
        if _written_by_a_client(kept, write.sent):
            self.learn("", client_source_kept=True)
        else:
            self._replaced(kept, StampedAt.SUBMIT if self._kept_at_write else None)
        self._written.clear()

    def _replaced(self, stamp: str, moment: StampedAt | None) -> None:
        when = " at submit" if moment is StampedAt.SUBMIT else ""
        facts: dict[str, object] = {"client_source_kept": False, "client_source_stamp": stamp}
        if moment is not None:
            facts["client_source_stamped_at"] = moment
        self.learn(
            f"the cluster replaces the ClientSource hpcspec writes{when} (with {stamp!r}), so "
            "hpcspec finds its jobs by their custom properties (slower: one read per job)",
            **facts,
        )
        self._written.clear()


def _written_by_a_client(value: str, sent: str) -> bool:
    """Whether a ClientSource read back is what a client wrote: ours, or one of the same
    scheme (`hpcspec:` and the rest: a racing applier re-marked the job), which a server
    that puts its own value there would have replaced too."""
    scheme, colon, _ = sent.partition(":")
    return value == sent or bool(colon and value.startswith(f"{scheme}:"))


def _past_configuring(state: str) -> bool:
    """Whether a job's State shows that our submit (answered) has landed."""
    try:
        return JobState.parse(state) is not JobState.Configuring
    except ValueError:
        return False


def _surely_submitted(state: str) -> bool:
    """Whether a listed job's State shows it was submitted (`JobState.surely_submitted`)."""
    try:
        return JobState.parse(state).surely_submitted
    except ValueError:
        return False
