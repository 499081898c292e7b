"""Zip-bomb guards for archive sources: limits that count what a zip costs to read.

Why these and not the sizes alone: what costs is decompressing and splitting, not the file
on disk. A 261 KB zip of newlines inflates to ~270 MB and ~270 M lines; a 1 KB zip can
hold 300,000 tiny JSON objects; 200 central-directory entries can all point at one
member's data, so one member is inflated 200 times. The guards therefore count:

- uncompressed bytes, per member (``max_member_bytes``) and per archive
  (``max_total_bytes``);
- lines, blank ones included (``max_lines``, per archive): splitting costs per line;
- records (objects and quarantined lines) per member (``max_records``);
- the compression ratio (``max_ratio``), once an archive has expanded past
  ``ratio_floor`` bytes: from the central directory before a member is opened (``zipfile``
  never produces more than the declared size from more than the declared compressed
  bytes, so the declared ratio bounds the real one) and, for a member streamed from its
  local header (damaged directory), from the bytes actually consumed;
- overlapping entries: central-directory entries whose data ranges overlap another
  entry's are not read (a real zip never shares data between members).

Each breach is one quarantine entry naming the member, the limit and the setting; the
records read before it are kept.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

#: Fixed part of a zip local file header.
LOCAL_HEADER_SIZE = 30


@dataclass(slots=True, frozen=True)
class ArchiveLimits:
    """The ``[ingest.mordor]`` guard settings one archive is read under."""

    max_member_bytes: int
    max_total_bytes: int
    max_line_bytes: int
    max_lines: int
    max_records: int
    max_ratio: float
    ratio_floor: int


@dataclass(slots=True)
class Budget:
    """What one archive has cost so far (all members)."""

    #: Uncompressed bytes read.
    expanded: int = 0
    #: Declared uncompressed and compressed sizes of the members opened (ratio check).
    declared: int = 0
    packed: int = 0
    #: Set when an archive-wide limit is reached: no further member is read.
    exhausted: str = ""


def too_compressed(expanded: int, packed: int, floor: int, max_ratio: float) -> str:
    """Why ``expanded`` bytes from ``packed`` compressed ones is a bomb, or ""."""
    if expanded <= floor or expanded <= max_ratio * max(packed, 1):
        return ""
    ratio = expanded / max(packed, 1)
    return (
        f"compression ratio {ratio:,.0f}:1 exceeds max_ratio {max_ratio:g} "
        f"({expanded:,} bytes from {packed:,}) (zip-bomb guard)"
    )


def declared_ratio_problem(info: zipfile.ZipInfo, budget: Budget, limits: ArchiveLimits) -> str:
    """Why a member must not be opened, judged from its central-directory sizes, or "".

    The floor applies to the whole archive, so many small over-compressed members add up;
    the ratio is the member's own, so one honest member is not refused for another.
    """
    if budget.declared + info.file_size <= limits.ratio_floor:
        return ""
    if info.file_size <= limits.max_ratio * max(info.compress_size, 1):
        return ""
    return too_compressed(info.file_size, info.compress_size, 0, limits.max_ratio)


def overlapping(members: list[zipfile.ZipInfo]) -> dict[int, str]:
    """Reasons for members whose data overlaps an earlier-kept member's, by list index.

    A member's data spans from its local header to the end of its compressed bytes; the
    central directory's name length stands in for the local one (the extra field may
    differ, so it is left out: spans are lower bounds and an honest zip never trips).
    """
    order = sorted(range(len(members)), key=lambda i: (members[i].header_offset, i))
    refused: dict[int, str] = {}
    end, owner = -1, -1
    for index in order:
        info = members[index]
        start = info.header_offset
        if start < end:
            holder = members[owner]
            refused[index] = (
                f"member {info.filename!r} overlaps member {holder.filename!r} (its local "
                f"header at byte {start} lies inside that member's data, which ends at byte "
                f"{end}): not read (zip-bomb guard)"
            )
            continue
        span = LOCAL_HEADER_SIZE + _name_length(info)
        end, owner = start + span + info.compress_size, index
    return refused


def _name_length(info: zipfile.ZipInfo) -> int:
    """The stored length of the member's name (UTF-8 when flagged, else code page 437)."""
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    try:
        return len(info.orig_filename.encode(encoding))
    except UnicodeEncodeError:
        return 0  # cannot tell: the shortest span, so no false overlap
