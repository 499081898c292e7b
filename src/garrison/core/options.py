"""The one options loader: a ``garrison.toml`` table -> a typed dataclass, or a clear error.

Every stage and every detector describes its table as a dataclass; ``load_options`` checks
the table against it before any work starts:

* a key the dataclass has no field for is an error (never silently ignored);
* a value is checked against the field's annotation: ``bool``, ``int`` (a bool is not an
  int), ``float`` (an int is accepted and widened), ``str``, ``list[X]``, ``tuple[X, ...]``
  (a TOML array becomes a tuple), ``dict[str, X]``, ``X | None``, ``Literal[...]``,
  ``Any``, a nested dataclass (a sub-table) and a list of them (an array of tables);
* ranges, allowed values, allowed dict keys, a TOML name that differs from the field name
  and a conversion (a duration string -> ms, a file of names -> a tuple) are declared once,
  on the field, with ``option(...)``.

Every error is an ``OptionsError`` (an ``InputError``: exit 2) whose message names the
table, the key and the file::

    garrison.toml: [detectors."ml.dga"] threshold: expected float, got str 'high'

Why one loader: three behaviours used to coexist (unknown keys silently ignored, reported
in summary.json after the run, or raised), so a misspelt option did nothing and said
nothing in some tables. Now a mistake is the same one-line error everywhere.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

from garrison.core.errors import InputError

T = TypeVar("T")

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
#: How much of an offending value an error message quotes.
_QUOTE = 40
_META = "garrison.option"


class OptionsError(InputError):
    """A table of the configuration cannot be used; names the table, the key and the file."""

    def __init__(self, table: str, key: str, reason: str, file: Path | str | None = None):
        self.table, self.key, self.reason, self.file = table, key, reason, file
        where = f"[{table}] {key}" if key else f"[{table}]"
        prefix = f"{file}: " if file else "config "
        super().__init__(f"{prefix}{where}: {reason}")


@dataclass(frozen=True, slots=True)
class Spec:
    """What ``option()`` declares on a field beyond its type."""

    min: float | None = None
    max: float | None = None
    #: Allowed values (of a scalar, or of each item of a list / value of a dict).
    choices: tuple[Any, ...] | None = None
    #: Allowed keys of a dict-valued field.
    keys: tuple[str, ...] | None = None
    #: The TOML key when it differs from the field name (``window`` -> ``window_ms``).
    key: str | None = None
    #: The type accepted from TOML when it differs from the stored type (checked first).
    accepts: Any = None
    #: Applied after the checks; raises ``ValueError`` or ``OSError`` on a bad value.
    convert: Callable[[Any], Any] | None = None
    #: A string that must not be empty.
    nonempty: bool = False


def option(
    default: Any = MISSING,
    *,
    default_factory: Callable[[], Any] | Any = MISSING,
    min: float | None = None,
    max: float | None = None,
    choices: Sequence[Any] | None = None,
    keys: Sequence[str] | None = None,
    key: str | None = None,
    accepts: Any = None,
    convert: Callable[[Any], Any] | None = None,
    nonempty: bool = False,
) -> Any:
    """A dataclass field with its checks: ``threshold: float = option(0.5, min=0, max=1)``."""
    spec = Spec(
        min,
        max,
        tuple(choices) if choices is not None else None,
        tuple(keys) if keys is not None else None,
        key,
        accepts,
        convert,
        nonempty,
    )
    return dataclasses.field(
        default=default, default_factory=default_factory, metadata={_META: spec}
    )


def table_name(*parts: str) -> str:
    """A TOML table header for ``parts``, quoting what is not a bare key.

    >>> table_name("detectors", "ml.dga"), table_name("ingest", "evtx")
    ('detectors."ml.dga"', 'ingest.evtx')
    """
    return ".".join(p if _BARE_KEY.match(p) else '"' + p.replace('"', '\\"') + '"' for p in parts)


class _Bad(ValueError):
    """A value does not fit; the message says why (the caller adds table, key and file)."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    key: str
    type: Any
    spec: Spec
    required: bool


_FIELDS: dict[type[Any], tuple[_Field, ...]] = {}


def fields_of(cls: type[Any]) -> tuple[_Field, ...]:
    """The settable fields of an options dataclass, with their resolved types (cached)."""
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = _resolve_fields(cls)
    return known


def _resolve_fields(cls: type[Any]) -> tuple[_Field, ...]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        spec = f.metadata.get(_META) or Spec()
        required = f.default is MISSING and f.default_factory is MISSING
        out.append(_Field(f.name, spec.key or f.name, hints[f.name], spec, required))
    return tuple(out)


