"""Recognise a file's format from its content, never its name."""

from __future__ import annotations

from pathlib import Path

from garrison.ingest.base import SNIFF_BYTES, SOURCES, Source


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def detect_format(path: Path, head: bytes | None = None) -> type[Source] | None:
    """The source class that recognises ``path``, or None when no source does.

    Raises ``OSError`` when the file cannot be opened.
    """
    if head is None:
        head = read_head(path)
    candidates = sorted((cls for _, cls in SOURCES.items()), key=lambda c: (c.priority, c.format))
    for cls in candidates:
        try:
            if cls.sniff(head, path):
                return cls
        except Exception:  # noqa: S112  - a sniffer must never break format detection
            continue
    return None
