"""The task and subtask part of the REST client (`/jobs/{jobId}/tasks…`).

Path ids: `{taskId}` is the JobTaskId (1, 2, 3… in add order) and `{subtaskId}` a sweep
instance's InstanceId (`research/hpcpack-ground-truth.md` §1.2). `add_task`/`set_task` take a
`TaskDefinition` (or canonical values); `list_tasks` hands out `LiveTask`s and `task_ids` the
JobTaskId of each task name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from hpcspec.hpcpack import codec, readback
from hpcspec.hpcpack.catalogue import TASK_PROPERTIES
from hpcspec.hpcpack.client.base import ClientBase
from hpcspec.hpcpack.codec import PropertyMap, WireValue
from hpcspec.hpcpack.definition import EnvValue, TaskDefinition
from hpcspec.hpcpack.jobxml import SecretResolver
from hpcspec.hpcpack.listing import filter_expression, iter_rows, with_key
from hpcspec.hpcpack.live import LiveTask
from hpcspec.hpcpack.readback import TASK_LOG_COLUMNS, TASK_STATUS_COLUMNS, TASK_TARGET_COLUMNS
from hpcspec.hpcpack.states import TaskState


def _ids(values: Sequence[int]) -> str:
    return ",".join(str(int(v)) for v in values)


class TaskOperations(ClientBase):
    """Tasks and sweep subtasks of a job."""

    def iter_tasks(
        self,
        job_id: int,
        *,
        properties: Sequence[str] | None = None,
        expand_parametric: bool | None = None,
        state: str | None = None,
        states: Sequence[str] = (),
        task_ids: Sequence[int] = (),
        instance_ids: Sequence[int] = (),
        changed_since: datetime | None = None,
        sort_by: str | None = None,
        rows_per_read: int = 1000,
    ) -> Iterator[PropertyMap]:
        """GET /jobs/{jobId}/tasks, paged lazily, with the TaskState/TaskStates/TaskIds/
        TaskInstanceIds/ChangeTimeFrom filters; `expand_parametric` False lists sweep masters."""
        terms = []
        if state:
            terms.append(("TaskState", state))
        if states:
            terms.append(("TaskStates", ",".join(states)))
        if task_ids:
            terms.append(("TaskIds", _ids(task_ids)))
        if instance_ids:
            terms.append(("TaskInstanceIds", _ids(instance_ids)))
        if changed_since is not None:
            terms.append(("ChangeTimeFrom", self.time_format.format(changed_since)))
        expand = None if expand_parametric is None else str(expand_parametric).lower()
        params = {
            "properties": with_key(properties, "TaskId"),
            "$filter": filter_expression(terms),
            "expandParametric": expand,
            "sortTasksBy": sort_by,
            "rowsPerRead": str(rows_per_read),
        }
        return iter_rows(self.transport, f"/jobs/{int(job_id)}/tasks", params, key="TaskId")

    def list_tasks(
        self, job_id: int, *, expand_sweeps: bool, state: TaskState | None = None
    ) -> list[LiveTask]:
        """GET /jobs/{jobId}/tasks as `LiveTask`s (state, exit code, output); with
        `expand_sweeps`, one per sweep instance; with `state`, only the tasks in it (the
        server filters: `TaskState eq …`)."""
        rows = self.iter_tasks(
            job_id,
            properties=TASK_STATUS_COLUMNS,
            expand_parametric=expand_sweeps,
            state=state.name if state is not None else None,
        )
        return [readback.live_task(r) for r in rows]

    def task_logs(self, job_id: int, *, failed_only: bool = False) -> list[LiveTask]:
        """GET /jobs/{jobId}/tasks, sweeps expanded, with what `hpcspec logs` shows: state,
        exit code, error, Output, instance value, working directory and stream files;
        `failed_only` filters on the server (`TaskState eq Failed`)."""
        rows = self.iter_tasks(
            job_id,
            properties=TASK_LOG_COLUMNS,
            expand_parametric=True,
            state="Failed" if failed_only else None,
        )
        return [readback.live_task(r) for r in rows]

    def tasks_in(self, job_id: int, *states: TaskState) -> list[LiveTask]:
        """GET /jobs/{jobId}/tasks, sweeps expanded, in `states` only (all with none; the
        server filters: `TaskStates eq Failed,Canceled`), with what picks a task for
        requeue or cancel: ids, name, instance value, state, IsRerunnable."""
        rows = self.iter_tasks(
            job_id,
            properties=TASK_TARGET_COLUMNS,
            expand_parametric=True,
            states=[s.name for s in states if s.name],
        )
        return [readback.live_task(r) for r in rows]

    def task_ids(self, job_id: int) -> dict[str, int]:
        """The JobTaskId of each task (sweep masters, not instances) by name."""
        rows = self.iter_tasks(job_id, properties=("JobTaskId", "Name"), expand_parametric=False)
        return {row.text("Name"): int(row.text("JobTaskId")) for row in rows}

    def add_task(self, job_id: int, task: TaskDefinition | Mapping[str, WireValue]) -> int:
        """POST /jobs/{jobId}/tasks: the new task's JobTaskId. A `TaskDefinition` sends its
        properties and structure; its env and custom properties go separately."""
        values = codec.task_values(task) if isinstance(task, TaskDefinition) else task
        body = codec.encode(values, TASK_PROPERTIES, self._time_format)
        return self._call("POST", f"/jobs/{int(job_id)}/tasks", codec.decode_int, body=body)

    def task_properties(
        self, job_id: int, task_id: int, *, properties: Sequence[str] | None = None
    ) -> PropertyMap:
        """GET /jobs/{jobId}/tasks/{taskId}: all (or the named) properties of a task."""
        path = f"/jobs/{int(job_id)}/tasks/{int(task_id)}"
        return self._properties(path, properties=tuple(properties or ()))

    def set_task(
        self, job_id: int, task_id: int, task: TaskDefinition | Mapping[str, WireValue]
    ) -> None:
        """PUT /jobs/{jobId}/tasks/{taskId}: set task properties (all of a `TaskDefinition`)."""
        values = codec.task_values(task) if isinstance(task, TaskDefinition) else task
        path = f"/jobs/{int(job_id)}/tasks/{int(task_id)}"
        self._send_properties("PUT", path, values, TASK_PROPERTIES)

    def task_custom_properties(
        self, job_id: int, task_id: int, *, names: Sequence[str] | None = None
    ) -> PropertyMap:
        """GET /jobs/{jobId}/tasks/{taskId}/customProperties."""
        path = f"/jobs/{int(job_id)}/tasks/{int(task_id)}/customProperties"
        return self._named(path, tuple(names or ()))

    def set_task_custom_properties(
        self, job_id: int, task_id: int, values: Mapping[str, str]
    ) -> None:
        """POST /jobs/{jobId}/tasks/{taskId}/customProperties."""
        path = f"/jobs/{int(job_id)}/tasks/{int(task_id)}/customProperties"
        self._send_properties("POST", path, values, None)

    def task_env(
        self, job_id: int, task_id: int, *, names: Sequence[str] | None = None
    ) -> PropertyMap:
        """GET /jobs/{jobId}/tasks/{taskId}/envVariables."""
        path = f"/jobs/{int(job_id)}/tasks/{int(task_id)}/envVariables"
        return self._named(path, tuple(names or ()))

    def set_task_env(
        self,
        job_id: int,
        task_id: int,
        values: Mapping[str, EnvValue],
        *,
        secret: SecretResolver | None = None,
    ) -> None:
        """POST /jobs/{jobId}/tasks/{taskId}/envVariables; secrets resolved with `secret`."""
        path = f"/jobs/{int(job_id)}/tasks/{int(task_id)}/envVariables"
        self._send_properties("POST", path, self._env_values(values, secret), None)

    def cancel_task(
        self, job_id: int, task_id: int, message: str = "", *, forced: bool = False
    ) -> None:
        """POST /jobs/{jobId}/tasks/{taskId}/cancel?forced=…"""
        path = f"/jobs/{int(job_id)}/tasks/{int(task_id)}/cancel"
        self._action(path, message=message, forced=forced)

    def finish_task(self, job_id: int, task_id: int, message: str = "") -> None:
        """POST /jobs/{jobId}/tasks/{taskId}/finish."""
        self._action(f"/jobs/{int(job_id)}/tasks/{int(task_id)}/finish", message=message)

    def requeue_task(self, job_id: int, task_id: int, message: str = "") -> None:
        """POST /jobs/{jobId}/tasks/{taskId}/requeue."""
        self._action(f"/jobs/{int(job_id)}/tasks/{int(task_id)}/requeue", message=message)

    # -- sweep subtasks (path id = InstanceId) ----------------------------------------------

    def _subtask(self, job_id: int, task_id: int, subtask_id: int) -> str:
        return f"/jobs/{int(job_id)}/tasks/{int(task_id)}/subtasks/{int(subtask_id)}"

    def subtask_properties(
        self,
        job_id: int,
        task_id: int,
        subtask_id: int,
        *,
        properties: Sequence[str] | None = None,
    ) -> PropertyMap:
        """GET …/tasks/{taskId}/subtasks/{subtaskId}."""
        path = self._subtask(job_id, task_id, subtask_id)
        return self._properties(path, properties=tuple(properties or ()))

    def set_subtask(
        self, job_id: int, task_id: int, subtask_id: int, properties: Mapping[str, WireValue]
    ) -> None:
        """PUT …/tasks/{taskId}/subtasks/{subtaskId}."""
        path = self._subtask(job_id, task_id, subtask_id)
        self._send_properties("PUT", path, properties, TASK_PROPERTIES)

    def cancel_subtask(
        self, job_id: int, task_id: int, subtask_id: int, message: str = "", *, forced: bool = False
    ) -> None:
        """POST …/subtasks/{subtaskId}/cancel?forced=…"""
        path = self._subtask(job_id, task_id, subtask_id) + "/cancel"
        self._action(path, message=message, forced=forced)

    def finish_subtask(self, job_id: int, task_id: int, subtask_id: int, message: str = "") -> None:
        """POST …/subtasks/{subtaskId}/finish."""
        self._action(self._subtask(job_id, task_id, subtask_id) + "/finish", message=message)

    def requeue_subtask(self, job_id: int, task_id: int, subtask_id: int) -> None:
        """POST …/subtasks/{subtaskId}/requeue (the API takes no message here)."""
        self._action(self._subtask(job_id, task_id, subtask_id) + "/requeue")
