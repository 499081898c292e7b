"""Schema and range validation of a training set (pandera), one schema per text model.

A schema states what a record of the dataset folder must be before anything is trained
on it: a DGA row is a domain name of valid length and characters with a non-empty group
and a 0/1 label; a URL row a printable URL of bounded length; an e-mail row an id, a
group, a 0/1 label and a non-empty text of bounded size. The model's own loader drops
what it cannot parse without saying much; the schema counts every such row, names the
check it failed and shows examples, and the run fails when more than ``max_invalid`` of
the rows fail (a few odd lines in a third-party list are normal; a flood is not).
Beyond rows, the rows training fits on must hold both classes, at least
``min_class_share`` of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

#: A DNS name: letters, digits, hyphens, underscores and dots, 253 characters at most.
DOMAIN = r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?\.?$"
#: Printable, no white space (a URL in a log line is one token).
URL = r"^[!-~\u00a0-\U0010ffff]+$"
MAX_URL = 4096
MAX_MESSAGE = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SchemaLimits:
    max_invalid: float = 0.01
    min_class_share: float = 0.05
    examples: int = 3


def schema(model: str) -> pa.DataFrameSchema:
    """The pandera schema of ``model``'s raw rows."""
    import pandera.pandas as pa

    label = pa.Column(int, pa.Check.isin([0, 1]), coerce=True, nullable=False)
    if model == "dga":
        return pa.DataFrameSchema(
            {
                "domain": pa.Column(
                    str, [pa.Check.str_length(1, 253), pa.Check.str_matches(DOMAIN)]
                ),
                "group": pa.Column(str, pa.Check.str_length(1, 200)),
                "label": label,
            }
        )
    if model == "url":
        return pa.DataFrameSchema(
            {
                "url": pa.Column(str, [pa.Check.str_length(4, MAX_URL), pa.Check.str_matches(URL)]),
                "label": label,
            }
        )
    return pa.DataFrameSchema(
        {
            "id": pa.Column(str, pa.Check.str_length(1, 200), coerce=True),
            "group": pa.Column(str, pa.Check.str_length(1, 200)),
            "label": label,
            "text": pa.Column(str, pa.Check.str_length(1, MAX_MESSAGE)),
        },
        unique=["group", "id"],  # ids restart in each group (folder) of a corpus
    )


def validate(
    model: str,
    raw: pd.DataFrame,
    limits: SchemaLimits | None = None,
    trained_labels: Sequence[int] | None = None,
) -> tuple[list[str], list[str]]:
    """(failures, notes) of ``raw`` against the model's schema and class ranges, one line
    each; no failures: valid. A line names the column, the check, the count and examples;
    rows failing the schema below ``max_invalid`` are notes, not failures. The class
    shares are those of ``trained_labels`` when given (the rows training fits on: the DGA
    recipe samples a few thousand names per family from a folder of 830k), else of
    ``raw``."""
    import pandas as pd
    import pandera.pandas as pa

    lim = limits or SchemaLimits()
    n = len(raw)
    if n == 0:
        return ["schema: the training set has no records"], []
    out: list[str] = []
    notes: list[str] = []
    try:
        schema(model).validate(raw, lazy=True)
    except pa.errors.SchemaErrors as exc:
        line, failed = _summarise(exc.failure_cases, n, lim)
        (out if failed else notes).append(line)
    except pa.errors.SchemaError as exc:  # a non-lazy error (e.g. a missing column)
        out.append(f"schema: {exc}".splitlines()[0])
    if trained_labels is not None:
        labels = pd.Series(list(trained_labels))
    else:
        labels = raw["label"].dropna() if "label" in raw else pd.Series([], dtype=object)
    labels = labels[labels.isin([0, 1])]
    for value, name in ((0, "benign"), (1, "malicious")):
        share = float((labels == value).mean()) if len(labels) else 0.0
        if share < lim.min_class_share:
            out.append(
                f"schema: {name} records are {share:.1%} of the set (at least "
                f"{lim.min_class_share:.0%} needed)"
            )
    return out, notes


def _summarise(cases: pd.DataFrame, n: int, lim: SchemaLimits) -> tuple[str, bool]:
    """Failure cases grouped by column and check; a failure only fails the set when the
    share of rows failing any check is over ``max_invalid``, but every kind is named."""
    rows = cases["index"].dropna()
    bad_rows = int(rows.nunique()) if len(rows) else len(cases)
    lines = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=True):
        examples = ", ".join(_show(v) for v in group["failure_case"].head(lim.examples))
        lines.append(f"{len(group)} x column {column}: {check} (e.g. {examples})")
    share = bad_rows / n
    line = (
        f"schema: {bad_rows} of {n} records ({share:.2%}) fail the schema "
        f"(at most {lim.max_invalid:.0%}): " + "; ".join(lines)
    )
    return line, share > lim.max_invalid


def _show(value: object) -> str:
    """An example value, shortened and with control characters escaped (it is
    attacker-controlled text going to a terminal)."""
    text = repr(value) if not isinstance(value, float) or not np.isnan(value) else "null"
    return text if len(text) <= 60 else text[:57] + "..."
