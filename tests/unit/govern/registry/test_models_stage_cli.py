"""``garrison models promote|rollback|stages`` end to end, and issue 13's train-then-verify
with ``--out DIR`` (the binding-conflict regression) on a small corpus."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from garrison.govern.registry.store import HomeRegistry
from garrison.measure.ml_eval.tamper_models import registered_version
from tests.models_cli import invoke


def test_promote_rollback_and_stages(home: Path) -> None:
    registered_version(home, home / "models" / "v1", "dga-v1")
    registered_version(home, home / "models" / "v2", "dga-v2")
    at = ["--home", str(home)]
    code, out = invoke(["models", "promote", "dga", "dga-v1", "--to", "production", *at])
    assert code == 2 and "must be in canary first" in out
    for version in ("dga-v1", "dga-v2"):
        for stage in ("shadow", "canary", "production"):
            code, out = invoke(["models", "promote", "dga", version, "--to", stage, *at])
            assert code == 0 and f"promoted dga {version} to {stage}" in out, out
    assert "(replacing dga-v1)" in out
    code, out = invoke(["models", "stages", "dga", "--json", *at])
    (view,) = json.loads(out)
    assert view["production"] == "dga-v2" and view["rollback_target"] == "dga-v1"
    code, out = invoke(["models", "rollback", "dga", *at])
    assert code == 0 and "production is now dga-v1 (was dga-v2)" in out
    code, out = invoke(["models", "stages", *at])
    assert code == 0 and "dga-v1" in out and "shipped" in out
    code, out = invoke(["models", "verify", *at])
    assert code == 0 and "signed by release key ed25519:" in out
    code, out = invoke(["models", "promote", "dga", "nope", "--to", "shadow", *at])
    assert code == 2 and "no validly signed version 'nope'" in out


def _emails(folder: Path) -> Path:
    rng = random.Random(5)
    # spam that reads as spam (the training checks test labels against the approved model)
    words = (
        ["meeting", "report", "agenda", "budget", "minutes", "team", "review", "thanks"],
        ["winner", "free", "cash", "prize", "click", "http://claim-prize.example/win",
         "viagra", "$$$", "urgent", "lottery"],
    )  # fmt: skip
    rows = []
    for i in range(80):
        body = " ".join(rng.choice(words[i % 2]) for _ in range(30))
        text = f"From: a{i}@example.org\nSubject: {body[:20]}\nContent-Type: text/plain\n\n{body}\n"
        group = ("spam" if i % 2 else "easy-ham") + f"-{i % 2}"
        rows.append({"id": str(i), "group": group, "label": i % 2, "text": text})
    folder.mkdir()
    (folder / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder


@pytest.mark.slow
def test_train_email_to_an_out_folder_then_verify(home: Path, tmp_path: Path) -> None:
    """Issue 13: ``models train email --data ... --out DIR`` then ``models verify`` failed
    with binding-conflict. Twice into the same folder: both runs verify."""
    data = _emails(tmp_path / "emails")
    for out in (tmp_path / "out", tmp_path / "out"):
        args = ["models", "train", "email", "--data", str(data), "--out", str(out)]
        code, said = invoke([*args, "--home", str(home)])
        assert code == 0, said
        code, said = invoke(["models", "verify", "--home", str(home)])
        assert code == 0 and "binding-conflict" not in said, said
    with HomeRegistry.open(home, create=False) as registry:
        assert registry is not None
        assert len({e.version for e in registry.entries()}) == 2


def test_hostile_version_text_is_shown_not_obeyed(home: Path) -> None:
    version = "dga-[red]x[/red]\x1b[2J\u202e"
    registered_version(home, home / "models" / "evil", version)
    code, out = invoke(["models", "promote", "dga", version, "--to", "shadow", "--home", str(home)])
    assert code == 0 and "\x1b" not in out and "\u202e" not in out
    assert "[red]x[/red]" in out and "\\x1b[2J" in out
    code, out = invoke(["models", "stages", "--home", str(home)])
    assert code == 0 and "\x1b" not in out
