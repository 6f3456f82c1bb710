"""Dependency order for jobs and tasks, with cycles reported as errors (a tiny pure module)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class CycleError(Exception):
    """The dependency graph has a cycle; `cycle` lists it, first node repeated at the end."""

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__(" -> ".join(cycle))
        self.cycle = tuple(cycle)


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes so that each comes after everything it depends on (input order kept otherwise)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for root in edges:
        if state.get(root) == 2:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        trail: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                if state.get(node) == 2:
                    continue
                state[node] = 1
                trail.append(node)
            deps = edges.get(node, ())
            if index < len(deps):
                stack.append((node, index + 1))
                dep = deps[index]
                if state.get(dep) == 1:
                    start = trail.index(dep)
                    raise CycleError([*trail[start:], dep])
                if state.get(dep) != 2:
                    stack.append((dep, 0))
            else:
                state[node] = 2
                trail.pop()
                order.append(node)
    return order
