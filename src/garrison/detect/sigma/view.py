"""The per-event view rules match against: field values lower-cased once, on first use.

Sigma string matching is case-insensitive, so every rule compares lower-case text. Doing the
lower-casing once per event and field (not once per rule) is most of what makes evaluation
cheap: ``EventView`` is a dict of lower-cased values filled lazily by ``__missing__``.

A key may also be a template such as ``"{SubjectDomainName}\\{SubjectUserName}"`` (from a
field map): it is built from the named fields and is absent when any part is absent.
"""

from __future__ import annotations

import re
from typing import Any

Low = str | tuple[str, ...] | None

_TEMPLATE = re.compile(r"\{([^{}]+)\}")

#: Key of the pseudo-field holding every field value, lower-cased, NUL-separated. Keywords
#: (field-less values) are searched there with one scan instead of one per field.
ALL_TEXT = "\x00*"


def lower_value(value: Any) -> Low:
    """The lower-case text form of a field value; a list gives a tuple of its items' forms."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value.lower()  # type: ignore[no-any-return,unused-ignore]
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (list, tuple)):
        items = [lower_value(v) for v in value]
        return tuple(i for i in items if isinstance(i, str))
    return str(value).lower()


def raw_text(value: Any) -> str | None:
    """The text form of a raw value, as case-sensitive matches (regex, ``cased``) see it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_template(template: str, fields: dict[str, Any]) -> str | None:
    missing = False

    def part(m: re.Match[str]) -> str:
        nonlocal missing
        v = raw_text(fields.get(m.group(1)))
        if v is None:
            missing = True
            return ""
        return v

    out = _TEMPLATE.sub(part, template)
    return None if missing else out


class EventView(dict[str, Low]):
    """Lazily lower-cased field values of one event; ``fields`` is the event's flat dict."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__()
        self.fields = fields

    def __missing__(self, key: str) -> Low:
        value = self.fields.get(key)
        if type(value) is str:
            low: Low = value.lower()
        elif key[:1] == "{":
            low = lower_value(render_template(key, self.fields))
        elif key == ALL_TEXT:
            low = all_text(self.fields)
        else:
            low = lower_value(value)
        self[key] = low
        return low

    def raw(self, key: str) -> Any:
        """The original value of a field (or template), for case-sensitive matching."""
        if key[:1] == "{":
            return render_template(key, self.fields)
        return self.fields.get(key)

    def has(self, key: str) -> bool:
        """True when the field is present with a value (``exists``)."""
        return self.raw(key) is not None


def all_text(fields: dict[str, Any]) -> str:
    """Every value of the event as one lower-case text, values separated by NUL."""
    parts: list[str] = []
    add = parts.append
    for value in fields.values():
        kind = type(value)
        if kind is str:
            add(value)
        elif value is None:
            continue
        elif kind is int:
            add(str(value))
        elif isinstance(value, (list, tuple)):
            parts.extend(t for t in (raw_text(v) for v in value) if t is not None)
        else:
            text = raw_text(value)
            if text is not None:
                add(text)
    return "\x00".join(parts).lower()
