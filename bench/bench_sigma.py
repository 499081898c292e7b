"""Sigma engine benchmark: Garrison vs the Zircolite method, on the same rules and events.

    python bench/bench_sigma.py            # full: 10-copy comparison, 1,000,000-event stream
    python bench/bench_sigma.py --quick    # minutes less: 1 copy, 200,000-event stream

Events: the 277 EVTX attack samples (../shared/corpus/evtx-attack-samples) through the real
ingest path (EVTX source + Windows normalizer). Rules: SigmaHQ's Windows rules (product
windows, or the antivirus category) from rules, rules-emerging-threats, rules-threat-hunting.

The baseline does what Zircolite does: pySigma's SQLite backend (``pip install -e '.[bench]'``;
``--no-baseline`` runs without it) turns every rule into SQL,
events are flattened into one in-memory SQLite table (TEXT COLLATE NOCASE columns, a REGEXP
function), and every rule's SQL runs over the table. It is timed with rule conversion
included (as Zircolite reports) and without.

Figures printed: rule load time cold and cached; files with a hit and distinct rules on the
attack samples for both, with the differences; events/s of both on the same events and the
ratio; events/s on a stream of >= 1,000,000 events (the samples replayed, in batches of
5,000) with one process and with two; peak RSS (ru_maxrss) at checkpoints of the stream, to
show memory stays bounded as the input grows. Times are CPU-independent wall-clock on this
machine: other load on the 2 cores shows up in them, so run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import resource
import sqlite3
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
RULE_DIRS = ("rules", "rules-emerging-threats", "rules-threat-hunting")
BATCH = 5000


def say(*parts: Any) -> None:
    print(*parts, flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------- inputs


def windows_rule_files() -> list[Path]:
    out = []
    for d in RULE_DIRS:
        for path in sorted((CORPUS / "sigma" / d).rglob("*.yml")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if "product: windows" in text or "category: antivirus" in text:
                out.append(path)
    return out


def load_events() -> list[Any]:
    import garrison.normalize.builtin  # noqa: F401
    from garrison.ingest.reader import InputFile, batches, open_source
    from garrison.pipeline import build_events

    events = []
    for path in sorted((CORPUS / "evtx-attack-samples").rglob("*.evtx")):
        file = InputFile(path, str(path))
        source = open_source(file)
        if source is None:
            continue
        for batch in batches(source, file, BATCH):
            evs, _ = build_events(batch, 0)
            events.extend(evs)
    return events


def replay(events: list[Any], total: int) -> Iterator[list[Any]]:
    """``total`` events in batches: the samples again and again, each copy its own uid."""
    from garrison.core.events import Event

    done = 0
    rep = 0
    while done < total:
        for start in range(0, len(events), BATCH):
            chunk = events[start : start + BATCH][: total - done]
            if not chunk:
                break
            yield [
                Event(f"{rep}:{e.uid}", e.class_uid, e.time, e.ocsf, e.fields, e.raw, e.provenance)
                for e in chunk
            ]
            done += len(chunk)
        rep += 1


# ----------------------------------------------------------------------------- Garrison


def garrison_load(files: list[Path], home: Path) -> tuple[Any, float]:
    from garrison.detect.sigma import load_detector

    started = time.perf_counter()
    det = load_detector(files, home)
    return det, time.perf_counter() - started


def garrison_hits(det: Any, events: list[Any]) -> tuple[set[str], Counter[str], float]:
    files: set[str] = set()
    rules: Counter[str] = Counter()
    started = time.perf_counter()
    for ev in events:
        matches, _ = det.engine.match(ev.fields, ev.provenance.source_format, ev.class_uid)
        if matches:
            files.add(ev.source_path)
            for m in matches:
                rules[det.engine.rules[m.rule].meta.title] += 1
    return files, rules, time.perf_counter() - started


def garrison_matches(det: Any, events: list[Any]) -> dict[str, dict[int, str]]:
    """title -> {event index: field map used} (for explaining differences)."""
    out: dict[str, dict[int, str]] = {}
    for i, ev in enumerate(events):
        matches, _ = det.engine.match(ev.fields, ev.provenance.source_format, ev.class_uid)
        for m in matches:
            out.setdefault(det.engine.rules[m.rule].meta.title, {})[i] = m.fieldmap.name
    return out


def stream_worker(args: tuple[list[Path], str, list[Any], int, bool]) -> dict[str, Any]:
    """Run the detector over ``total`` replayed events; RSS at checkpoints."""
    files, home, events, total, warm = args
    cpu_load = time.process_time()
    det, load_s = garrison_load(files, Path(home))
    cpu_load = time.process_time() - cpu_load
    import gc

    gc.freeze()  # the bench's own copy of the samples is long-lived too
    if warm:  # build the per-source buckets first, as a long run amortises them
        for ev in events:
            det.engine.bucket_for(ev.fields, ev.provenance.source_format, ev.class_uid)
    checkpoints = []
    seen = 0
    started = time.perf_counter()
    cpu0 = time.process_time()
    next_mark = total // 10
    for batch in replay(events, total):
        det.observe(batch)
        seen += len(batch)
        if seen >= next_mark:
            checkpoints.append((seen, round(rss_mb(), 1)))
            next_mark += total // 10
    det.finish()
    return {
        "events": seen,
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu0,
        "checkpoints": checkpoints,
        "load_seconds": load_s,
        "load_cpu": cpu_load,
        "findings": det.stats()["findings"],
        "matches": det.stats()["matches"],
        "rss_mb": rss_mb(),
    }


# -------------------------------------------------------------- baseline: Zircolite method


def baseline_convert(files: list[Path]) -> tuple[list[tuple[str, str]], int, float]:
    from sigma.backends.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection

    started = time.perf_counter()
    backend = sqliteBackend()
    queries: list[tuple[str, str]] = []
    failed = 0
    for path in files:
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
            for rule in collection.rules:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for sql in backend.convert_rule(rule):
                        queries.append((rule.title, sql))
        except Exception:
            failed += 1
    return queries, failed, time.perf_counter() - started


def _regexp(pattern: str, value: Any, _cache: dict[str, Any] = {}) -> bool:  # noqa: B006
    if value is None:
        return False
    rx = _cache.get(pattern)
    if rx is None:
        rx = _cache[pattern] = re.compile(pattern)
    return rx.search(str(value)) is not None


def baseline_run(queries: list[tuple[str, str]], events: list[Any], copies: int) -> dict[str, Any]:
    """Flatten events into an in-memory table and run every rule's SQL (as Zircolite)."""
    started = time.perf_counter()
    cpu0 = time.process_time()
    columns: dict[str, str] = {}
    for ev in events:
        for key in ev.fields:
            columns.setdefault(key.lower(), key)
    names = ["row_id", "source_path", *columns.values()]
    conn = sqlite3.connect(":memory:")
    conn.create_function("regexp", 2, _regexp, deterministic=True)
    cols = ", ".join(f'"{n}" TEXT COLLATE NOCASE' for n in names)
    conn.execute(f"CREATE TABLE logs ({cols})")
    marks = ", ".join("?" * len(names))
    rows = []
    n = 0
    for _ in range(copies):
        for ev in events:
            n += 1
            row = [str(n), ev.source_path]
            for key in columns.values():
                value = ev.fields.get(key)
                row.append(None if value is None else str(value))
            rows.append(row)
    conn.executemany(f"INSERT INTO logs VALUES ({marks})", rows)  # noqa: S608 - only '?' placeholders are interpolated
    conn.commit()
    loaded = time.perf_counter() - started
    files: set[str] = set()
    rules: Counter[str] = Counter()
    rows_of: dict[str, set[int]] = {}
    errors: dict[str, str] = {}
    failed = 0
    for title, sql in queries:
        try:
            for row in conn.execute(sql.replace("SELECT *", "SELECT source_path, row_id", 1)):
                rules[title] += 1
                files.add(row[0])
                if copies == 1:
                    rows_of.setdefault(title, set()).add(int(row[1]) - 1)
        except sqlite3.Error as exc:
            failed += 1
            errors[title] = str(exc)
    conn.close()
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu0,
        "load_seconds": loaded,
        "files": files,
        "rules": rules,
        "query_errors": failed,
        "events": n,
        "rows_of": rows_of,
        "errors": errors,
        "rss_mb": rss_mb(),
    }


