"""Model-file scanners side by side: Garrison's allowlist scanner, picklescan, fickling and
(when a throwaway venv for it can be built) modelscan, on the same generated files.

Malicious: every payload of ``tests/unit/govern/scan/corpus.py`` (fickling injections over
real scikit-learn pickles, and hand-written evasive payloads: importlib, marshal +
FunctionType, attrgetter/methodcaller, functools.partial, nested pickles, getattr chains,
memo-laundered and computed names, in joblib, PyTorch-shaped zips, npy/npz object arrays,
skops). Benign: pickles (protocols 0-5), joblib and skops files of every estimator class
Garrison's models use, the shipped skops models, numpy/scipy files. Prints one row per
payload kind (F = flagged, - = passed as clean, E = error/unreadable, S = skipped), the
detection and false-positive rates of each tool, and scan speed in MB/s.

modelscan conflicts with Garrison's rich pin, so it never goes into the project's venv:
``--modelscan-venv DIR`` (default /tmp/modelscan-venv) is created with
``pip install modelscan`` when absent; when that fails the column says why.

Run: ``python bench/bench_model_scan.py [--no-modelscan] [--speed-mb 64]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from garrison.govern.scan import scan_file
from tests.unit.govern.scan.corpus import ANCHOR_SIX, benign_files, write_payloads

SUFFIX = {"npy": ".npy", "npz": ".npz", "save_npz": ".npz", "skops": ".skops"}
Verdict = str  # "F" flagged, "-" clean, "E" error, "S" skipped


def garrison(path: Path) -> Verdict:
    verdict = scan_file(path).verdict
    return {"unsafe": "F", "safe": "-"}.get(verdict, "E")


def picklescan(path: Path) -> Verdict:
    from picklescan.scanner import scan_bytes

    try:
        with path.open("rb") as handle:
            result = scan_bytes(handle, str(path), path.suffix)
    except Exception:
        return "E"
    if result.issues_count or result.infected_files:
        return "F"
    return "E" if result.scan_err else "-"


def fickling(path: Path) -> Verdict:
    import fickling as fk

    try:
        if zipfile.is_zipfile(path):
            results = fk.scan_zip_archive(str(path), graceful=True)
            if not results:
                return "S"
            return "-" if all(bool(r) for r in results.values()) else "F"
        return "-" if bool(fk.scan_file(str(path), graceful=True)) else "F"
    except Exception:
        return "E"


def modelscan_runner(venv: Path) -> tuple[Callable[[Path], Verdict] | None, str]:
    """A modelscan verdict function from a throwaway venv, or None and why not."""
    exe = venv / "bin" / "modelscan"
    if not exe.exists():
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
        )
        pip = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "modelscan"],
            capture_output=True, text=True, check=False, timeout=600,
        ) if made.returncode == 0 else made  # fmt: skip
        if not exe.exists():
            return None, f"modelscan venv could not be built: {pip.stderr.strip()[-200:]}"

    def run(path: Path) -> Verdict:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "r.json"
            subprocess.run(
                [str(exe), "-p", str(path), "-r", "json", "-o", str(report)],
                capture_output=True, text=True, check=False, timeout=120, cwd=tmp,
            )  # fmt: skip
            if not report.exists():
                return "E"
            data = json.loads(report.read_text())
        if data.get("summary", {}).get("total_issues"):
            return "F"
        if data.get("errors"):
            return "E"
        return "-" if data.get("summary", {}).get("scanned", {}).get("total_scanned") else "S"

    version = subprocess.run([str(exe), "-v"], capture_output=True, text=True, check=False)
    return run, version.stdout.strip() or "modelscan"


def write_benign(folder: Path) -> list[Path]:
    paths = []
    for key, data in benign_files().items():
        name, kind = key.split("/")
        suffix = SUFFIX.get(kind, ".joblib" if kind.startswith("joblib") else ".pkl")
        path = folder / f"{name}-{kind}{suffix}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def speed_files(folder: Path, megabytes: int) -> list[Path]:
    """A joblib model with large arrays, the same as a protocol-5 pickle, and 200 small
    scikit-learn pickles: the three shapes a model folder holds."""
    import pickle

    import joblib

    rng = np.random.default_rng(0)
    big = {
        "coef": rng.normal(size=(megabytes * 1024 * 128 // 2,)),
        "idx": np.arange(megabytes * 1024 * 32),
    }
    joblib.dump(big, folder / "big.joblib")
    (folder / "big.pkl").write_bytes(pickle.dumps(big, protocol=5))
    small = folder / "small"
    small.mkdir()
    files = list(benign_files().items())
    for i in range(200):
        (small / f"{i}.pkl").write_bytes(files[i % len(files)][1])
    return [folder / "big.joblib", folder / "big.pkl", *sorted(small.iterdir())]


def rate(tool: Callable[[Path], Verdict], paths: list[Path]) -> float:
    size = sum(p.stat().st_size for p in paths)
    start = time.perf_counter()
    for path in paths:
        tool(path)
    return size / (time.perf_counter() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-modelscan", action="store_true")
    parser.add_argument("--modelscan-venv", type=Path, default=Path("/tmp/modelscan-venv"))  # noqa: S108 - a throwaway venv the docstring names
    parser.add_argument("--speed-mb", type=int, default=64)
    args = parser.parse_args()
    tools: dict[str, Callable[[Path], Verdict]] = {
        "garrison": garrison, "picklescan": picklescan, "fickling": fickling,
    }  # fmt: skip
    if args.no_modelscan:
        print("modelscan: skipped (--no-modelscan)")
    else:
        runner, why = modelscan_runner(args.modelscan_venv)
        print(f"modelscan: {why}")
        if runner is not None:
            tools["modelscan"] = runner
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "evil").mkdir()
        (root / "benign").mkdir()
        payloads = write_payloads(root / "evil")
        benign = write_benign(root / "benign")
        print(f"\n{'payload kind':28} {'source':9} " + " ".join(f"{t:>10}" for t in tools))
        caught = {t: 0 for t in tools}
        anchor = {t: 0 for t in tools}
        for payload, path, _ in payloads:
            row = {t: tool(path) for t, tool in tools.items()}
            for t, v in row.items():
                caught[t] += v == "F"
                anchor[t] += v == "F" and payload.kind in ANCHOR_SIX
            mark = "*" if payload.kind in ANCHOR_SIX else " "
            print(
                f"{mark}{payload.kind:27} {payload.source:9} "
                + " ".join(f"{row[t]:>10}" for t in tools)
            )
        verdicts = {t: [tool(p) for p in benign] for t, tool in tools.items()}
        print(f"malicious flagged (of {len(payloads)}): " + _each(tools, lambda t: caught[t]))
        print("anchor six (*) flagged: " + _each(tools, lambda t: f"{anchor[t]}/6"))
        print(
            f"benign flagged (of {len(benign)}): " + _each(tools, lambda t: verdicts[t].count("F"))
        )
        print("benign errors or skipped: "
              + _each(tools, lambda t: sum(v in "ES" for v in verdicts[t])))  # fmt: skip
        for t, row in verdicts.items():
            names = sorted(p.name for p, v in zip(benign, row, strict=True) if v == "F")
            if names:
                print(f"  {t} flags: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}")
        (root / "speed").mkdir()
        big_joblib, big_pickle, *small = speed_files(root / "speed", args.speed_mb)
        shapes = {"big joblib": [big_joblib], "big pickle p5": [big_pickle], "200 small": small}
        print("\nscan speed, MB/s (" + ", ".join(
            f"{k}: {sum(p.stat().st_size for p in v) / 1e6:.0f} MB" for k, v in shapes.items()
        ) + "):")  # fmt: skip
        for t, tool in tools.items():
            if t != "modelscan":  # a process per file: its rate is process start-up
                print(f"  {t:10} " + "  ".join(_speed(tool, v) for v in shapes.values()))


def _speed(tool: Callable[[Path], Verdict], paths: list[Path]) -> str:
    """MB/s, marked when the tool could not read the files (an error is fast, not a rate)."""
    errors = sum(tool(p) in "ES" for p in paths)
    return f"{rate(tool, paths):8.1f}" + (f" ({errors} errors)" if errors else "")


def _each(tools: dict[str, object], value: Callable[[str], object]) -> str:
    return ", ".join(f"{t} {value(t)}" for t in tools)


if __name__ == "__main__":
    main()
