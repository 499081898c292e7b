"""Storage without a server: a Parquet event lake read by DuckDB, SQLite (WAL) for state."""

from garrison.store.lake import EventStore, MemoryEventStore, ParquetEventStore
from garrison.store.state import StateDB

__all__ = ["EventStore", "MemoryEventStore", "ParquetEventStore", "StateDB"]
