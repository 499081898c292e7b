"""A small named registry: sources, normalizers, detectors and actions plug in through it.

>>> reg: Registry[int] = Registry("numbers")
>>> @reg.register("one")
... def one() -> int: return 1
>>> reg.get("one")()
1

A registry may be given a ``loader`` that imports the built-in plugins: it runs once, the
first time the registry is read (not when something registers), so importing a package does
not import every plugin it ships (``garrison --help`` and the analyst commands stay fast).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from garrison.core.errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, loader: Callable[[], object] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._loader = loader

    def load_on_first_read(self, loader: Callable[[], object]) -> None:
        """Run ``loader`` (which imports the built-in plugins) the first time this is read."""
        self._loader = loader

    def _load(self) -> None:
        loader, self._loader = self._loader, None  # None first: a plugin may read the registry
        if loader is None:
            return
        try:
            loader()
        except BaseException:
            self._loader = loader  # a failed import is raised again on the next read
            raise

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self._items and self._items[name] is not item:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = item
            return item

        return add

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise UsageError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        self._load()
        return iter(sorted(self._items.items()))

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __len__(self) -> int:
        self._load()
        return len(self._items)
