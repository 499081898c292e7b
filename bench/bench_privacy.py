"""Pseudonymization cost: events/s of ``Pseudonymizer.apply`` beside ``build_events`` (the
normalization it follows) on the same batches.

The events are the demo scenario's logs (``garrison demo`` data: auth.log, conn.log,
dns.log, events.jsonl), generated into a temporary folder at the given size; the
pseudonymized paths are the documented user fields. Prints both rates and the ratio.
Run: ``python bench/bench_privacy.py [--users 20 --hosts 12 --days 2]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from garrison.core.config import GarrisonConfig, load_config
from garrison.demo.service import DemoOptions, generate
from garrison.govern.privacy import PrivacyKeys, Pseudonymizer, Vault, load_privacy_config
from garrison.ingest.reader import batches, expand_inputs, open_source
from garrison.pipeline import build_events
from garrison.store.state import StateDB

FIELDS = {"*": ["user.name", "actor.user.name", "email.from", "email.to"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=12)
    parser.add_argument("--days", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        options = DemoOptions(
            out=Path(tmp) / "demo", users=args.users, hosts=args.hosts, days=args.days
        )
        generate(options)
        logs = options.logs_dir
        config: GarrisonConfig = load_config(Path(tmp) / "home")
        files, _ = expand_inputs([str(logs)], {})
        pending = []
        build = 0.0
        for file in files:
            source = open_source(file, config.ingest)
            if source is None:
                continue
            for batch in batches(source, file, config.hunt.batch_size):
                start = time.perf_counter()
                events, _ = build_events(batch, 0)
                build += time.perf_counter() - start
                pending.append((events, batch.source_format))
        privacy = load_privacy_config({"privacy": {"fields": FIELDS}})
        keys = PrivacyKeys.derive(b"b" * 32)
        pseudo = Pseudonymizer(privacy, keys, Vault(StateDB.memory(), keys.vault_key))
        start = time.perf_counter()
        for events, fmt in pending:
            pseudo.apply(events, fmt)
        cost = time.perf_counter() - start
        n = sum(len(e) for e, _ in pending)
        print(f"events {n:,}; changed {pseudo.replaced:,}")
        print(f"build_events   {n / build:>10,.0f} events/s")
        print(f"pseudonymize   {n / cost:>10,.0f} events/s  ({cost / build:.2f}x build_events)")


if __name__ == "__main__":
    main()
