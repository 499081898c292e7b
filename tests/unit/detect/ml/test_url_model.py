"""The URL model on a small synthetic set: exact explanations, safe persistence, scoring
lines one for one, and the detector's findings (real training, tiny hash space)."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from garrison.core.errors import InputError
from garrison.core.events import Event, Provenance
from garrison.detect.ml.url.data import UrlSet, group_split, load_urls
from garrison.detect.ml.url.detector import UrlDetector, UrlOptions, url_of
from garrison.detect.ml.url.model import UrlModel
from garrison.detect.ml.url.parse import parse_url
from garrison.detect.ml.url.scoring import score_lines
from garrison.detect.ml.url.train import TrainParams, fit_model, threshold_at_fpr

WORDS = ["news", "shop", "garden", "music", "travel", "recipes", "school", "city", "sport"]
PATHS = ["/about", "/blog/2016/spring", "/products/item-42", "/wiki/Main_Page", "", "/contact"]


def _benign(rng: random.Random) -> str:
    host = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.randint(1, 999)}.com"
    return f"https://{host}{rng.choice(PATHS)}"


def _phish(rng: random.Random) -> str:
    token = "".join(rng.choice("0123456789abcdef") for _ in range(24))
    host = f"{rng.choice(WORDS)}{rng.randint(1, 999)}.tk"
    word = rng.choice(["login", "verify", "secure-update", "account"])
    return f"http://paypal.com.{word}.{host}/wp-admin/{token}/{word}.php?email=a@b.example"


@pytest.fixture(scope="module")
def data() -> UrlSet:
    rng = random.Random(7)
    urls = [_benign(rng) for _ in range(600)] + [_phish(rng) for _ in range(600)]
    parsed = [parse_url(u) for u in urls]
    return UrlSet(parsed, np.array([0] * 600 + [1] * 600), "synthetic", {}, {})


@pytest.fixture(scope="module")
def trained(data: UrlSet) -> tuple[UrlModel, dict]:
    return fit_model(data, TrainParams(bits=12, c=1.0))


def test_separates_and_thresholds(trained, data) -> None:
    model, calib = trained
    assert calib["auc"] > 0.99 and calib["fpr_at_threshold"] <= 0.02
    p, _ = model.score(data.urls)
    assert p[data.labels == 1].mean() > 0.9 > 0.1 > p[data.labels == 0].mean()


def test_terms_add_up_exactly(trained, data) -> None:
    model, _ = trained
    urls = data.urls[:5] + data.urls[-5:]
    terms = model.terms(urls)
    total = model.bias + terms.host + terms.rest + terms.lexical.sum(1)
    assert np.allclose(total, terms.logit)
    notes = model.explain(urls, terms)
    for note, logit in zip(notes, terms.logit, strict=True):
        t = note["terms"]
        assert abs(sum(t.values()) - logit) < 1e-3
    phish_note = notes[-1]
    assert phish_note["ngrams"] and all(g["weight"] > 0 for g in phish_note["ngrams"])
    assert any(g["ngram"] in urls[-1].key for g in phish_note["ngrams"] if "^" not in g["ngram"])


def test_save_load_roundtrip(trained, data, tmp_path: Path) -> None:
    model, _ = trained
    path = tmp_path / "url.skops"
    model.save(path)
    again = UrlModel.load(path)
    assert again.version == model.version and again.threshold == model.threshold
    assert np.allclose(again.score(data.urls)[0], model.score(data.urls)[0])


class Sneaky:
    """A type no allowlist knows."""

    def __init__(self) -> None:
        self.payload = "whatever"


def test_untrusted_types_refused(trained, tmp_path: Path) -> None:
    model, _ = trained
    state = model.to_state()
    state["lex_mean"] = Sneaky()
    path = tmp_path / "evil.skops"
    sio.dump(state, path)
    with pytest.raises(InputError, match="untrusted types"):
        UrlModel.load(path)
    state = model.to_state()
    state["extra"] = LogisticRegression()  # trusted by skops, but no part of this format
    sio.dump(state, path)
    with pytest.raises(InputError, match="unexpected"):
        UrlModel.load(path)
    broken = tmp_path / "broken.skops"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InputError):
        UrlModel.load(broken)
    with zipfile.ZipFile(tmp_path / "empty.skops", "w"):
        pass
    with pytest.raises(InputError):
        UrlModel.load(tmp_path / "empty.skops")


def test_score_lines_one_for_one(trained) -> None:
    model, _ = trained
    lines: list[str | bytes] = [
        "https://gardenmusic12.com/about\n",
        b"http://paypal.com.login.shop1.example.tk/wp-admin/0a1b2c3d4e5f60718293a4b5/login.php",
        b"\xff\xfe\n",
        "",
        "javascript:alert(1)",
        "https://gardenmusic12.com/about",
    ]
    out = score_lines(lines, model)
    assert len(out) == len(lines)
    assert [o["verdict"] for o in out] == [
        "benign", "malicious", "invalid", "invalid", "invalid", "benign",
    ]  # fmt: skip
    assert out[0]["input"] == "https://gardenmusic12.com/about"
    assert out[0]["score"] == out[5]["score"]
    assert out[2]["score"] is None and out[2]["explanation"]["reason"] == "not valid UTF-8"
    assert "terms" in out[1]["explanation"] and "terms" not in out[0]["explanation"]
    json.dumps(out)
    forced = score_lines(lines[:1], model, threshold=0.0)
    assert forced[0]["verdict"] == "malicious"
    bare = score_lines(lines[:2], model, explain=False)
    assert bare[0]["explanation"] == {}


def test_threshold_at_fpr() -> None:
    y = np.array([0] * 100 + [1] * 10)
    s = np.concatenate([np.linspace(0, 1, 100), np.ones(10)])
    cut = threshold_at_fpr(s, y, 0.05)
    assert (s[:100] >= cut).mean() <= 0.05


def test_group_split_keeps_sites_apart() -> None:
    sites = [f"s{i % 37}.com" for i in range(500)]
    rest, held = group_split(sites, 0.2, np.random.default_rng(0))
    assert not {sites[i] for i in rest} & {sites[i] for i in held}
    assert 50 < len(held) < 200


def test_load_urls_labels_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "data_phishing_2.json").write_text(
        json.dumps(["http://a.example.tk/login", "https://www.a.example.tk/login/", "ftp:"])
    )
    (tmp_path / "legitimate.txt").write_text("https://example.org/\nexample.org/news\n")
    (tmp_path / "notes.md").write_text("ignored")
    data = load_urls(tmp_path)
    assert data.counts["duplicates"] == 1 and data.counts["invalid"] == 1
    assert sorted(data.labels.tolist()) == [0, 0, 1]
    with pytest.raises(InputError, match="not a folder"):
        load_urls(tmp_path / "notes.md")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no phishing/legitimate"):
        load_urls(tmp_path / "empty")


def _event(i: int, ocsf: object, fields: object) -> Event:
    prov = Provenance("proxy.log", "zeek", i, "fp", 0)
    return Event(f"e{i}", 4002, 1_700_000_000_000 + i, ocsf, fields, "", prov)  # type: ignore[arg-type]


def test_url_of_reads_ocsf_and_zeek() -> None:
    assert (
        url_of({"http_request": {"url": {"url_string": "http://a.com/x"}}}, {}) == "http://a.com/x"
    )
    ocsf = {"http_request": {"url": {"hostname": "a.com", "path": "/p", "query_string": "q=1"}}}
    assert url_of(ocsf, {}) == "a.com/p?q=1"
    assert url_of({}, {"host": "a.com", "uri": "/login.php"}) == "a.com/login.php"
    assert url_of(None, None) == "" and url_of({"http_request": 5}, {"host": 3}) == ""


def test_detector_dedups_per_url(trained) -> None:
    model, _ = trained
    bad = "http://paypal.com.verify.city7.example.tk/wp-admin/00aa11bb22cc33dd44ee55ff/verify.php"
    events = [
        _event(i, {"http_request": {"url": {"url_string": bad}}, "src_endpoint": {"ip": ip}}, {})
        for i, ip in ((i, f"10.0.0.{i}") for i in range(1, 8))
    ] + [
        _event(20, {}, {"host": "gardenmusic12.com", "uri": "/about", "id.orig_h": "10.0.0.9"}),
        _event(21, {}, {"host": "", "uri": 5}),
    ]  # fmt: skip
    det = UrlDetector(model, UrlOptions(max_evidences_per_url=3))
    assert det.observe(events[:4]) == [] and det.observe(events[4:]) == []
    findings = det.finish()
    assert len(findings) == 1
    f = findings[0]
    assert [a.technique_uid for a in f.attacks] == ["T1566.002", "T1204.001"]
    assert len(f.evidences) == 3 and f.explanation["requests"] == 7
    assert f.explanation["clients"] == 7 and "terms" in f.explanation
    assert det.stats()["scored"] == 2
    internal = [
        _event(30 + i, {}, {"host": host, "uri": "/admin/login.php?session=1"})
        for i, host in enumerate(["10.1.2.3", "192.168.0.10", "intranet", "wiki.corp.local"])
    ]
    det = UrlDetector(model, UrlOptions())
    det.observe(internal)
    assert det.finish() == [] and det.stats()["skipped_internal"] == 4
    allow = UrlDetector(model, UrlOptions(allowlist=("example.tk",)))
    allow.observe(events)
    assert allow.finish() == [] and allow.stats()["skipped_allowlist"] == 7
