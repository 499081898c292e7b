"""Sources: read files of every supported format as records, with the format sniffed from content.

Importing this package registers every built-in source (see ``_builtin``).
"""

from garrison.ingest import _builtin  # noqa: F401  (registers the sources)
from garrison.ingest.base import SOURCES, MemorySource, Source
from garrison.ingest.sniff import detect_format

__all__ = ["SOURCES", "MemorySource", "Source", "detect_format"]
