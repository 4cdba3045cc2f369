"""One registry per kind (models, KD losses, export formats, readers, protocols).

A registry is a plain dict filled by a decorator, plus one factory that raises with the valid
choices and the closest match when a name is unknown (DESIGN §5.4).
"""

from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

from edgekd.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named table of objects of one kind."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj
        return add

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        choices = sorted(self._items)
        close = difflib.get_close_matches(name, choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint} (valid: {', '.join(choices)})"

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._items.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)
