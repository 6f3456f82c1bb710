"""Which nodes and cores a job gets when it starts, and which of them each task uses.

A job takes cores within its Min/Max (or, with AutoCalculate, what its tasks ask for) in its
unit (Core, or whole nodes for Node/Socket units), from its candidate nodes: its NodeGroups
combined by NodeGroupOp (`msdocs/jobnodegroupop.md`: Intersect, Union, Uniform = one group),
narrowed to RequestedNodes, never on a node an exclusive job holds (`IsExclusive`). A task takes
MinCores (possibly across nodes) or MinNodes whole nodes within its job's allocation, on its
RequiredNodes and RequestedNodeGroup. Ground truth §3.
"""

from __future__ import annotations

import json

from hpcspec.emulator.cluster import ClusterSpec, Node
from hpcspec.emulator.properties import parse_bool
from hpcspec.emulator.rows import JobRow, TaskRow
from hpcspec.emulator.sweeps import pending_instances

Allocation = dict[str, int]  # node name → cores


def job_allocation(job: JobRow) -> Allocation:
    """The cores a started job holds on each node."""
    held: Allocation = json.loads(job.props.get("_alloc") or "{}")
    return held


def task_placement(task: TaskRow) -> Allocation:
    """The cores a running task holds on each node."""
    placed: Allocation = json.loads(task.props.get("_placement") or "{}")
    return placed


def count_usage(job: JobRow, usage: dict[str, int], exclusive: set[str]) -> None:
    """Add a job's held cores to `usage`; its nodes to `exclusive` if it is exclusive."""
    solo = parse_bool(job.props.get("IsExclusive", "False"))
    for node, cores in job_allocation(job).items():
        usage[node] = usage.get(node, 0) + cores
        if solo:
            exclusive.add(node)


def allocate(
    cluster: ClusterSpec,
    job: JobRow,
    tasks: list[TaskRow],
    usage: dict[str, int],
    exclusive: set[str],
    lazy_sweeps: bool = False,
) -> Allocation | None:
    """Cores for a queued job (and its `tasks`) on free nodes, or None when it must wait."""
    runs = [t for t in tasks if t.is_leaf]
    lazy_masters = (t for t in tasks if t.is_master and lazy_sweeps)
    for master in lazy_masters:  # a lazy sweep's instances still to come count too
        runs += [master] * min(pending_instances(master), high_enough(cluster))
    low, high = _bounds(job, runs)
    whole = job.props.get("UnitType", "Core") != "Core"
    solo = parse_bool(job.props.get("IsExclusive", "False"))
    wanted = _task_nodes(cluster, tasks)  # nodes its tasks ask for come first
    for nodes in _candidates(cluster, job):
        alloc: Allocation = {}
        units = 0
        for node in sorted(nodes, key=lambda n: n.name.lower() not in wanted):
            needed = node.name.lower() in wanted
            if units >= high and not needed:
                break
            used = usage.get(node.name, 0)
            if node.name in exclusive or ((whole or solo) and used):
                continue
            free = node.cores - used
            if free <= 0:
                continue
            take = free if (whole or solo) else max(min(free, high - units), 1)
            alloc[node.name] = take
            units += 1 if whole else take
        if units >= low:
            return alloc
    return None


def high_enough(cluster: ClusterSpec) -> int:
    """More units than the cluster has: counting further instances changes no allocation."""
    return sum(n.cores for n in cluster.nodes()) + 1


def _candidates(cluster: ClusterSpec, job: JobRow) -> list[list[Node]]:
    """Candidate node lists: one list, or one per group for the Uniform operator."""
    groups = [g for g in job.props.get("NodeGroups", "").split(",") if g]
    requested = {n.lower() for n in job.props.get("RequestedNodes", "").split(",") if n}
    if not groups:
        lists = [cluster.compute()]
    else:
        members = [cluster.members(cluster.group(g) or g) for g in groups]
        operator = job.props.get("NodeGroupOp", "Intersect")
        if operator == "Uniform":
            lists = members
        elif operator == "Union":
            names = {n.name for m in members for n in m}
            lists = [[n for n in cluster.nodes() if n.name in names]]
        else:
            names = set.intersection(*({n.name for n in m} for m in members))
            lists = [[n for n in cluster.nodes() if n.name in names]]
    if requested:
        lists = [[n for n in nodes if n.name.lower() in requested] for nodes in lists]
    return lists


def _group_members(cluster: ClusterSpec, group: str) -> set[str]:
    return {n.name.lower() for n in cluster.members(cluster.group(group) or group)}


def _task_nodes(cluster: ClusterSpec, tasks: list[TaskRow]) -> set[str]:
    """Lower-case names of the nodes the job's tasks require or request (by group)."""
    out: set[str] = set()
    for task in tasks:
        out |= {n.strip().lower() for n in task.props.get("RequiredNodes", "").split(",")}
        group = task.props.get("RequestedNodeGroup", "").strip()
        if group:
            out |= _group_members(cluster, group)
    out.discard("")
    return out


def _bounds(job: JobRow, leaves: list[TaskRow]) -> tuple[int, int]:
    unit = {"Core": "Cores", "Socket": "Sockets", "Node": "Nodes"}.get(
        job.props.get("UnitType", "Core"), "Cores"
    )
    auto_min = parse_bool(job.props.get("AutoCalculateMin", "True"))
    auto_max = parse_bool(job.props.get("AutoCalculateMax", "True"))
    task_min = [int(t.props.get(f"Min{unit}", "1")) for t in leaves] or [1]
    low = max(task_min) if auto_min else int(job.props.get(f"Min{unit}", "1"))
    if auto_max:
        high = max(sum(int(t.props.get(f"Max{unit}", "1")) for t in leaves), low)
    else:
        high = int(job.props.get(f"Max{unit}", "1"))
    return max(low, 1), max(high, low, 1)


def allowed_nodes(cluster: ClusterSpec, task: TaskRow, alloc: Allocation) -> Allocation:
    """The job's nodes this task may use: its RequiredNodes and RequestedNodeGroup."""
    required = {n.strip().lower() for n in task.props.get("RequiredNodes", "").split(",")}
    required.discard("")
    group = task.props.get("RequestedNodeGroup", "").strip()
    members = _group_members(cluster, group) if group else None
    return {
        node: cores
        for node, cores in alloc.items()
        if (not required or node.lower() in required)
        and (members is None or node.lower() in members)
    }


def place_task(
    task: TaskRow, alloc: Allocation, used: dict[str, int], whole: bool
) -> Allocation | None:
    """Cores for a task within its job's allocation: MinCores across nodes, or whole nodes."""
    if whole:  # Node or Socket units: whole nodes (one socket per emulated node)
        unit = "MinNodes" if "MinNodes" in task.props or "MinSockets" not in task.props else ""
        wanted = max(int(task.props.get(unit or "MinSockets", "1") or 1), 1)
        idle = [n for n in alloc if used[n] == 0][:wanted]
        return {n: alloc[n] for n in idle} if len(idle) == wanted else None
    need = max(int(task.props.get("MinCores", "1") or 1), 1)
    placement: Allocation = {}
    for node in alloc:
        free = alloc[node] - used[node]
        if free > 0 and need > 0:
            take = min(free, need)
            placement[node] = take
            need -= take
    return placement if need == 0 else None
