"""Helpers shared by the demo tests (imported by module name: the folder is on sys.path)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from garrison.demo.service import DemoOptions, Generated

SMALL: dict[str, Any] = {"seed": 11, "users": 12, "hosts": 12, "days": 3}


@dataclass
class SmallDemo:
    options: DemoOptions
    generated: Generated

    @property
    def labels(self) -> dict[str, Any]:
        return self.generated.labels

    def lines(self, rel: str) -> list[str]:
        return (self.options.data_dir / rel).read_text(encoding="utf-8").split("\n")[:-1]

    def labelled(self) -> dict[tuple[str, int], str]:
        return {
            (rel, line): s["name"]
            for s in self.labels["stages"]
            for rel, lines in s["records"].items()
            for line in lines
        }
