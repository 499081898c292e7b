"""The phishing-URL model as an evasion target, on the corpus's phishing and legitimate URLs.

The URL model is linear: its log-odds are a bias, the host's n-gram term, the path and
query's n-gram term and one term per lexical feature. The attack space is exactly that:
the two n-gram terms (log-odds, as the shipped model computes them) and the raw lexical
features. A phishing author controls the path, query and subdomain, not the registered
domain: controlled are the path/query n-gram term and features, the host features a
subdomain changes (length, labels, digits, hyphens, longest label, brand or credential
words in the subdomain) and the host n-gram term (through the subdomain's n-grams; it also
holds the registered domain's, so this is generous to the attacker); not controlled are
the top-level domain kind, IP or punycode host, a missing public suffix and a brand in
the registered label.

Both sides are logistic models over these features, fitted on a split that keeps whole
sites apart from the test split: the undefended side by plain maximum likelihood (the
shipped recipe's form), the defended side by exact adversarial training for a linear
model (``robust_logistic``): each phishing row is scored as if moved the worst way by an
L2 step of ``radius`` in the controlled features, which for a linear model is its logit
minus ``radius * ||w_controlled||``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from garrison.core.errors import InputError
from garrison.detect.ml.url.data import group_split, load_urls
from garrison.detect.ml.url.lexical import HOST_FEATURES, LEXICAL, PATH_FEATURES, lexical_matrix
from garrison.detect.ml.url.model import load_model
from garrison.detect.ml.url.parse import ParsedUrl
from garrison.measure.redteam.contract import Target
from garrison.measure.redteam.space import F64, Bools, EvasionSetup, Side, clean_figures

FEATURES = ("host_ngrams", "path_ngrams", *LEXICAL)
_SUBDOMAIN_HOST = (
    "host_length", "host_labels", "subdomain_depth", "host_digits", "host_hyphens",
    "longest_host_label", "brand_in_subdomain", "host_suspicious_words",
)  # fmt: skip
CONTROLLED = np.array(
    [f in ("host_ngrams", "path_ngrams", *_SUBDOMAIN_HOST, *PATH_FEATURES) for f in FEATURES]
)
#: Adversarial-training radius (L2, in units of each feature's range).
RADIUS = 0.03
L2_PENALTY = 1e-3
TEST_SHARE = 0.3
TARGET_FPR = 0.01
#: Features entered as log1p(count): realisable values are log1p of whole numbers.
_LOG_COUNTS = (
    "host_length", "host_digits", "host_hyphens", "longest_host_label", "host_suspicious_words",
    "path_length", "query_length", "percent_escapes", "path_suspicious_words", "url_length",
)  # fmt: skip
_COUNTS = ("host_labels", "subdomain_depth", "path_depth", "query_params")
NOTES = [
    "url: the host n-gram term is treated as controlled through the subdomain (generous "
    "to the attacker: it also holds the registered domain's n-grams)",
    "url: realisable = counts whole (log1p features at log1p of whole numbers), flags 0/1, "
    "the registered domain's label count unchanged, lengths bounded by the URL's; the "
    "n-gram terms are only kept in their observed range: no URL is searched for",
    "url: the n-gram terms are the shipped model's, which saw these corpus URLs in "
    "training; both sides share them",
]


def build(target: Target, radius: float = RADIUS) -> EvasionSetup:
    try:
        data = load_urls(target.corpus / "phishing-urls")
    except InputError as exc:
        raise InputError(f"redteam url: {exc}") from exc
    rng = np.random.default_rng(target.seed)
    rows = np.concatenate(
        [
            rng.choice(np.flatnonzero(data.labels == label), n, replace=False)
            for label in (0, 1)
            for n in [min(target.per_group, int((data.labels == label).sum()))]
        ]
    )
    urls = data.take(np.sort(rows))
    x = features(urls.urls)
    y = urls.labels
    train, test = group_split(urls.sites, TEST_SHARE, rng)
    lo, hi = np.nanmin(x[train], axis=0), np.nanmax(x[train], axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    sides = []
    for name, eps in (("undefended", 0.0), ("defended", radius)):
        w, b = robust_logistic((x[train] - lo) / span, y[train], CONTROLLED, eps)
        sides.append(_side(name, w / span, b - float((w / span) @ lo), x, y, train, test))
    mal = test[y[test] == 1]
    both = mal[sides[0].flags(x[mal]) & sides[1].flags(x[mal])]
    pick = np.random.default_rng([target.seed, 1])
    chosen = np.sort(pick.choice(both, min(target.points, len(both)), replace=False))
    return EvasionSetup(
        FEATURES, CONTROLLED, lo, hi, sides[0], sides[1], x[chosen], x[train],
        lambda orig, adv: realise(orig, adv, lo, hi), [*NOTES, f"url: defence radius {radius}"],
    )  # fmt: skip


def features(urls: list[ParsedUrl]) -> F64:
    """(host n-gram term, path n-gram term, raw lexical features) per parsed URL."""
    terms = load_model().terms(urls)
    lex = lexical_matrix(urls).astype(np.float64)
    return np.column_stack([terms.host, terms.rest, lex])


def robust_logistic(
    u: F64, y: NDArray[np.int64], controlled: Bools, eps: float
) -> tuple[F64, float]:
    """Weights and bias minimising the logistic loss with every positive row's logit
    lowered by ``eps * ||w[controlled]||`` (its worst L2 move of ``eps``), classes weighed
    equally, plus a small L2 penalty."""
    pos = (y == 1).astype(np.float64)
    weight = np.where(y == 1, 0.5 / max(pos.sum(), 1), 0.5 / max(len(y) - pos.sum(), 1))

    def loss(theta: F64) -> tuple[float, F64]:
        w, b = theta[:-1], theta[-1]
        wc = w * controlled
        norm = float(np.sqrt(wc @ wc + 1e-12))
        z = u @ w + b - eps * norm * pos
        sign = np.where(y == 1, -1.0, 1.0)
        m = sign * z
        value = float(weight @ np.logaddexp(0.0, m)) + L2_PENALTY * float(w @ w)
        g = weight * sign / (1.0 + np.exp(-m))  # d loss / d z
        grad_w = u.T @ g - (g @ pos) * eps * wc / norm + 2 * L2_PENALTY * w
        return value, np.append(grad_w, g.sum())

    theta0 = np.zeros(u.shape[1] + 1)
    result = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return result.x[:-1], float(result.x[-1])


def _side(
    name: str, w: F64, b: float, x: F64, y: NDArray[np.int64], train: NDArray[np.int64],
    test: NDArray[np.int64],
) -> Side:  # fmt: skip
    benign = np.sort(x[train][y[train] == 0] @ w + b)[::-1]
    cut = float(benign[int(np.floor(TARGET_FPR * len(benign)))]) + 1e-9

    def margin(rows: F64) -> F64:
        return np.asarray(rows @ w + b - cut, dtype=np.float64)

    return Side(name, margin, clean_figures(margin(x[test]), y[test]))


def realise(orig: F64, adv: F64, lo: F64, hi: F64) -> tuple[F64, Bools]:
    """Projected rows (see NOTES) and whether each could be a real URL's features."""
    idx = {f: i for i, f in enumerate(FEATURES)}
    x = np.clip(adv, lo, hi)
    for f in _LOG_COUNTS:
        x[:, idx[f]] = np.log1p(np.round(np.expm1(x[:, idx[f]])))
    for f in _COUNTS:
        x[:, idx[f]] = np.round(x[:, idx[f]])
    for f in (*HOST_FEATURES, *PATH_FEATURES):
        if f not in _LOG_COUNTS and f not in _COUNTS and f != "path_digit_share":
            x[:, idx[f]] = np.round(x[:, idx[f]])

    def count(f: str) -> F64:
        return np.expm1(x[:, idx[f]])

    ok = (x[:, idx["host_labels"]] - x[:, idx["subdomain_depth"]]) == (
        orig[:, idx["host_labels"]] - orig[:, idx["subdomain_depth"]]
    )
    ok &= count("longest_host_label") <= count("host_length")
    ok &= count("host_digits") + count("host_hyphens") <= count("host_length")
    ok &= x[:, idx["path_depth"]] <= np.maximum(count("path_length"), 0)
    ok &= count("host_length") + count("path_length") <= count("url_length") + 1e-6
    return x, ok
