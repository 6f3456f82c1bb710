"""The emulator's SQLite schema, the counters its triggers keep, and upgrades of old files.

Tables: `meta` (id counters), `jobs` and `tasks` (each row's properties, custom properties and
environment as JSON, beside the columns queries filter on), and `task_counts`: how many of each
job's tasks are in each state, kept by triggers on `tasks` so a listing's task counters never
count a job's rows. `master` marks a sweep master (instance 0 of a ParametricSweep task), so
listings leave masters out without decoding properties. A file written by an older emulator
is brought up to date when it is opened: a restart loses nothing.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL COLLATE NOCASE,
    state TEXT NOT NULL,
    change_time REAL NOT NULL,
    props TEXT NOT NULL,
    custom TEXT NOT NULL,
    env TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner);
CREATE TABLE IF NOT EXISTS tasks (
    job_id INTEGER NOT NULL,
    task_id INTEGER NOT NULL,
    instance_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    props TEXT NOT NULL,
    custom TEXT NOT NULL,
    env TEXT NOT NULL,
    master INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, task_id, instance_id)
);
"""
# `state IN (…) ORDER BY id LIMIT n` walks this index in id order for one state.
STATE_INDEX = """
DROP INDEX IF EXISTS jobs_state;
CREATE INDEX IF NOT EXISTS jobs_state_id ON jobs (state, id);
"""
ADD_MASTER = """
ALTER TABLE tasks ADD COLUMN master INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET master = 1
    WHERE instance_id = 0 AND json_extract(props, '$.Type') = 'ParametricSweep';
"""
COUNTS = """
CREATE INDEX IF NOT EXISTS tasks_masters ON tasks (job_id) WHERE master = 1;
CREATE TABLE IF NOT EXISTS task_counts (
    job_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    master INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (job_id, state, master)
);
CREATE TRIGGER IF NOT EXISTS task_counts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_counts VALUES (NEW.job_id, NEW.state, NEW.master, 1)
        ON CONFLICT (job_id, state, master) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER IF NOT EXISTS task_counts_delete AFTER DELETE ON tasks BEGIN
    UPDATE task_counts SET count = count - 1
        WHERE job_id = OLD.job_id AND state = OLD.state AND master = OLD.master;
END;
CREATE TRIGGER IF NOT EXISTS task_counts_update AFTER UPDATE OF state, master ON tasks BEGIN
    UPDATE task_counts SET count = count - 1
        WHERE job_id = OLD.job_id AND state = OLD.state AND master = OLD.master;
    INSERT INTO task_counts VALUES (NEW.job_id, NEW.state, NEW.master, 1)
        ON CONFLICT (job_id, state, master) DO UPDATE SET count = count + 1;
END;
"""
FILL_COUNTS = """
INSERT INTO task_counts SELECT job_id, state, master, COUNT(*) FROM tasks GROUP BY 1, 2, 3;
"""


def prepare(conn: sqlite3.Connection) -> None:
    """Create the schema, or bring an older emulator's file up to date."""
    conn.executescript(SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(tasks)")}
    if "master" not in columns:
        conn.executescript(ADD_MASTER)
    conn.executescript(STATE_INDEX)
    counted = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'task_counts'"
    ).fetchone()
    conn.executescript(COUNTS)
    if not counted:
        conn.executescript(FILL_COUNTS)
