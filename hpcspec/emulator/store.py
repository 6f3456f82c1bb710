"""The emulator's state in SQLite (stdlib `sqlite3`, WAL): jobs, tasks, id counters.

Every job and task row keeps its properties, custom properties and environment variables as
JSON objects of wire strings, with the columns listing filters on (state, owner, change time)
beside them, so a restart on the same file loses nothing. Writes are serialised by one lock
(the scheduler and the HTTP threads share it); each thread reads through its own connection.
"""

from __future__ import annotations

import operator
import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hpcspec.emulator.row_codec import (
    DECODE,
    job_row,
    job_values,
    task_row,
    task_values,
)
from hpcspec.emulator.rows import JobRow, TaskRow
from hpcspec.emulator.schema import prepare
from hpcspec.hpcpack.states import JobState, TaskState

QUOTE_EMPTY = "'{}'"  # an empty JSON object, as SQL
_FIRST = operator.itemgetter(0)
_JOB_INSERT = "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)"
_TASK_INSERT = "INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


class Store:
    """SQLite-backed tables with one writer lock and a connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._local = threading.local()
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._closed = False
        with self.lock:
            prepare(self._conn())

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # No fsync: a stopped or killed emulator loses nothing (the OS has every write); only
        # a power cut could, and an emulator's state is not worth a disk flush per checkpoint.
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA recursive_triggers=ON")  # REPLACE fires the delete trigger too
        return conn

    def release(self) -> None:
        """Give this thread's connection back for the next thread (the HTTP server starts a
        thread per request; opening a connection each time costs more than most requests)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.in_transaction:
            self._local.conn = None
            if self._closed:  # a request that outlived close(): nobody will take it again
                conn.close()
            else:
                self._idle.put(conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: holds the writer lock, commits on success, rolls back on error."""
        with self.lock:
            conn = self._conn()
            if conn.in_transaction:  # nested: the outer transaction commits
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        self._closed = True
        self.release()
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    # -- counters --------------------------------------------------------------------------
    def next_id(self, counter: str) -> int:
        """The next value of a persistent counter (job ids start at 1)."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (counter,)).fetchone()
            value = int(row[0]) + 1 if row else 1
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (counter, str(value)))
            return value

    def meta(self, key: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- jobs ------------------------------------------------------------------------------
    def save_job(self, job: JobRow) -> None:
        """Insert or replace a job row."""
        with self.transaction() as conn:
            conn.execute(_JOB_INSERT, job_values(job))

    def insert_jobs(self, jobs: Iterable[JobRow]) -> None:
        """Many jobs in one transaction (fixtures and benchmarks)."""
        with self.transaction() as conn:
            conn.executemany(_JOB_INSERT, (job_values(job) for job in jobs))
            row = conn.execute("SELECT MAX(id) FROM jobs").fetchone()
            current = self._counter(conn, "job")
            if row[0] is not None and row[0] > current:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('job', ?)", (str(row[0]),))

    @staticmethod
    def _counter(conn: sqlite3.Connection, key: str) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def job(self, job_id: int) -> JobRow | None:
        sql = "SELECT id, props, custom, env FROM jobs WHERE id = ?"
        row = self._conn().execute(sql, (job_id,)).fetchone()
        return job_row(row) if row else None

    def jobs_in(self, states: Iterable[JobState]) -> list[JobRow]:
        names = [s.name for s in states]
        marks = ",".join("?" * len(names))
        sql = f"SELECT id, props, custom, env FROM jobs WHERE state IN ({marks}) ORDER BY id"
        return [job_row(r) for r in self._conn().execute(sql, names).fetchall()]

    def query_jobs(
        self,
        where: str,
        params: Sequence[object],
        limit: int | None,
        offset: int,
        descending: bool = False,
        after: int | None = None,
    ) -> list[JobRow]:
        """Jobs matching an SQL condition on the indexed columns, by id, for reading: without
        their custom properties and environment (never save these rows). `after`: only ids
        past this one (a seek, where an offset would walk every row before it)."""
        found = self._page("props", where, params, limit, offset, descending, after)
        return [JobRow(job_id, props) for job_id, props in found]

    def job_values(
        self,
        where: str,
        params: Sequence[object],
        limit: int,
        offset: int,
        descending: bool,
        after: int | None,
        columns: Sequence[str],
    ) -> list[tuple[int, list[str | None]]]:
        """A page of `query_jobs` as (id, the values of the properties `columns`, None where a
        job has none), picked out by SQLite: a third of what decoding whole rows here costs."""
        paths = ", ".join(f"'$.\"{name}\"'" for name in (*columns, "Id"))  # ≥ 2: an array
        found = self._page(
            f"json_extract(props, {paths})", where, params, limit, offset, descending, after
        )
        return [(job_id, values[: len(columns)]) for job_id, values in found]

    def _page(
        self,
        picked: str,
        where: str,
        params: Sequence[object],
        limit: int | None,
        offset: int,
        descending: bool,
        after: int | None,
    ) -> list[Any]:
        """`[id, picked]` of each job matching `where`, in id order, as one value built inside
        one sqlite3_step: each row fetched costs a GIL release, and with several request
        threads each release hands the interpreter to another (tens of switches a page)."""
        order = "DESC" if descending else "ASC"
        args = list(params)
        if after is not None:
            where = f"({where}) AND id {'<' if descending else '>'} ?"
            args.append(after)
            offset = 0
        rows = f"SELECT id, props FROM jobs WHERE {where} ORDER BY id {order}"
        if limit is not None:
            rows += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        pairs = f"group_concat('[' || id || ',' || {picked} || ']', ',')"
        text = self._conn().execute(f"SELECT '[' || {pairs} || ']' FROM ({rows})", args)
        found: list[Any] = DECODE(text.fetchone()[0] or "[]")
        found.sort(key=_FIRST, reverse=descending)  # group_concat promises no order
        return found

    def count_jobs(self, where: str, params: Sequence[object]) -> int:
        row = self._conn().execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", params).fetchone()
        return int(row[0])

    # -- tasks -----------------------------------------------------------------------------
    def save_task(self, task: TaskRow) -> None:
        with self.transaction() as conn:
            conn.execute(_TASK_INSERT, task_values(task))

    def save_tasks(self, tasks: Iterable[TaskRow]) -> None:
        with self.transaction() as conn:
            conn.executemany(_TASK_INSERT, (task_values(t) for t in tasks))

    def update_tasks(self, job_id: int, state: TaskState, changes: Mapping[str, str]) -> None:
        """Set `changes` in the properties of every task of a job in `state`, in one statement.

        For a change that is the same for every row (a submit: Configuring → Submitted), so a
        job's thousands of tasks are not each read, decoded, encoded and written back.
        """
        paths = [item for name, value in changes.items() for item in (f'$."{name}"', value)]
        setters = ", ".join("?" * len(paths))
        with self.transaction() as conn:
            conn.execute(
                f"UPDATE tasks SET state = ?, props = json_set(props, {setters}) "
                "WHERE job_id = ? AND state = ?",
                (changes.get("State", state.name), *paths, job_id, state.name),
            )

    def task(self, job_id: int, task_id: int, instance_id: int = 0) -> TaskRow | None:
        row = (
            self._conn()
            .execute(
                "SELECT job_id, task_id, instance_id, props, custom, env FROM tasks "
                "WHERE job_id = ? AND task_id = ? AND instance_id = ?",
                (job_id, task_id, instance_id),
            )
            .fetchone()
        )
        return task_row(row) if row else None

    def tasks(self, job_id: int) -> list[TaskRow]:
        rows = (
            self._conn()
            .execute(
                "SELECT job_id, task_id, instance_id, props, custom, env FROM tasks "
                "WHERE job_id = ? ORDER BY task_id, instance_id",
                (job_id,),
            )
            .fetchall()
        )
        return [task_row(r) for r in rows]

    def query_tasks(
        self,
        job_id: int,
        where: str,
        params: Sequence[object],
        limit: int | None,
        offset: int = 0,
        descending: bool = False,
        after: tuple[int, ...] | None = None,
        custom: bool = True,
    ) -> list[TaskRow]:
        """A job's tasks matching an SQL condition, in (JobTaskId, InstanceId) order, paged by
        SQLite, for reading: without environment variables, and without custom properties
        unless `custom` (never save these rows). `after`: only rows past this (task id,
        instance id) key (an index seek). `query_task_values` reads chosen properties only."""
        columns = (
            f"job_id, task_id, instance_id, props, {'custom' if custom else QUOTE_EMPTY}, '{{}}'"
        )
        sql, args = _task_page(columns, job_id, where, params, limit, offset, descending, after)
        return [task_row(r) for r in self._conn().execute(sql, args).fetchall()]

    def query_task_values(
        self,
        job_id: int,
        where: str,
        params: Sequence[object],
        fields: Sequence[str],
        limit: int,
        offset: int = 0,
        descending: bool = False,
        after: tuple[int, ...] | None = None,
    ) -> list[tuple[int, int, list[str | None]]]:
        """`query_tasks` for a listing of stored properties only: each row's (task id,
        instance id, the values of `fields` in order, None where a task has none), with no
        TaskRow built (a 100,000-task listing reads 100 pages of 1,000)."""
        paths = [f"'$.\"{name}\"'" for name in (*fields, "Id")]  # ≥ 2 paths: an array
        columns = f"task_id, instance_id, json_extract(props, {', '.join(paths)})"
        sql, args = _task_page(columns, job_id, where, params, limit, offset, descending, after)
        found = self._conn().execute(sql, args).fetchall()
        decode = DECODE
        return [(task_id, instance_id, decode(values)) for task_id, instance_id, values in found]

    def count_tasks(self, job_id: int, where: str, params: Sequence[object]) -> int:
        """How many of a job's tasks match an SQL condition."""
        sql = f"SELECT COUNT(*) FROM tasks WHERE job_id = ? AND ({where})"
        return int(self._conn().execute(sql, [job_id, *params]).fetchone()[0])

    def task_state_counts(self, job_id: int) -> dict[str, int]:
        """How many of a job's tasks that run (basic tasks and sweep subtasks, and sweep
        masters without subtasks yet) are in each state."""
        return self.task_state_counts_of([job_id])[job_id]

    def task_state_counts_of(self, job_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """`task_state_counts` of several jobs in two queries: the counts the triggers keep
        (`schema.py`), so a job of 100,000 tasks costs what a job of one does."""
        out: dict[int, dict[str, int]] = {job_id: {} for job_id in job_ids}
        if not job_ids:
            return out
        marks = ",".join("?" * len(job_ids))
        # one statement, one row (see query_jobs): the kept counts, plus sweep masters that
        # have no subtasks yet, as `[[job id, state, count], …]`
        sql = (
            "SELECT json_group_array(json_array(job_id, state, n)) FROM ("
            f"SELECT job_id, state, count AS n FROM task_counts WHERE job_id IN ({marks}) "
            "AND master = 0 AND count > 0 UNION ALL "
            f"SELECT job_id, state, COUNT(*) FROM tasks AS m WHERE job_id IN ({marks}) "
            "AND master = 1 AND NOT EXISTS (SELECT 1 FROM tasks AS s WHERE s.job_id = m.job_id "
            "AND s.task_id = m.task_id AND s.instance_id > 0) GROUP BY job_id, state)"
        )
        text = self._conn().execute(sql, [*job_ids, *job_ids]).fetchone()[0]
        for job_id, state, count in DECODE(text):
            counts = out[int(job_id)]
            counts[str(state)] = counts.get(str(state), 0) + int(count)
        return out


def _task_page(
    columns: str,
    job_id: int,
    where: str,
    params: Sequence[object],
    limit: int | None,
    offset: int,
    descending: bool,
    after: tuple[int, ...] | None,
) -> tuple[str, list[object]]:
    """The SQL and arguments of a page of a job's task rows (`Store.query_tasks`)."""
    order = "DESC" if descending else "ASC"
    args: list[object] = [job_id, *params]
    condition = f"job_id = ? AND ({where})"
    if after is not None:
        condition += f" AND (task_id, instance_id) {'<' if descending else '>'} (?, ?)"
        args += list(after[:2])
        offset = 0
    sql = f"SELECT {columns} FROM tasks WHERE {condition} "
    sql += f"ORDER BY task_id {order}, instance_id {order}"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        args += [limit, offset]
    return sql, args
