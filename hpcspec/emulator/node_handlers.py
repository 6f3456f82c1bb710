"""The node and node group operations, in the form of the profile's HPC Pack version.

2016 Update 3 (`openapi/hpcpack-rest-2016u3.json`): `GET /nodes` (RestObjects, paged, sorted,
`NodeState` filter), `/nodes/{name}` (RestProperties), `/nodes/groups` (name and description)
and `/nodes/groups/{name}` (member names). HPC Pack 2019 and the 2020 revision of 2016 U3
(`openapi/hpcpack-rest-2019.json`): `GET /cluster/nodes` (typed `Node` objects; `names`,
`group`, `state` filters), `/cluster/nodes/{name}`, `/cluster/nodeGroups` and
`/cluster/nodeGroups/{name}` (typed `NodeGroup` objects).
"""

from __future__ import annotations

from hpcspec.emulator import errors, listing, messages
from hpcspec.emulator.allocation import job_allocation
from hpcspec.emulator.bodies import Body, Typed
from hpcspec.emulator.cluster import COMPUTE_NODES, HEAD_NODES, Node
from hpcspec.emulator.handlers import Context, page
from hpcspec.emulator.state_machine import HOLDING_CORES


def _usage(c: Context) -> dict[str, int]:
    """Cores in use per node (by the jobs that hold cores)."""
    usage: dict[str, int] = {}
    for job in c.scheduler.store.jobs_in(HOLDING_CORES):
        for node, cores in job_allocation(job).items():
            usage[node] = usage.get(node, 0) + int(cores)
    return usage


def _node(c: Context, name: str) -> Node:
    node = c.scheduler.cluster.node(name)
    if node is None:
        raise errors.not_found(messages.INVALID_NODE_ID)
    return node


def _group(c: Context, name: str) -> str:
    group = c.scheduler.cluster.group(name)
    if group is None:
        raise errors.not_found(messages.UNKNOWN_NODE_GROUP, name)
    return group


# -- 2016 Update 3: /nodes ------------------------------------------------------------------
def list_nodes(c: Context) -> Body:
    cluster, usage = c.scheduler.cluster, _usage(c)
    query = listing.make_query(c.args, listing.NODE_FILTERS, "sortnodesby", c.scheduler.profile)
    views = [cluster.node_properties(n, usage.get(n.name, 0)) for n in cluster.nodes()]
    for _, value in query.filters:
        views = [v for v in views if v["State"].lower() == value.lower()]
    known = {k: ("Int32" if k in ("Id", "NumCores") else "String") for k in views[0]}
    names = listing.pick_properties(c.args.get("properties"), known, None)
    views = listing.sort_rows(views, query.sort, known, lambda r: int(r["Id"]), query.ascending)
    return page(c, [listing.select(v, names) for v in views], query)


def get_node(c: Context, name: str) -> Body:
    node = _node(c, name)
    return c.scheduler.cluster.node_properties(node, _usage(c).get(node.name, 0))


def list_node_groups(c: Context) -> Body:
    cluster = c.scheduler.cluster
    return [cluster.group_properties(g) for g in cluster.group_names()]


def node_group_members(c: Context, name: str) -> Body:
    return [n.name for n in c.scheduler.cluster.members(_group(c, name))]


# -- 2019: /cluster/nodes, /cluster/nodeGroups -----------------------------------------------
def _typed_node(c: Context, node: Node) -> dict[str, object]:
    head = HEAD_NODES in node.groups
    roles = ["HeadNode", "ComputeNode"] if head else ["ComputeNode"]
    return {
        "Name": node.name,
        "State": "Online",
        "Health": "OK",
        "Template": "HeadNode Template" if head else "Default ComputeNode Template",
        "Location": None,
        "MemorySize": 16384,
        "Cores": node.cores,
        "Sockets": 1,
        "HpcPackVersion": c.scheduler.profile.version,
        "OnAzure": False,
        "Groups": list(node.groups),
        "Roles": roles,
        "InstalledServiceRoles": roles,
        "ActiveServiceRoles": roles,
    }


def cluster_nodes(c: Context) -> Body:
    nodes = c.scheduler.cluster.nodes()
    names = {n.strip().lower() for n in c.args.get("names", "").split(",") if n.strip()}
    if names:
        nodes = [n for n in nodes if n.name.lower() in names]
    if c.args.get("group"):
        group = _group(c, c.args["group"])
        nodes = [n for n in nodes if group in n.groups]
    state = c.args.get("state")
    if state and state.lower() != "online":  # every emulated node is Online
        nodes = []
    return Typed([_typed_node(c, n) for n in nodes], "Node")


def cluster_node(c: Context, name: str) -> Body:
    return Typed(_typed_node(c, _node(c, name)), "Node")


def _typed_group(c: Context, name: str) -> dict[str, object]:
    properties = c.scheduler.cluster.group_properties(name)
    managed = name in (HEAD_NODES, COMPUTE_NODES)
    return {"Name": name, "Description": properties["Description"], "Managed": managed}


def cluster_node_groups(c: Context) -> Body:
    groups = c.scheduler.cluster.group_names()
    return Typed([_typed_group(c, g) for g in groups], "NodeGroup")


def cluster_node_group(c: Context, name: str) -> Body:
    return Typed(_typed_group(c, _group(c, name)), "NodeGroup")
