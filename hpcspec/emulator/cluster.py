"""The emulated cluster's shape: a head node, N compute nodes × C cores, node groups, templates.

Node property names come from `reference/hpcpack/derived/property-ids.json` (NodePropertyIds);
the built-in groups and their descriptions from the `GET /nodes/groups` example of
`reference/hpcpack-rest-api-2016.md`; `Default` is always a job template (BVT, ground truth §1.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hpcspec.emulator.properties import format_bool, format_time

HEAD_NODES = "HeadNodes"
COMPUTE_NODES = "ComputeNodes"
_DESCRIPTIONS = {
    HEAD_NODES: "The head nodes in the cluster",
    COMPUTE_NODES: "The compute nodes in the cluster",
}


@dataclass(frozen=True)
class Node:
    id: int
    name: str
    cores: int
    groups: tuple[str, ...]


@dataclass(frozen=True)
class ClusterSpec:
    """What the emulator pretends to be; fixed for the life of a server."""

    head_node: str = "HEADNODE"
    compute_nodes: int = 2
    cores_per_node: int = 4
    custom_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (group, node names)
    templates: tuple[str, ...] = ("Default",)
    env: tuple[tuple[str, str], ...] = ()  # cluster-wide environment (lowest precedence)
    started: float = field(default=0.0)

    def nodes(self) -> list[Node]:
        extra: dict[str, list[str]] = {}
        for group, members in self.custom_groups:
            for member in members:
                extra.setdefault(member.upper(), []).append(group)
        out = [Node(1, self.head_node, self.cores_per_node, (HEAD_NODES,))]
        for i in range(1, self.compute_nodes + 1):
            name = f"CN{i:03d}"
            groups = (COMPUTE_NODES, *extra.get(name, []))
            out.append(Node(i + 1, name, self.cores_per_node, groups))
        return out

    def compute(self) -> list[Node]:
        return [n for n in self.nodes() if COMPUTE_NODES in n.groups]

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes() if n.name.lower() == name.lower()), None)

    def group_names(self) -> list[str]:
        return [HEAD_NODES, COMPUTE_NODES, *(g for g, _ in self.custom_groups)]

    def group(self, name: str) -> str | None:
        """The exact group name for `name` in any case."""
        return next((g for g in self.group_names() if g.lower() == name.lower()), None)

    def members(self, group: str) -> list[Node]:
        return [n for n in self.nodes() if group in n.groups]

    def template(self, name: str) -> str | None:
        return next((t for t in self.templates if t.lower() == name.lower()), None)

    def group_properties(self, name: str) -> dict[str, str]:
        return {"Name": name, "Description": _DESCRIPTIONS.get(name, "")}

    def node_properties(self, node: Node, running: int) -> dict[str, str]:
        """A node's REST properties (NodePropertyIds names); `running` = cores in use."""
        online = format_time(self.started)
        return {
            "Id": str(node.id),
            "Name": node.name,
            "State": "Online",
            "PreviousState": "Offline",
            "Reachable": format_bool(True),
            "Availability": "AlwaysOn",
            "Location": "OnPremise",
            "OnlineTime": online,
            "LastPingTime": online,
            "NumCores": str(node.cores),
            "NumSockets": "1",
            "NumGpus": "0",
            "MemorySize": "16384",
            "CpuSpeed": "2400",
            "JobType": "Batch",
            "NodeGroups": ",".join(node.groups),
            "IdleResourceCount": str(node.cores - running),
            "TaskRunningResourceCount": str(running),
            "OfflineResourceCount": "0",
            "IsForcedOffline": format_bool(False),
            "MoveToOffline": format_bool(False),
            "DnsSuffix": "",
        }


def parse_groups(specs: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`NAME=CN001,CN002` options → custom groups."""
    out = []
    for spec in specs:
        name, _, members = spec.partition("=")
        out.append((name.strip(), tuple(m.strip().upper() for m in members.split(",") if m)))
    return tuple(out)
