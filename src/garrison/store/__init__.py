"""Storage without a server: a Parquet event lake read by DuckDB, SQLite (WAL) for state.

The names are loaded on first use: ``garrison.store.state`` (SQLite only) is imported by
quick commands (``garrison score``'s query log), which must not pay for pyarrow and DuckDB
through this package's ``__init__``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from garrison.store.lake import EventStore, MemoryEventStore, ParquetEventStore
    from garrison.store.state import StateDB

_WHERE = {
    "EventStore": "garrison.store.lake",
    "MemoryEventStore": "garrison.store.lake",
    "ParquetEventStore": "garrison.store.lake",
    "StateDB": "garrison.store.state",
}

__all__ = ["EventStore", "MemoryEventStore", "ParquetEventStore", "StateDB"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'garrison.store' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