def option_keys(cls: type[Any]) -> list[str]:
    """The TOML keys a table of ``cls`` accepts."""
    return sorted(f.key for f in fields_of(cls))


def load_options(cls: type[T], table: Any, *, where: str, file: Path | str | None = None) -> T:
    """``table`` (a parsed TOML table, or ``None`` for an absent one) as a ``cls``.

    ``where`` is the table's name as written in the file (``detectors."ml.dga"``).
    Raises ``OptionsError`` naming the table, the first offending key and ``file``.
    """
    if table is None:
        table = {}
    if not isinstance(table, Mapping):
        raise OptionsError(where, "", f"must be a table, got {_kind(table)}", file)
    known = fields_of(cls)
    by_key = {f.key: f for f in known}
    unknown = sorted(str(k) for k in table if k not in by_key)
    if unknown:
        more = f" (also unknown: {', '.join(unknown[1:])})" if len(unknown) > 1 else ""
        raise OptionsError(
            where, unknown[0], f"unknown key{more}: {_hint(unknown[0], by_key)}", file
        )
    missing = [f.key for f in known if f.required and f.key not in table]
    if missing:
        needed = " and ".join(repr(f.key) for f in known if f.required)
        raise OptionsError(where, missing[0], f"missing; needs {needed}", file)
    values: dict[str, Any] = {}
    for f in known:
        if f.key in table:
            values[f.name] = _field_value(f, table[f.key], where, file)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a __post_init__ that refuses a combination
        raise OptionsError(where, "", str(exc), file) from exc


def check_option(value: Any, tp: Any, table: str, key: str, file: Path | str | None = None) -> Any:
    """One value checked against ``tp`` outside a dataclass (``[detectors] disabled``)."""
    try:
        return check_type(value, tp)
    except ValueError as exc:
        raise OptionsError(table, key, str(exc), file) from exc


def _field_value(f: _Field, value: Any, where: str, file: Path | str | None) -> Any:
    spec = f.spec
    try:
        if dataclasses.is_dataclass(f.type) and spec.accepts is None:
            if not isinstance(value, Mapping):
                raise _Bad(f"expected a table, got {_kind(value)}")
            return load_options(f.type, value, where=f"{where}.{f.key}", file=file)  # type: ignore[arg-type]
        item = _nested_item(f.type)
        if item is not None and spec.accepts is None:
            if not isinstance(value, list):
                raise _Bad(f"expected an array of tables, got {_kind(value)}")
            return [
                load_options(item, v, where=f"{where}.{f.key} #{i}", file=file)
                for i, v in enumerate(value, 1)
            ]
        checked = check_type(value, spec.accepts if spec.accepts is not None else f.type)
        _check_spec(checked, spec)
        return spec.convert(checked) if spec.convert is not None else checked
    except OptionsError:
        raise
    except (ValueError, OSError) as exc:  # _Bad, or a conversion that refused the value
        raise OptionsError(where, f.key, _reason(exc), file) from exc


def _hint(key: str, known: Iterable[str]) -> str:
    """The closest known key when there is one (a typo), else every known key."""
    close = difflib.get_close_matches(key, list(known), n=1)
    if close:
        return f"no setting of that name; did you mean {close[0]!r}?"
    return f"no setting of that name (known: {', '.join(sorted(known)) or 'none'})"


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"cannot read {exc.filename or 'the file'}: {exc.strerror or exc}"
    return str(exc)


def _nested_item(tp: Any) -> type[Any] | None:
    """The dataclass of a ``list[SomeDataclass]`` field (an array of tables), else None."""
    if get_origin(tp) is list:
        (arg,) = get_args(tp) or (Any,)
        if isinstance(arg, type) and dataclasses.is_dataclass(arg):
            return arg
    return None


def _check_spec(value: Any, spec: Spec) -> None:
    if spec.keys is not None and isinstance(value, Mapping):
        bad = sorted(k for k in value if k not in spec.keys)
        if bad:
            raise _Bad(f"unknown key {bad[0]!r} (known: {', '.join(spec.keys)})")
    items = _items(value)
    for item in items:
        if spec.choices is not None and item not in spec.choices:
            raise _Bad(f"{_quote(item)} is not one of {', '.join(map(str, spec.choices))}")
        if spec.nonempty and isinstance(item, str) and not item.strip():
            raise _Bad("must not be empty")
        if isinstance(item, int | float) and not isinstance(item, bool):
            if spec.min is not None and item < spec.min:
                raise _Bad(f"{item} is below the minimum {spec.min:g}")
            if spec.max is not None and item > spec.max:
                raise _Bad(f"{item} is above the maximum {spec.max:g}")


