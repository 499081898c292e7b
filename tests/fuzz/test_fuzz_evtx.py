"""Fuzz: EVTX files through the source and the normalizer.

Two suites, 10,000 cases by default (``GARRISON_FUZZ_CASES``; the corpus-free one runs 3,000
when the corpus is there, 10,000 when it is not), run with the parser
in-process (``isolate="never"``: the same chunk walk, link-cycle guard, accounting and error
handling, minus the worker round trip per file, which costs 1-5 ms on a busy machine),
plus 500 cases each with the default ``isolate="auto"`` (damaged chunks, i.e. nearly all
mutated ones, go through the worker process; ``GARRISON_FUZZ_ISOLATED``):

- byte mutations of small real EVTX files taken from the corpus at test time (skipped when
  it is absent): bit flips, overwritten runs, chunk-table and record-field u32 writes
  (self-links, backward links, huge sizes), copied regions, zeroed regions, truncation,
  file-header damage;
- chunk-header mutations of the same files (record ids and numbers, free-space and last
  record offsets, header size, flags, checksums recomputed or not, a few link-table slots):
  the parser reads only what a chunk header admits, so here every record of the original
  must come back read or inside a quarantined record range (conservation against the
  unmutated file);
- a corpus-free variant: files assembled from random bytes around the real structure (file
  header, chunk signatures, chunk header fields, link tables), so the chunk walk, the
  accounting and the parser's error paths are exercised without any corpus.

Every item must be a RawRecord or a Quarantined entry with a reason, and every record must
normalize or raise RecordError; nothing else may escape and nothing may hang (a chunk the
parser loops on costs at most ``chunk_timeout``).
"""

from __future__ import annotations

import os
import random
import re
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.ingest._evtx_layout import CHUNK_SIZE, FILE_MAGIC, HEADER_BLOCK
from garrison.ingest.evtx import EvtxSource, read_evtx
from garrison.normalize.base import Normalized
from garrison.normalize.windows import normalize_evtx
from tests.conftest import corpus_root