def baseline_child(args: tuple[list[Path], list[Any], int]) -> dict[str, Any]:
    files, events, copies = args
    cpu0 = time.process_time()
    queries, failed, convert_s = baseline_convert(files)
    convert_cpu = time.process_time() - cpu0
    out = baseline_run(queries, events, copies)
    out.update(
        convert_seconds=convert_s,
        convert_cpu=convert_cpu,
        rules_failed=failed,
        queries=len(queries),
    )
    return out


# -------------------------------------------------------------------------------- report


def _why_base_only(det: Any, ev: Any, rule_index: int | None) -> tuple[str, str]:
    bucket = det.engine.bucket_for(ev.fields, ev.provenance.source_format, ev.class_uid)
    if rule_index not in bucket.rules:
        where = f"{ev.fields.get('Channel')} EventID {ev.fields.get('EventID')}"
        return (
            "baseline only: the rule's logsource excludes the event (the baseline "
            "ignores logsource)",
            f"event is {where}",
        )
    assert rule_index is not None
    rule = det.engine.rules[rule_index]
    target = next((t for t in rule.targets if t.applies(bucket.key)), None)
    for fld, accepted in target.where if target else ():
        value = str(ev.fields.get(fld, "")).lower()
        if value not in accepted:
            return (
                "baseline only: the logsource's own condition excludes the event "
                "(the baseline ignores logsource)",
                f"{fld} is {ev.fields.get(fld)}",
            )
    return "baseline only: value semantics differ", ""


