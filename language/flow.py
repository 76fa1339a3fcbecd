"""The control-flow graph of a definition: jumps, reachability, cycles and dominators.

Nodes are step positions, not ids, so a broken definition (repeated ids, unknown targets) still
has a graph. A step goes where its jumps say; a step without jumps goes to the following step,
and the last one ends the run. A branching step (`condition`) never falls through.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from language.steps import END

Precedence = Literal["always", "sometimes", "never"]


@dataclass(frozen=True)
class FlowNode:
    id: str | None
    jumps: tuple[tuple[str, str], ...] = ()
    """(field, target) pairs the step names itself, such as ("then", "notify")."""
    branches: bool = False


@dataclass(frozen=True)
class Jump:
    source: int
    field: str | None
    """"next", "then" or "else"; None for the implicit move to the following step."""
    name: str
    target: int | None
    """Position of the target; None for `end` and for ids that name no step."""


class Flow:
    """The graph of a definition's steps; every analysis starts at the first step."""

    def __init__(self, nodes: Sequence[FlowNode]) -> None:
        self.nodes = list(nodes)
        self.positions: dict[str, int] = {}
        for position, node in enumerate(self.nodes):
            if node.id is not None:
                self.positions.setdefault(node.id, position)
        self.jumps = [self._jumps_of(position) for position in range(len(self.nodes))]
        self.successors = [[jump.target for jump in jumps if jump.target is not None] for jumps in self.jumps]
        self.descendants = [_reach(successors, self.successors) for successors in self.successors]
        self.reachable = _reach([0], self.successors) if self.nodes else set()
        self._dominators = self._compute_dominators()

    def _jumps_of(self, position: int) -> list[Jump]:
        node = self.nodes[position]
        if node.jumps or node.branches:
            return [Jump(position, field, name, self._target(name)) for field, name in node.jumps]
        following = position + 1
        if following < len(self.nodes):
            return [Jump(position, None, self.nodes[following].id or "", following)]
        return [Jump(position, None, END, None)]

    def _target(self, name: str) -> int | None:
        return None if name == END else self.positions.get(name)

    def _compute_dominators(self) -> dict[int, set[int]]:
        """The classic iterative data-flow solution; definitions are small (at most 100 steps)."""
        order = sorted(self.reachable)
        predecessors: dict[int, list[int]] = {node: [] for node in order}
        for source in order:
            for node in dict.fromkeys(self.successors[source]):
                predecessors[node].append(source)  # a reachable step's successors are reachable
        dominators = {node: set(order) for node in order}
        if order:
            dominators[0] = {0}
        changed = True
        while changed:
            changed = False
            for node in order[1:]:
                found = {node} | set.intersection(*(dominators[p] for p in predecessors[node]))
                if found != dominators[node]:
                    dominators[node], changed = found, True
        return dominators

    def unknown_jumps(self) -> list[Jump]:
        """Jumps that name neither a step nor `end`."""
        return [jump for jumps in self.jumps for jump in jumps if jump.target is None and jump.name != END]

    def dominators(self, position: int) -> set[int]:
        """Steps that run before `position` on every path from the start (itself included); empty
        when the step is unreachable."""
        return self._dominators.get(position, set())

    def precedence(self, earlier: int, position: int) -> Precedence:
        """Whether step `earlier` has finished whenever step `position` starts."""
        if earlier == position or position not in self.reachable:
            return "never"
        if earlier in self.dominators(position):
            return "always"
        if earlier in self.reachable and position in self.descendants[earlier]:
            return "sometimes"
        return "never"

    def cycles(self) -> list[tuple[Jump, list[int]]]:
        """Each group of steps that can repeat forever, with the backward jump that closes it."""
        found: list[tuple[Jump, list[int]]] = []
        seen: set[int] = set()
        for position in range(len(self.nodes)):
            if position in seen or position not in self.descendants[position]:
                continue
            members = sorted(p for p in self.descendants[position] if position in self.descendants[p])
            seen.update(members)
            found.append((self._closing_jump(members), members))
        return found

    def _closing_jump(self, members: list[int]) -> Jump:
        """A jump inside the group to an earlier (or the same) step; one always exists, since
        implicit moves only go forward."""
        inside = set(members)
        backward = (
            jump
            for source in members
            for jump in self.jumps[source]
            if jump.target in inside and jump.target is not None and jump.target <= source
        )
        return next(backward)


def _reach(starts: Iterable[int], successors: Sequence[Sequence[int]]) -> set[int]:
    """Every position reachable from `starts`, the starts included."""
    found: set[int] = set()
    pending = list(starts)
    while pending:
        position = pending.pop()
        if position not in found:
            found.add(position)
            pending.extend(successors[position])
    return found
