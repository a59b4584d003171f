"""Frame accounting: every frame a host or node created ends delivered, or
dropped at a named place for a named reason, or is still held somewhere.

Each place (node or link direction) keeps a ``Ledger``; its balance is

    created + received == sent + delivered + dropped + held

and across the network what the nodes sent is what the links received, and
what the links passed on is what the nodes received -- so the whole
network balances: frames created == delivered + dropped + held.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

__all__ = ["Ledger", "NetworkConservation"]


@dataclass
class Ledger:
    """Frame counts of one place. ``held``: frames it still holds (queues,
    arrivals not yet processed, packets inside a router)."""

    place: str
    created: int = 0
    received: int = 0
    sent: int = 0
    delivered: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    held: int = 0

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] += n

    def deliver(self, kind: str, n: int = 1) -> None:
        self.delivered[kind] += n

    @property
    def ok(self) -> bool:
        return (self.created + self.received
                == self.sent + sum(self.delivered.values()) + sum(self.dropped.values()) + self.held)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "received": self.received, "sent": self.sent,
                "delivered": dict(sorted(self.delivered.items())), "dropped": dict(sorted(self.dropped.items())),
                "held": self.held, "ok": self.ok}


@dataclass
class NetworkConservation:
    """The network's account, from every place's ledger."""

    places: list[Ledger]
    node_sent: int
    link_received: int
    link_sent: int
    node_received: int

    @classmethod
    def of(cls, nodes: Iterable[Ledger], links: Iterable[Ledger]) -> "NetworkConservation":
        nodes, links = list(nodes), list(links)
        return cls(nodes + links, sum(n.sent for n in nodes), sum(x.received for x in links),
                   sum(x.sent for x in links), sum(n.received for n in nodes))

    @property
    def created(self) -> int:
        return sum(p.created for p in self.places)

    @property
    def delivered(self) -> int:
        return sum(sum(p.delivered.values()) for p in self.places)

    @property
    def dropped(self) -> int:
        return sum(sum(p.dropped.values()) for p in self.places)

    @property
    def held(self) -> int:
        return sum(p.held for p in self.places)

    @property
    def ok(self) -> bool:
        return (all(p.ok for p in self.places) and self.node_sent == self.link_received
                and self.link_sent == self.node_received
                and self.created == self.delivered + self.dropped + self.held)

    def drops(self) -> dict[str, int]:
        """Drops as ``place: reason`` -> count."""
        return {f"{p.place}: {r}": n for p in self.places for r, n in sorted(p.dropped.items()) if n}

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "created": self.created, "delivered": self.delivered, "dropped": self.dropped,
                "held": self.held, "nodes_sent": self.node_sent, "links_received": self.link_received,
                "links_passed": self.link_sent, "nodes_received": self.node_received,
                "unbalanced": [p.place for p in self.places if not p.ok],
                "drops": self.drops(), "places": {p.place: p.as_dict() for p in self.places}}

    def __str__(self) -> str:
        return (f"created {self.created} = delivered {self.delivered} + dropped {self.dropped} + held "
                f"{self.held}" + ("" if self.ok else "  <-- VIOLATED"))