def _why_ours_only(ev: Any, fmap: str, sql_error: str | None) -> tuple[str, str]:
    if sql_error:
        return "Garrison only: the baseline's SQL fails on a field absent from the data", sql_error
    if fmap:
        return "Garrison only: logsource field map (4688 / Defender names)", fmap
    empty = sorted(k for k, v in ev.fields.items() if v in ("", None))
    return (
        "Garrison only: value semantics differ",
        f"null/empty in event: {', '.join(empty[:4])}" if empty else "",
    )


def explain_differences(det: Any, events: list[Any], base: dict[str, Any]) -> None:
    """A reason for every match one side has and the other has not."""
    ours = garrison_matches(det, events)
    by_title = {r.meta.title: i for i, r in enumerate(det.engine.rules)}
    reasons: Counter[str] = Counter()
    per_rule: dict[str, Counter[str]] = {}
    for title in sorted(set(ours) | set(base["rows_of"])):
        mine = ours.get(title, {})
        theirs = base["rows_of"].get(title, set())
        whys = [_why_base_only(det, events[i], by_title.get(title)) for i in theirs - set(mine)]
        whys += [
            _why_ours_only(events[i], fmap, base["errors"].get(title))
            for i, fmap in mine.items()
            if i not in theirs
        ]
        for short, detail in whys:
            reasons[short] += 1
            per_rule.setdefault(title, Counter())[f"{short} [{detail}]" if detail else short] += 1
    say("  every differing match, by reason:")
    for why, n in reasons.most_common():
        say(f"    {n:5d}  {why}")
    say("  per rule:")
    for title, counts in sorted(per_rule.items()):
        for why, n in counts.most_common():
            say(f"    {title}: {n} x {why}")


