# ruff: noqa: RUF001, RUF002  (the confusable letters are the point of this module)
"""Visual skeletons of domain labels: the idea of Unicode TR39 confusable detection.

Two labels that look alike get the same skeleton: compatibility forms are folded (NFKC,
case folded), accents dropped (NFKD without combining marks), Cyrillic, Greek and other
letters drawn like Latin ones mapped to that Latin letter, and the ASCII tricks TR39 also
lists (``1``/``|`` for ``l``, ``0`` for ``o``, ``rn`` for ``m``, ``vv`` for ``w``, ``cl``
for ``d``). The table is a hand-written subset of the letters seen in homograph attacks,
not the full TR39 data: a letter not in it keeps its own form, so an unusual confusable can
be missed, never invented.

>>> skeleton("pаypal")  # Cyrillic а
'paypal'
>>> skeleton("rnicrosoft"), skeleton("g00gle"), skeleton("ébay")
('microsoft', 'google', 'ebay')
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

#: Single letters drawn like a Latin letter (lower case, after NFKC and case folding).
_LETTERS = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "ь": "b",
    "с": "c",
    "ԁ": "d",
    "е": "e",
    "ё": "e",
    "һ": "h",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "к": "k",
    "ӏ": "l",
    "м": "m",
    "п": "n",
    "о": "o",
    "р": "p",
    "ԛ": "q",
    "ѕ": "s",
    "т": "t",
    "у": "y",
    "ԝ": "w",
    "х": "x",
    "ү": "y",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    # Latin letters without a decomposition, IPA and others
    "ı": "i",
    "ɩ": "i",
    "ł": "l",
    "ƚ": "l",
    "ɫ": "l",
    "ɑ": "a",
    "ɡ": "g",
    "ɢ": "g",
    "ø": "o",
    "ɵ": "o",
    "đ": "d",
    "ħ": "h",
    "ŋ": "n",
    "ʀ": "r",
    "ʏ": "y",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    # digits and symbols read as letters
    "0": "o",
    "1": "l",
    "|": "l",
    "ǀ": "l",
}
#: Letter pairs drawn like one letter, applied after the single letters.
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))


@lru_cache(maxsize=131_072)
def skeleton(label: str) -> str:
    """The label as it looks: equal skeletons mean the labels are visually confusable."""
    text = unicodedata.normalize("NFKC", label).casefold()
    text = "".join(_LETTERS.get(ch, ch) for ch in text)
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = "".join(_LETTERS.get(ch, ch) for ch in text)
    for pair, single in _PAIRS:
        text = text.replace(pair, single)
    return text


def mixed_script(label: str) -> bool:
    """Whether a label mixes Latin letters with letters of another script (a homograph sign)."""
    scripts = set()
    for ch in label:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        scripts.add(name.split(" ", 1)[0] if name else "?")
    return len(scripts) > 1 and "LATIN" in scripts