def _items(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def check_type(value: Any, tp: Any) -> Any:
    """``value`` if it fits ``tp`` (arrays made tuples for tuple types, ints widened to
    floats for float types); else ``ValueError`` saying what was expected."""
    if tp is Any or tp is object:
        return value
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Union or origin is types.UnionType:
        for arm in args:
            try:
                return check_type(value, arm)
            except _Bad:
                continue
        raise _Bad(f"expected {describe(tp)}, got {_kind(value)}")
    if origin is typing.Literal:
        if value in args and type(value) in {type(a) for a in args}:
            return value
        raise _Bad(f"{_quote(value)} is not one of {', '.join(map(str, args))}")
    if origin in (list, tuple, frozenset):
        return _sequence(value, tp, origin, args)
    if origin is dict or origin is Mapping:
        return _mapping(value, tp, args)
    return _scalar(value, tp)


def _scalar(value: Any, tp: Any) -> Any:
    if tp is type(None) or tp is None:
        if value is None:
            return None
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
        # a table inside a container (``[guard.roles.NAME]``): its problems are named by
        # the container's key, so the error names the file's table, not this class
        if not isinstance(value, Mapping):
            raise _Bad(f"expected a table, got {_kind(value)}")
        try:
            return load_options(tp, value, where=tp.__name__)
        except OptionsError as exc:
            raise _Bad(f"{exc.key}: {exc.reason}" if exc.key else exc.reason) from None
    elif isinstance(tp, type):
        if isinstance(value, tp):
            return value
    else:
        raise TypeError(f"options loader: unsupported annotation {tp!r}")
    raise _Bad(f"expected {describe(tp)}, got {_kind(value)}")


def _sequence(value: Any, tp: Any, origin: Any, args: tuple[Any, ...]) -> Any:
    if not isinstance(value, list | tuple):
        raise _Bad(f"expected {describe(tp)}, got {_kind(value)}")
    item_type = args[0] if args else Any
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            raise _Bad(f"expected {describe(tp)}, got {len(value)} items")
        return tuple(_item(v, a, i) for i, (v, a) in enumerate(zip(value, args, strict=True)))
    items = [_item(v, item_type, i) for i, v in enumerate(value)]
    return origin(items) if origin is not list else items


def _item(value: Any, tp: Any, index: int) -> Any:
    try:
        return check_type(value, tp)
    except _Bad as exc:
        raise _Bad(f"item {index + 1}: {exc}") from None


def _mapping(value: Any, tp: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _Bad(f"expected {describe(tp)}, got {_kind(value)}")
    value_type = args[1] if len(args) == 2 else Any
    out: dict[str, Any] = {}
    for k, v in value.items():
        if not isinstance(k, str):
            raise _Bad(f"expected {describe(tp)}, got a key {_quote(k)}")
        try:
            out[k] = check_type(v, value_type)
        except _Bad as exc:
            raise _Bad(f"{_quote(k)}: {exc}") from None
    return out


def describe(tp: Any) -> str:
    """A type as a TOML user reads it.

    >>> describe(list[str]), describe(int | None), describe(dict[str, float])
    ('array of str', 'int or nothing', 'table of float')
    """
    origin, args = get_origin(tp), get_args(tp)
    if origin is Union or origin is types.UnionType:
        return " or ".join(describe(a) for a in args)
    if origin in (list, tuple, frozenset):
        inner = [a for a in args if a is not Ellipsis]
        return "array of " + (" and ".join(describe(a) for a in inner) if inner else "values")
    if origin is dict or origin is Mapping:
        return "table of " + (describe(args[1]) if len(args) == 2 else "values")
    if origin is typing.Literal:
        return "one of " + ", ".join(map(str, args))
    if tp is type(None) or tp is None:
        return "nothing"
    if tp is Any:
        return "any value"
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return "table"
    return getattr(tp, "__name__", str(tp))


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return f"{type(value).__name__} {_quote(value)}"


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE else text[: _QUOTE - 3] + "..."


# --------------------------------------------------------------------- shared conversions
def read_name_list(path: Path) -> list[str]:
    """One name per line of a file; ``#`` starts a comment; blank lines skipped."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [s for s in (ln.split("#", 1)[0].strip() for ln in lines) if s]


def names_or_file(value: str | Sequence[str]) -> tuple[str, ...]:
    """An allowlist given as an array of names or as the path of a file of names,
    normalised for comparison with parsed domains: lower case, no trailing dot."""
    names = read_name_list(Path(value)) if isinstance(value, str) else list(value)
    return tuple(n for n in (x.strip().lower().rstrip(".") for x in names) if n)


def names_option() -> Any:
    """A field holding an allowlist of domains: a TOML array of names or a file's path."""
    return option((), accepts=list[str] | str, convert=names_or_file)
