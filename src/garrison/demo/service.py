"""``garrison demo``: generate the data, run the hunt on it, score the hunt against the labels.

Layout of ``--out DIR``::

    DIR/.garrison-demo           marker: this folder belongs to the demo (safe to regenerate)
    DIR/data/logs/linux/auth.log
    DIR/data/logs/zeek/conn.log, dns.log
    DIR/data/logs/windows/events.jsonl
    DIR/data/labels.json         ground truth (kept out of the hunted folder)
    DIR/home/                    Garrison state for the demo run (unless --home is given),
                                 with garrison.toml naming the organisation's public domain
    DIR/results/                 findings.jsonl, incidents.jsonl, quarantine.jsonl,
                                 summary.json, demo-eval.json
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from garrison.core.config import GarrisonConfig, load_config
from garrison.core.errors import InputError, UsageError
from garrison.core.timeutil import iso
from garrison.demo.background import generate_background
from garrison.demo.context import Gen
from garrison.demo.evaluate import DemoEvaluation, evaluate
from garrison.demo.intrusion import Intrusion
from garrison.demo.inventory import write_inventory
from garrison.demo.labels import build_labels, write_labels
from garrison.demo.scenario import cast_for
from garrison.demo.world import build_world
from garrison.demo.writers import write_all

MARKER = ".garrison-demo"
DEFAULT_START = date(2025, 3, 2)  # a Sunday: one quiet weekend day, then working days


@dataclass(slots=True)
class DemoOptions:
    out: Path = Path("garrison-demo")
    seed: int = 7
    users: int = 40
    hosts: int = 30
    days: int = 3
    start: date = DEFAULT_START
    rules: list[Path] = field(default_factory=list)
    home: Path | None = None
    config: Path | None = None

    @property
    def data_dir(self) -> Path:
        return self.out / "data"

    @property
    def logs_dir(self) -> Path:
        return self.out / "data" / "logs"

    @property
    def labels_path(self) -> Path:
        return self.out / "data" / "labels.json"

    @property
    def assets_path(self) -> Path:
        return self.out / "data" / "assets.csv"

    @property
    def results_dir(self) -> Path:
        return self.out / "results"


@dataclass(slots=True)
class Generated:
    labels: dict[str, Any]
    files: dict[str, Path]
    seconds: float


@dataclass(slots=True)
class DemoResult:
    options: DemoOptions
    generated: Generated
    summary: dict[str, Any]
    evaluation: DemoEvaluation
    hunt_command: str
    home: Path
    detector_errors: dict[str, str] = field(default_factory=dict)


def prepare_out(out: Path) -> None:
    """Refuse to write into a non-empty folder that is not a previous demo."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"--out {out} is not empty and was not made by `garrison demo`; choose another folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("created by `garrison demo`; safe to delete\n", encoding="utf-8")


