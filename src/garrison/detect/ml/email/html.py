"""HTML to text and links, with the standard library's tokenizer only.

Nothing is fetched, run or rendered: ``html.parser.HTMLParser`` tokenizes; script and style
contents are dropped; every ``<a href>`` is kept with the text it shows, so the features can
compare the domain a link *says* with the domain it *goes to*. Input is capped before parsing
and the tokenizer's own errors are swallowed (a hostile message must not stop a batch).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: Characters of HTML parsed at most; the rest is ignored.
MAX_HTML = 400_000
#: Links kept per message.
MAX_LINKS = 500
_SKIP = {"script", "style", "head", "title", "noscript", "template"}
_BLOCK = {"p", "br", "div", "tr", "li", "td", "h1", "h2", "h3", "h4", "table", "hr"}


@dataclass(slots=True)
class Link:
    href: str
    text: str


@dataclass(slots=True)
class HtmlContent:
    text: str
    links: list[Link] = field(default_factory=list)
    forms: int = 0
    password_inputs: int = 0
    images: int = 0
    hidden_text: int = 0


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.anchor: list[str] | None = None
        self.href = ""
        self.out = HtmlContent("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        if tag == "a" and "href" in values and len(self.out.links) < MAX_LINKS:
            self.anchor = []
            self.href = values["href"].strip()
        elif tag == "form":
            self.out.forms += 1
        elif tag == "input" and values.get("type", "").lower() == "password":
            self.out.password_inputs += 1
        elif tag == "img":
            self.out.images += 1
        style = values.get("style", "").replace(" ", "").lower()
        if "display:none" in style or "font-size:0" in style or "visibility:hidden" in style:
            self.out.hidden_text += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip:
            self.skip -= 1
        elif tag == "a" and self.anchor is not None:
            self.out.links.append(Link(self.href, " ".join("".join(self.anchor).split())))
            self.anchor = None

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.parts.append(data)
        if self.anchor is not None:
            self.anchor.append(data)


def html_to_text(markup: str) -> HtmlContent:
    """Visible text (roughly) and the links of an HTML document; never raises."""
    parser = _Extractor()
    try:
        parser.feed(markup[:MAX_HTML])
        parser.close()
    except Exception:  # noqa: S110 - hostile markup: keep what was read
        pass
    if parser.anchor is not None:
        parser.out.links.append(Link(parser.href, " ".join("".join(parser.anchor).split())))
    text = html.unescape("".join(parser.parts)) if parser.parts else ""
    parser.out.text = text
    return parser.out


def looks_like_html(text: str) -> bool:
    """A plain body that is really HTML (the ``subject``+``body`` input shape has no MIME type)."""
    head = text[:4000].lower()
    return any(tag in head for tag in ("<html", "<body", "<a href", "<div", "<p>", "<br", "<table"))