CASES = int(os.environ.get("GARRISON_FUZZ_CASES", "10000"))
ISOLATED_CASES = int(os.environ.get("GARRISON_FUZZ_ISOLATED", "500"))
SETTINGS = settings(
    max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
ISOLATED = settings(SETTINGS, max_examples=ISOLATED_CASES)
#: The corpus-free suite carries the 10,000 cases when there is no corpus to mutate; with
#: one, the mutations do and this suite adds 3,000 (keeps the fuzz run within its budget).
STRUCTURES = settings(
    SETTINGS, max_examples=CASES if not corpus_root().is_dir() else max(1, CASES * 3 // 10)
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)
U32_VALUES = (0, 1, 4, 128, 512, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF)


def check(path: Path, isolate: str) -> int:
    """Read and normalize one file; returns how many items it gave."""
    source = EvtxSource()
    source.isolate = isolate
    source.chunk_timeout = 2.0
    count = 0
    for item in source.read(path):
        count += 1
        assert isinstance(item, RawRecord | Quarantined)
        if isinstance(item, Quarantined):
            assert item.reason and item.source_format == "evtx"
            continue
        assert isinstance(item.position, int)
        try:
            norm = normalize_evtx(item)
        except RecordError as exc:
            assert str(exc)
        else:
            assert isinstance(norm, Normalized) and isinstance(norm.time, int)
            assert isinstance(norm.fields, dict) and norm.ocsf["class_uid"] == norm.class_uid
    return count


# ----------------------------------------------------------------------------- real files


@pytest.fixture(scope="module")
def samples(corpus: Path) -> list[bytes]:
    """Small one- or two-chunk files from the corpus (read at test time, never stored)."""
    files = sorted((corpus / "evtx-attack-samples").rglob("*.evtx"))
    small = [p.read_bytes() for p in files if p.stat().st_size <= HEADER_BLOCK + 2 * CHUNK_SIZE]
    if not small:
        pytest.skip("no small EVTX file in the corpus")
    return small[:: max(1, len(small) // 24)]


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    chunks = max(1, (len(buf) - HEADER_BLOCK) // CHUNK_SIZE)
    for _ in range(rng.randint(1, 4)):
        if len(buf) < HEADER_BLOCK + 600:
            break
        try:
            apply(buf, rng, HEADER_BLOCK + rng.randrange(chunks) * CHUNK_SIZE)
        except struct.error:  # a field past a truncation: nothing to write
            continue
    return bytes(buf)


def apply(buf: bytearray, rng: random.Random, base: int) -> None:
    """One damage of one kind, aimed at the chunk starting at ``base``."""
    op = rng.randrange(9)
    if op == 0:  # bit flips anywhere
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(buf))
            buf[pos] ^= 1 << rng.randrange(8)
    elif op == 1:  # a run of random bytes
        pos, size = rng.randrange(len(buf)), rng.randint(1, 256)
        buf[pos : pos + size] = rng.randbytes(size)[: len(buf) - pos]
    elif op == 2:  # string/template table links: self, backwards, random, huge
        slot = base + 128 + 4 * rng.randrange(96)
        value = rng.choice(
            [
                slot - base,
                rng.randrange(CHUNK_SIZE),
                rng.choice(U32_VALUES),
                max(0, slot - base - rng.randrange(1, 64)),
            ]
        )
        struct.pack_into("<I", buf, slot, value)
    elif op == 3:  # a u32 inside the records (sizes, offsets, counts)
        pos = base + 512 + 4 * rng.randrange((CHUNK_SIZE - 516) // 4)
        if pos + 4 <= len(buf):
            struct.pack_into("<I", buf, pos, rng.choice((*U32_VALUES, pos - base)))
    elif op == 4:  # copy a region over another (template / substitution confusion)
        src, dst, size = (rng.randrange(len(buf)), rng.randrange(len(buf)), rng.randint(4, 512))
        piece = bytes(buf[src : src + size])
        buf[dst : dst + len(piece)] = piece[: len(buf) - dst]
    elif op == 5:  # zero a region
        pos, size = rng.randrange(len(buf)), rng.randint(1, 4096)
        buf[pos : pos + size] = bytes(min(size, len(buf) - pos))
    elif op == 6:  # chunk header fields (record ids, offsets, checksums)
        struct.pack_into(
            "<Q",
            buf,
            base + 8 * rng.randint(1, 4),
            rng.choice([0, 1, 2**63, 2**64 - 1, rng.randrange(10**6)]),
        )
    elif op == 7:  # file header fields (chunk count, flags, next record id)
        field = rng.choice([(42, "<H"), (120, "<I"), (24, "<Q"), (32, "<I")])
        struct.pack_into(
            field[1], buf, field[0], rng.randrange(2 ** (8 * struct.calcsize(field[1])))
        )
    else:  # truncation
        del buf[rng.randrange(len(buf)) :]


def mutated(samples: list[bytes], tmp_path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    path = tmp_path / "fuzz.evtx"
    path.write_bytes(mutate(rng.choice(samples), rng))
    return path


@pytest.mark.corpus
@pytest.mark.timeout(300)
@SETTINGS
@given(seed=SEEDS)
def test_fuzz_mutated_real_evtx(samples: list[bytes], tmp_path: Path, seed: int) -> None:
    check(mutated(samples, tmp_path, seed), isolate="never")


@pytest.mark.corpus
@ISOLATED
@given(seed=SEEDS)
def test_fuzz_mutated_real_evtx_isolated(samples: list[bytes], tmp_path: Path, seed: int) -> None:
    check(mutated(samples, tmp_path, seed), isolate="auto")


# ----------------------------------------------------------------------------- chunk headers

HEADER_CASES = int(os.environ.get("GARRISON_FUZZ_HEADERS", str(max(1, CASES // 10))))
HEADERS = settings(SETTINGS, max_examples=HEADER_CASES)
#: Chunk header fields: (offset, struct format); the ids at 8-32 and the offsets at 44-48
#: decide what ``evtx`` reads.
HEADER_FIELDS = (
    (8, "<Q"),  # first record number
    (16, "<Q"),  # last record number
    (24, "<Q"),  # first record id
    (32, "<Q"),  # last record id
    (40, "<I"),  # header size
    (44, "<I"),  # last record offset
    (48, "<I"),  # free-space offset
    (52, "<I"),  # record data checksum
    (120, "<I"),  # flags
)
_SPAN = re.compile(r"(?:ids?|records?) (\d+)(?:-(\d+))?")


def header_value(rng: random.Random, fmt: str, old: int) -> int:
    top = 2 ** (8 * struct.calcsize(fmt)) - 1
    return rng.choice(
        [0, 1, 512, top, old - 1 if old else 0, min(old + 1, top), rng.randrange(top + 1)]
    )


def mutate_chunk_headers(data: bytes, rng: random.Random) -> bytes:
    """Rewrite fields of one or more chunk headers, leaving every record byte as it was."""
    buf = bytearray(data)
    chunks = max(1, (len(buf) - HEADER_BLOCK) // CHUNK_SIZE)
    for index in rng.sample(range(chunks), rng.randint(1, chunks)):
        base = HEADER_BLOCK + index * CHUNK_SIZE
        if rng.random() < 0.3:  # the 24-byte edit from the report: ids and free space
            struct.pack_into("<QQ", buf, base + 24, 0, 0)
            struct.pack_into("<I", buf, base + 48, 0)
        for offset, fmt in rng.sample(HEADER_FIELDS, rng.randint(1, 4)):
            (old,) = struct.unpack_from(fmt, buf, base + offset)
            struct.pack_into(fmt, buf, base + offset, header_value(rng, fmt, old))
        if rng.random() < 0.1:  # a string/template table slot
            struct.pack_into("<I", buf, base + 128 + 4 * rng.randrange(96), rng.randrange(512))
        if rng.random() < 0.5:  # recomputed checksums prove nothing
            end = struct.unpack_from("<I", buf, base + 48)[0]
            if 512 <= end <= CHUNK_SIZE:
                crc = zlib.crc32(bytes(buf[base + 512 : base + end]))
                struct.pack_into("<I", buf, base + 52, crc)
            head = zlib.crc32(
                bytes(buf[base + 128 : base + 512]), zlib.crc32(bytes(buf[base : base + 120]))
            )
            struct.pack_into("<I", buf, base + 124, head)
    return bytes(buf)


def record_numbers(path: Path, isolate: str) -> tuple[set[int], set[int]]:
    """(record numbers read, record numbers inside a quarantined span) of one file."""
    read: set[int] = set()
    lost: set[int] = set()
    source = EvtxSource()
    source.isolate = isolate
    source.chunk_timeout = 2.0
    for item in source.read(path):
        if isinstance(item, RawRecord):
            read.add(int(item.meta.get("record_number", item.position)))
            continue
        assert isinstance(item, Quarantined) and item.reason
        match = _SPAN.search(item.reason.split(":", 1)[-1]) or _SPAN.search(item.reason)
        if match:
            first = int(match.group(1))
            lost.update(range(first, int(match.group(2) or first) + 1))
    return read, lost


@pytest.fixture(scope="module")
def header_samples(
    samples: list[bytes], tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[bytes, set[int]]]:
    """Each sample with the record numbers the unmutated file yields."""
    folder = tmp_path_factory.mktemp("originals")
    out = []
    for index, data in enumerate(samples):
        path = folder / f"{index}.evtx"
        path.write_bytes(data)
        numbers = {
            int(item.meta.get("record_number", item.position))
            for item in read_evtx(path, isolate="never")
            if isinstance(item, RawRecord)
        }
        out.append((data, numbers))
    return out


def check_conservation(
    header_samples: list[tuple[bytes, set[int]]], tmp_path: Path, seed: int, isolate: str
) -> None:
    rng = random.Random(seed)
    data, original = rng.choice(header_samples)
    path = tmp_path / "headers.evtx"
    path.write_bytes(mutate_chunk_headers(data, rng))
    read, lost = record_numbers(path, isolate)
    missing = original - read - lost
    assert not missing, f"records neither read nor quarantined: {sorted(missing)[:20]}"


@pytest.mark.corpus
@pytest.mark.timeout(300)
@HEADERS
@given(seed=SEEDS)
def test_fuzz_chunk_headers_conserve_records(
    header_samples: list[tuple[bytes, set[int]]], tmp_path: Path, seed: int
) -> None:
    check_conservation(header_samples, tmp_path, seed, isolate="never")


@pytest.mark.corpus
@settings(HEADERS, max_examples=max(1, min(HEADER_CASES, ISOLATED_CASES) // 2))
@given(seed=SEEDS)
def test_fuzz_chunk_headers_conserve_records_isolated(
    header_samples: list[tuple[bytes, set[int]]], tmp_path: Path, seed: int
) -> None:
    check_conservation(header_samples, tmp_path, seed, isolate="always")


# ----------------------------------------------------------------------------- corpus-free


def random_chunk(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(CHUNK_SIZE)
    if kind == 1:
        return rng.randbytes(rng.randint(1, 2048)) + bytes(CHUNK_SIZE)
    chunk = bytearray(CHUNK_SIZE)
    first = rng.choice([0, 1, rng.randrange(1, 10**6), 2**64 - 1])
    last = first + rng.choice([0, 1, 5, 100, 5000, -1]) if first < 2**63 else first
    struct.pack_into(
        "<8sQQQQIIII",
        chunk,
        0,
        b"ElfChnk\x00",
        first,
        max(last, 0),
        first,
        max(last, 0),
        128,
        rng.randrange(CHUNK_SIZE),
        rng.choice([512, rng.randrange(CHUNK_SIZE), 0xFFFFFFFF]),
        rng.getrandbits(32),
    )
    for _ in range(rng.randint(0, 12)):  # link tables
        slot = 128 + 4 * rng.randrange(96)
        struct.pack_into("<I", chunk, slot, rng.choice([slot, rng.randrange(CHUNK_SIZE), 0]))
    body = rng.randbytes(rng.randint(0, 4096))
    if kind == 2 and body:  # a record-like start: signature, size, id, time
        body = (
            struct.pack(
                "<IIQQ", 0x2A2A, rng.randrange(4096), rng.randrange(100), rng.getrandbits(64)
            )
            + body
        )
    chunk[512 : 512 + len(body)] = body
    for _ in range(rng.randint(0, 6)):  # links inside the body
        pos = rng.randrange(512, CHUNK_SIZE - 4)
        struct.pack_into("<I", chunk, pos, rng.choice([pos, rng.randrange(CHUNK_SIZE)]))
    if rng.random() < 0.5:  # valid checksums: they prove nothing
        struct.pack_into(
            "<I", chunk, 124, zlib.crc32(bytes(chunk[128:512]), zlib.crc32(bytes(chunk[:120])))
        )
    return bytes(chunk)


def random_file(rng: random.Random) -> bytes:
    count = rng.randint(0, 3)
    head = bytearray(HEADER_BLOCK)
    struct.pack_into(
        "<8sQQQIHHHH",
        head,
        0,
        FILE_MAGIC,
        0,
        max(count - 1, 0),
        rng.randrange(10**6),
        128,
        1,
        rng.choice([3, 2, 0xFFFF]),
        4096,
        rng.choice([count, rng.randrange(65536)]),
    )
    struct.pack_into("<I", head, 120, rng.randrange(4))
    if rng.random() < 0.7:
        struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120])))
    data = bytes(head) + b"".join(random_chunk(rng) for _ in range(count))
    if rng.random() < 0.3:
        data = data[: rng.randrange(len(data) + 1)]
    return data


def structure(tmp_path: Path, seed: int) -> Path:
    path = tmp_path / "fuzz.evtx"
    path.write_bytes(random_file(random.Random(seed)))
    return path


@pytest.mark.timeout(300)
@STRUCTURES
@given(seed=SEEDS)
def test_fuzz_evtx_reader_on_random_structures(tmp_path: Path, seed: int) -> None:
    check(structure(tmp_path, seed), isolate="never")


@ISOLATED
@given(seed=SEEDS)
def test_fuzz_evtx_reader_on_random_structures_isolated(tmp_path: Path, seed: int) -> None:
    check(structure(tmp_path, seed), isolate="auto")