def reset_home(home: Path) -> None:
    """Clear the demo's own state (lake, state database, baselines) for a fresh data set,
    keeping ``cache/`` (compiled Sigma rules) so a rerun does not parse the rules again."""
    if not home.is_dir():
        return
    for child in home.iterdir():
        if child.name == "cache":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def generate(options: DemoOptions) -> Generated:
    """Write the logs and labels under ``options.data_dir``; deterministic for a seed."""
    started = time.perf_counter()
    world = build_world(options.seed, options.users, options.hosts, options.days, options.start)
    background = Gen.create(world, "background")
    generate_background(background)
    intrusion = Intrusion(
        Gen.attach(world, background.rec, background.catalog, "intrusion"), cast_for(world)
    )
    intrusion.run()
    if options.logs_dir.exists():
        shutil.rmtree(options.logs_dir)
    positions = write_all(world, background.rec, options.data_dir)
    meta = {
        "generator": "garrison demo",
        "seed": options.seed,
        "options": {
            "users": options.users,
            "hosts": options.hosts,
            "days": options.days,
            "start": options.start.isoformat(),
        },
        "time_range": {
            "start": world.start_us // 1000,
            "end": world.end_us // 1000,
            "start_iso": iso(world.start_us // 1000),
            "end_iso": iso(world.end_us // 1000),
        },
        "organisation": {
            "name": world.company,
            "netbios": world.netbios,
            "dns_domain": world.dns_domain,
            "public_domain": world.public_domain,
            "users": len(world.users),
            "hosts": len(world.hosts),
        },
        "notes": (
            "All times are UTC. Positions are 1-based physical line numbers in each file "
            "(Zeek header lines included). External addresses and domains are synthetic; "
            "any resemblance to real parties is accidental."
        ),
    }
    labels = build_labels(positions, intrusion.entities, meta)
    write_labels(options.labels_path, labels)
    write_inventory(world, options.assets_path)
    files = {rel: options.data_dir / rel for rel in labels["files"]}
    return Generated(labels, files, round(time.perf_counter() - started, 3))


def hunt_command(options: DemoOptions, home: Path, rules: list[Path]) -> str:
    parts = [
        "garrison",
        "hunt",
        str(options.logs_dir),
        "--out",
        str(options.results_dir),
        "--home",
        str(home),
        "--assets",
        str(options.assets_path),
    ]
    for folder in rules:
        parts += ["--rules", str(folder)]
    if options.config:
        parts += ["--config", str(options.config)]
    return " ".join(shlex.quote(p) for p in parts)


def protect_organisation(cfg: GarrisonConfig, public_domain: str) -> None:
    """Tell ``ml.lookalike`` the organisation's public domain, as a deployment would in its
    garrison.toml: a lookalike is then matched against the name it imitates, not only
    against the internal domain learnt from host names. A value the user configured wins."""
    options = cfg.detectors.options.setdefault("ml.lookalike", {})
    options.setdefault("protected_domains", [public_domain])


def write_home_config(home: Path, public_domain: str) -> Path:
    """The demo's own home gets the organisation's garrison.toml, so the printed
    ``garrison hunt ... --home DIR/home`` rerun sees the same configuration."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "garrison.toml"
    path.write_text(
        "# written by `garrison demo` for its organisation\n"
        '[detectors."ml.lookalike"]\n'
        f"protected_domains = [{json.dumps(public_domain)}]\n",
        encoding="utf-8",
    )
    return path


def run_demo(options: DemoOptions) -> DemoResult:
    """Generate, hunt with ``HuntService``, write the outputs and the evaluation."""
    from garrison.outputs import write_outputs
    from garrison.pipeline import HuntRequest, HuntService

    for folder in options.rules:
        if not folder.exists():
            raise UsageError(f"--rules {folder}: no such file or directory")
    prepare_out(options.out)
    generated = generate(options)
    home = options.home or options.out / "home"
    public_domain = str(generated.labels["organisation"]["public_domain"])
    if options.home is None:
        reset_home(home)
        if options.config is None:
            write_home_config(home, public_domain)
    cfg = load_config(home, options.config)
    protect_organisation(cfg, public_domain)
    request = HuntRequest(rules=options.rules, assets=options.assets_path)
    service = HuntService.for_request(cfg, request)
    report = service.run([str(options.logs_dir)])
    summary = write_outputs(report, options.results_dir)
    evaluation = _score(options, generated, summary)
    command = hunt_command(options, home, list(options.rules))
    return DemoResult(
        options, generated, summary, evaluation, command, home, dict(report.detector_errors)
    )


def _score(options: DemoOptions, generated: Generated, summary: dict[str, Any]) -> DemoEvaluation:
    evaluation = evaluate(options.results_dir, options.labels_path)
    payload = {
        "hunt_seconds": summary.get("seconds"),
        "generate_seconds": generated.seconds,
        **evaluation.to_json(),
    }
    out = options.results_dir / "demo-eval.json"
    out.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return evaluation


def score_only(options: DemoOptions) -> DemoResult:
    """Score the hunt output already in ``DIR/results`` (e.g. after rerunning ``garrison hunt``
    with other rules) against ``DIR/data/labels.json``, without generating or hunting."""
    from garrison.demo.labels import load_labels

    labels = load_labels(options.labels_path)
    try:
        summary = json.loads((options.results_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"no hunt results in {options.results_dir}: {exc}") from exc
    generated = Generated(labels.raw, {rel: options.data_dir / rel for rel in labels.files}, 0.0)
    evaluation = _score(options, generated, summary)
    home = options.home or options.out / "home"
    return DemoResult(
        options,
        generated,
        summary,
        evaluation,
        hunt_command(options, home, list(options.rules)),
        home,
    )
