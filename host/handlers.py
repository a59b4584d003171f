"""Named counters and a Click-style handler registry.

Every figure of the host side is a counter with a dotted name
(``arp.requests_sent``); the control plane exposes them, together with the
router's own ``flatten(stats)`` figures, as read handlers looked up by name,
as Click's ``add_handlers`` does for an element's counters.
"""
from __future__ import annotations

import difflib
from typing import Any, Callable, Iterable, Iterator

__all__ = ["Counters", "HandlerRegistry", "HandlerError"]


class HandlerError(KeyError):
    """An unknown handler name, or a write to a read-only handler."""

    def __str__(self) -> str:                     # KeyError would quote the message
        return str(self.args[0])


class Counters:
    """A fixed set of named integer counters (declared up front, so a counter
    that never moved still reads 0), plus free-form ``<name>.<key>`` families
    such as per-EtherType counts."""

    def __init__(self, names: Iterable[str], families: Iterable[str] = ()):
        self._c: dict[str, int] = {n: 0 for n in names}
        self._families = tuple(families)

    def add(self, name: str, n: int = 1) -> None:
        if name not in self._c and not name.startswith(self._families or ("\0",)):
            raise KeyError(f"undeclared counter {name!r}")
        self._c[name] = self._c.get(name, 0) + n

    def max(self, name: str, value: int) -> None:
        """Keep a high-water mark."""
        if value > self._c[name]:
            self._c[name] = value

    def __getitem__(self, name: str) -> int:
        return self._c[name]

    def __contains__(self, name: object) -> bool:
        return name in self._c

    def __iter__(self) -> Iterator[str]:
        return iter(self._c)

    def as_dict(self) -> dict[str, int]:
        return dict(self._c)

    def reset(self) -> None:
        for k in self._c:
            self._c[k] = 0


class HandlerRegistry:
    """Read (and a few write) handlers by name."""

    def __init__(self) -> None:
        self._readers: dict[str, Callable[[], Any]] = {}
        self._writers: dict[str, Callable[[Any], None]] = {}
        self._groups: list[tuple[str, Callable[[], dict[str, Any]]]] = []

    def add_read(self, name: str, fn: Callable[[], Any]) -> None:
        self._readers[name] = fn

    def add_write(self, name: str, fn: Callable[[Any], None]) -> None:
        self._writers[name] = fn

    def add_group(self, prefix: str, fn: Callable[[], dict[str, Any]]) -> None:
        """Handlers whose names are only known when read (``prefix`` + key of ``fn()``)."""
        self._groups.append((prefix, fn))

    def names(self) -> list[str]:
        out = set(self._readers) | set(self._writers)
        for prefix, fn in self._groups:
            out.update(prefix + k for k in fn())
        return sorted(out)

    def read(self, name: str) -> Any:
        if name in self._readers:
            return self._readers[name]()
        for prefix, fn in sorted(self._groups, key=lambda g: -len(g[0])):    # most specific first
            if name.startswith(prefix):
                d = fn()
                if name[len(prefix):] in d:
                    return d[name[len(prefix):]]
        raise HandlerError(self._unknown(name, "read"))

    def read_all(self) -> dict[str, Any]:
        out = {k: fn() for k, fn in self._readers.items()}
        for prefix, fn in self._groups:
            out.update({prefix + k: v for k, v in fn().items()})
        return dict(sorted(out.items()))

    def write(self, name: str, value: Any = None) -> None:
        if name not in self._writers:
            raise HandlerError(self._unknown(name, "write"))
        self._writers[name](value)

    def _unknown(self, name: str, what: str) -> str:
        pool = list(self._writers) if what == "write" else self.names()
        close = difflib.get_close_matches(name, pool, n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; {len(pool)} {what} handlers, see names()"
        if what == "write":
            hint = f"; write handlers: {', '.join(sorted(self._writers)) or 'none'}"
        return f"no {what} handler {name!r}{hint}"
