"""What the benign network looks like from DNS: popular services, a long tail, CDNs, typos.

Popular names follow a Zipf-like weighting; the long tail is built from two dictionary
words (which is also what dictionary-based DGAs look like, a fair trap for a DGA model);
CDN names include random-looking CloudFront distributions. Each name resolves to stable
addresses inside its provider's real address blocks, so the same domain gets the same
answers for the whole data set.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from garrison.demo.world import World, rng_for

#: provider -> address prefixes its services answer from (real, publicly documented blocks).
PROVIDERS: dict[str, tuple[str, ...]] = {
    "google": ("142.250.", "172.217.", "216.58.", "142.251."),
    "microsoft": ("13.107.", "20.190.", "40.126.", "52.113.", "52.96."),
    "akamai": ("23.45.", "23.55.", "2.16.", "184.84."),
    "cloudflare": ("104.16.", "104.18.", "172.67.", "104.21."),
    "fastly": ("151.101.",),
    "aws": ("52.84.", "54.230.", "18.66.", "3.33."),
    "meta": ("157.240.",),
    "apple": ("17.253.", "17.57."),
    "canonical": ("91.189.91.", "185.125.190."),
    "hosting": (
        "185.199.",
        "91.198.",
        "95.101.",
        "212.58.",
        "81.2.",
        "213.186.",
        "94.100.",
        "37.120.",
        "46.30.",
        "62.210.",
    ),
}

_POPULAR: tuple[tuple[str, str], ...] = (
    ("outlook.office365.com", "microsoft"),
    ("login.microsoftonline.com", "microsoft"),
    ("teams.microsoft.com", "microsoft"),
    ("www.google.com", "google"),
    ("www.office.com", "microsoft"),
    ("graph.microsoft.com", "microsoft"),
    ("www.gstatic.com", "google"),
    ("substrate.office.com", "microsoft"),
    ("aadcdn.msftauth.net", "akamai"),
    ("fonts.googleapis.com", "google"),
    ("statics.teams.cdn.office.net", "akamai"),
    ("www.bing.com", "microsoft"),
    ("edge.microsoft.com", "microsoft"),
    ("nav.smartscreen.microsoft.com", "microsoft"),
    ("fonts.gstatic.com", "google"),
    ("www.linkedin.com", "microsoft"),
    ("static.licdn.com", "akamai"),
    ("www.youtube.com", "google"),
    ("i.ytimg.com", "google"),
    ("accounts.google.com", "google"),
    ("www.googletagmanager.com", "google"),
    ("www.google-analytics.com", "google"),
    ("res.cdn.office.net", "akamai"),
    ("config.edge.skype.com", "microsoft"),
    ("officeclient.microsoft.com", "microsoft"),
    ("en.wikipedia.org", "hosting"),
    ("upload.wikimedia.org", "hosting"),
    ("www.bbc.co.uk", "fastly"),
    ("static.files.bbci.co.uk", "akamai"),
    ("www.theguardian.com", "fastly"),
    ("www.reuters.com", "akamai"),
    ("www.amazon.com", "aws"),
    ("m.media-amazon.com", "aws"),
    ("www.dropbox.com", "aws"),
    ("www.adobe.com", "akamai"),
    ("acrobat.adobe.com", "akamai"),
    ("www.docusign.net", "akamai"),
    ("www.ups.com", "akamai"),
    ("www.dhl.com", "akamai"),
    ("www.fedex.com", "akamai"),
    ("www.maersk.com", "akamai"),
    ("www.marinetraffic.com", "cloudflare"),
    ("weather.com", "akamai"),
    ("www.accuweather.com", "akamai"),
    ("www.paypal.com", "akamai"),
    ("cdn.jsdelivr.net", "fastly"),
    ("cdnjs.cloudflare.com", "cloudflare"),
    ("ajax.googleapis.com", "google"),
    ("code.jquery.com", "fastly"),
    ("www.reddit.com", "fastly"),
    ("www.redditstatic.com", "fastly"),
    ("www.facebook.com", "meta"),
    ("static.xx.fbcdn.net", "meta"),
    ("www.apple.com", "akamai"),
    ("open.spotify.com", "google"),
    ("zoom.us", "aws"),
    ("us02web.zoom.us", "aws"),
    ("www.salesforce.com", "akamai"),
    ("www.nytimes.com", "fastly"),
    ("www.economist.com", "cloudflare"),
    ("www.ft.com", "fastly"),
    ("www.bloomberg.com", "akamai"),
    ("www.booking.com", "akamai"),
    ("www.trainline.com", "cloudflare"),
    ("www.expedia.com", "akamai"),
    ("www.indeed.com", "cloudflare"),
    ("www.glassdoor.com", "cloudflare"),
    ("www.xero.com", "aws"),
    ("www.sage.com", "akamai"),
    ("www.hmrc.gov.uk", "akamai"),
    ("www.gov.uk", "fastly"),
    ("www.canva.com", "cloudflare"),
    ("www.wetransfer.com", "aws"),
    ("www.deepl.com", "hosting"),
    ("translate.google.com", "google"),
    ("maps.googleapis.com", "google"),
    ("www.youtube-nocookie.com", "google"),
)
_DEV: tuple[tuple[str, str], ...] = (
    ("github.com", "hosting"),
    ("api.github.com", "hosting"),
    ("objects.githubusercontent.com", "fastly"),
    ("avatars.githubusercontent.com", "fastly"),
    ("stackoverflow.com", "cloudflare"),
    ("cdn.sstatic.net", "cloudflare"),
    ("pypi.org", "fastly"),
    ("files.pythonhosted.org", "fastly"),
    ("registry.npmjs.org", "cloudflare"),
    ("www.npmjs.com", "cloudflare"),
    ("hub.docker.com", "aws"),
    ("registry-1.docker.io", "aws"),
    ("production.cloudflare.docker.com", "cloudflare"),
    ("api.nuget.org", "microsoft"),
    ("marketplace.visualstudio.com", "microsoft"),
    ("update.code.visualstudio.com", "microsoft"),
    ("learn.microsoft.com", "akamai"),
    ("docs.python.org", "fastly"),
    ("developer.mozilla.org", "aws"),
    ("www.postgresql.org", "hosting"),
)
_WORDS_TEXT = (
    "harbor view north field cycling dental garden river stone bright lake mill oak pine "
    "cedar maple green blue red golden silver coastal valley summit ridge bay harvest "
    "market studio craft supply works travel fresh kitchen coffee bakery books music photo "
    "design legal family health care home auto parts tools pets yoga fitness wine local "
    "city county school club sport league press news daily weekly journal times post "
    "insight tech cloud data smart pro plus hub point port freight cargo fleet marine "
    "anchor compass beacon bridge castle forest meadow orchard prairie"
)
_WORDS = tuple(_WORDS_TEXT.split())
_TAIL_TLDS = (
    ".com",
    ".com",
    ".com",
    ".co.uk",
    ".net",
    ".org",
    ".de",
    ".nl",
    ".io",
    ".pt",
    ".ie",
    ".fr",
)


@dataclass(slots=True, frozen=True)
class Answer:
    rcode: int
    answers: tuple[str, ...]
    ttls: tuple[float, ...]

    @property
    def ips(self) -> list[str]:
        return [a for a in self.answers if _is_ip(a)]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class Catalog:
    """Benign domains, their weights and stable answers, for one world."""

    def __init__(self, world: World) -> None:
        self.world = world
        rng = rng_for(world.seed, "domains")
        tenant = world.netbios.lower()
        popular = [
            *_POPULAR,
            (f"{tenant}.sharepoint.com", "microsoft"),
            (f"{tenant}-my.sharepoint.com", "microsoft"),
        ]
        self.cloudfront = tuple(
            "d"
            + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(13))
            + ".cloudfront.net"
            for _ in range(14)
        )
        tail: set[str] = set()
        while len(tail) < 320:
            tail.add(rng.choice(_WORDS) + rng.choice(_WORDS) + rng.choice(_TAIL_TLDS))
        self.tail = tuple(sorted(tail))
        self.popular = tuple(name for name, _ in popular)
        self.dev = tuple(name for name, _ in _DEV)
        self.provider = {name: prov for name, prov in (*popular, *_DEV)}
        self.provider.update({name: "aws" for name in self.cloudfront})
        self.provider.update({name: "hosting" for name in self.tail})
        # Zipf-like weights: rank r gets 1/r.
        self.popular_weights = tuple(1.0 / (i + 1) ** 0.9 for i in range(len(self.popular)))
        self.internal = {h.name.lower(): h.ip for h in world.hosts}
        self.internal.update({h.fqdn.lower(): h.ip for h in world.hosts})
        self._typos = tuple(sorted(_typos(rng, self.popular[:40], 60)))

    def browse_target(self, rng: random.Random, dev: bool) -> str:
        """The site a user visits next: mostly popular, sometimes the tail or a dev site."""
        roll = rng.random()
        if dev and roll < 0.25:
            return rng.choice(self.dev)
        if roll < 0.86:
            return rng.choices(self.popular, weights=self.popular_weights)[0]
        return rng.choice(self.tail)

    def embedded(self, rng: random.Random, site: str) -> list[str]:
        """Third-party names a page pulls in (CDNs, fonts, analytics)."""
        pool = (
            "fonts.gstatic.com",
            "www.googletagmanager.com",
            "cdn.jsdelivr.net",
            "ajax.googleapis.com",
            "www.google-analytics.com",
            "cdnjs.cloudflare.com",
        )
        picks = rng.sample(pool, k=rng.randint(0, 2))
        if rng.random() < 0.25:
            picks.append(rng.choice(self.cloudfront))
        return [p for p in picks if p != site]

    def typo(self, rng: random.Random) -> str:
        return rng.choice(self._typos)

    def resolve(self, name: str) -> Answer:
        """The answer the resolver gives; unknown names are NXDOMAIN."""
        low = name.lower().rstrip(".")
        if low in self.internal:
            return Answer(0, (self.internal[low],), (1200.0,))
        provider = self.provider.get(low)
        if provider is None:
            return Answer(3, (), ())
        return Answer(0, *self._addresses(low, provider))

    def add(self, name: str, provider: str) -> None:
        """Register a name (the periodic services use their own)."""
        self.provider[name] = provider

    def _addresses(self, name: str, provider: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
        d = self.world.digest("dns", name)
        prefixes = PROVIDERS[provider]
        count = 1 + int(d[0], 16) % 3
        ips = []
        for i in range(count):
            prefix = prefixes[int(d[2 + i * 6 : 4 + i * 6], 16) % len(prefixes)]
            ips.append(
                f"{prefix}{int(d[4 + i * 6 : 6 + i * 6], 16) % 254 + 1}."
                f"{int(d[6 + i * 6 : 8 + i * 6], 16) % 254 + 1}"
            )
        ttl = (60.0, 300.0, 300.0, 3600.0)[int(d[1], 16) % 4]
        if provider == "akamai":
            edge = f"e{int(d[20:25], 16) % 90000 + 1000}.dscb.akamaiedge.net"
            return (f"{name}.edgekey.net", edge, *ips), (ttl, 20.0, *([20.0] * len(ips)))
        return tuple(ips), tuple([ttl] * len(ips))


def _typos(rng: random.Random, names: tuple[str, ...], count: int) -> set[str]:
    """Mistyped names: a letter dropped, doubled or swapped in the registered label."""
    out: set[str] = set()
    while len(out) < count:
        name = rng.choice(names)
        labels = name.split(".")
        idx = len(labels) - 2
        word = labels[idx]
        if len(word) < 4:
            continue
        i = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(3)
        if kind == 0:
            word = word[:i] + word[i + 1 :]
        elif kind == 1:
            word = word[:i] + word[i] + word[i:]
        else:
            word = word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
        labels[idx] = word
        typo = ".".join(labels)
        if typo != name:
            out.add(typo)
    return out