def show_differences(
    ours_files: set[str], ours_rules: Counter[str], base_files: set[str], base_rules: Counter[str]
) -> None:
    only_base = sorted(set(base_rules) - set(ours_rules))
    only_ours = sorted(set(ours_rules) - set(base_rules))
    say(f"  rules firing only in the baseline ({len(only_base)}):")
    for title in only_base:
        say(f"    - {title} ({base_rules[title]} matches)")
    say(f"  rules firing only in Garrison ({len(only_ours)}):")
    for title in only_ours:
        say(f"    + {title} ({ours_rules[title]} matches)")
    fewer = sorted(t for t in set(ours_rules) & set(base_rules) if ours_rules[t] < base_rules[t])
    say(f"  rules firing fewer times in Garrison ({len(fewer)}):")
    for title in fewer:
        say(f"    < {title}: {ours_rules[title]} vs {base_rules[title]}")
    for label, files in (
        ("baseline", base_files - ours_files),
        ("Garrison", ours_files - base_files),
    ):
        say(f"  files with a hit only in {label} ({len(files)}):")
        for f in sorted(files):
            say(f"    {Path(f).relative_to(CORPUS / 'evtx-attack-samples')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 copy, 200,000-event stream")
    ap.add_argument("--events", type=int, default=0, help="stream size (default 1,000,000)")
    ap.add_argument("--copies", type=int, default=0, help="copies for the side-by-side run")
    ap.add_argument("--workers", type=int, default=2, help="processes for the 2-core run")
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()
    total = args.events or (200_000 if args.quick else 1_000_000)
    copies = args.copies or (1 if args.quick else 10)
    if not CORPUS.is_dir():
        say(f"corpus not found at {CORPUS}")
        return 2
    sys.path.insert(0, str(ROOT / "src"))
    ctx = mp.get_context("fork")

    t = time.perf_counter()
    events = load_events()
    n_files = len({e.source_path for e in events})
    say(
        f"events: {len(events):,} from {n_files} EVTX files "
        f"(ingest {time.perf_counter() - t:.1f} s)"
    )
    rule_files = windows_rule_files()
    say(f"rules: {len(rule_files):,} Windows rule files")

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        det, cold = garrison_load(rule_files, home)
        _, cached = garrison_load(rule_files, home)
        st = det.stats()
        say(
            f"\n[load] Garrison: {st['rules_loaded']:,} rules loaded, {st['rules_failed']} "
            f"failed; cold {cold:.1f} s, cached {cached:.1f} s"
        )

        files, rules, first = garrison_hits(det, events)
        _, _, warm = garrison_hits(det, events)
        say(
            f"\n[attack samples] Garrison: {len(files)}/277 files with a hit, "
            f"{len(rules)} distinct rules, {sum(rules.values()):,} matches "
            f"(first pass {first:.2f} s incl. per-source setup, warm pass {warm:.2f} s)"
        )

        base: dict[str, Any] | None = None
        if not args.no_baseline:
            with ctx.Pool(1) as pool:
                base = pool.apply(baseline_child, ((rule_files, events, 1),))
            say(
                f"[attack samples] baseline (pySigma SQLite, Zircolite method): "
                f"{len(base['files'])}/277 files, {len(base['rules'])} distinct rules, "
                f"{sum(base['rules'].values()):,} matches; {base['queries']:,} queries, "
                f"{base['rules_failed']} rules not converted, "
                f"{base['query_errors']} queries failed"
            )
            show_differences(files, rules, base["files"], base["rules"])
            explain_differences(det, events, base)

        # side by side on the same events: the samples x copies (first pass included:
        # per-source setup is part of Garrison's cost on a corpus this small)
        n_same = len(events) * copies
        with ctx.Pool(1) as pool:
            ours = pool.apply(stream_worker, ((rule_files, str(home), events, n_same, False),))
        say(f"\n[side by side, {n_same:,} events = {copies} x samples; wall s / CPU s]")
        say(
            f"  Garrison: matching {ours['seconds']:.2f} / {ours['cpu']:.2f} s "
            f"({n_same / ours['seconds']:,.0f} events/s wall, {n_same / ours['cpu']:,.0f} CPU); "
            f"+ cached rule load {ours['load_seconds']:.2f} / {ours['load_cpu']:.2f} s; "
            f"cold load {cold:.1f} s wall; peak RSS {ours['rss_mb']:.0f} MB"
        )
        if not args.no_baseline:
            with ctx.Pool(1) as pool:
                base_n = pool.apply(baseline_child, ((rule_files, events, copies),))
            say(
                f"  baseline: table load + queries {base_n['seconds']:.2f} / {base_n['cpu']:.2f} s "
                f"({n_same / base_n['seconds']:,.0f} events/s wall, "
                f"{n_same / base_n['cpu']:,.0f} CPU); + rule conversion "
                f"{base_n['convert_seconds']:.1f} / {base_n['convert_cpu']:.1f} s; "
                f"peak RSS {base_n['rss_mb']:.0f} MB"
            )
            g_end = ours["cpu"] + ours["load_cpu"]
            b_wall = base_n["seconds"] + base_n["convert_seconds"]
            b_end = base_n["cpu"] + base_n["convert_cpu"]
            say(
                f"  ratio, matching only: {base_n['seconds'] / ours['seconds']:.1f}x wall, "
                f"{base_n['cpu'] / ours['cpu']:.1f}x CPU; end to end (Garrison cached rules vs "
                f"baseline with conversion): {b_end / g_end:.1f}x CPU; Garrison cold load vs "
                f"conversion: {b_wall / (ours['seconds'] + cold):.1f}x wall"
            )

        # the large stream: 1 process, then N processes each taking a share
        say(f"\n[stream, {total:,} events, batches of {BATCH:,}, samples replayed]")
        with ctx.Pool(1) as pool:
            one = pool.apply(stream_worker, ((rule_files, str(home), events, total, True),))
        say(
            f"  1 process: {one['seconds']:.1f} s wall, {one['cpu']:.1f} s CPU: "
            f"{one['events'] / one['seconds']:,.0f} events/s wall, "
            f"{one['events'] / one['cpu']:,.0f} per CPU-second; "
            f"{one['matches']:,} matches -> {one['findings']:,} findings"
        )
        say(f"  peak RSS (MB) by events processed: {one['checkpoints']}")
        share = total // args.workers
        with ctx.Pool(args.workers) as pool:
            started = time.perf_counter()
            parts = pool.map(
                stream_worker, [(rule_files, str(home), events, share, True)] * args.workers
            )
            wall = time.perf_counter() - started
        done = sum(p["events"] for p in parts)
        slowest = max(p["seconds"] for p in parts)
        say(
            f"  {args.workers} processes: {done:,} events in {wall:.1f} s wall including each "
            f"loading the cached rules ({done / wall:,.0f} events/s); matching alone "
            f"{done / slowest:,.0f} events/s (slowest worker {slowest:.1f} s); "
            f"peak RSS per process {max(p['rss_mb'] for p in parts):.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
