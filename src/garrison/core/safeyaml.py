"""The one YAML loader for anything a user hands Garrison (rules, field maps, asset lists).

PyYAML's composer is recursive: a document nested 50,000 levels deep overflows the C stack
inside the libyaml binding and kills the whole process (no exception, exit 139). Anchors and
aliases can also describe a document whose expanded size is exponential in its text
("billion laughs"), or a recursive one that later code walks forever. So before anything is
composed, the text goes through three checks:

1. a byte cap;
2. a pass over libyaml's *event* stream, which is produced by an iterative state machine
   (explicit stacks, no recursion) and is therefore safe on any input: it measures the real
   nesting depth of block and flow collections (exact, so a bracket inside a plain scalar
   or a quoted string never counts) and stops at the first level past the limit;
3. in the same pass, the expanded size of every anchored node, so that aliases cannot
   multiply the document past a node budget, and an alias to a node that is still open
   (a recursive document) is refused.

Only then is the text loaded with the safe loader, so YAML tags (``!!python/object`` and any
other non-standard tag) stay refused as before. Every refusal is a ``YamlError`` whose
message is one line, fit for ``rules_failed`` or a quarantine reason.
"""

from __future__ import annotations

from typing import Any

import yaml

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

#: A Sigma rule is a few KB; the largest SigmaHQ rule is ~60 KB.
MAX_BYTES = 4 * 1024 * 1024
#: SigmaHQ rules nest at most ~6 levels; PyYAML's composer recursion is safe far beyond 64.
MAX_DEPTH = 64
#: Nodes after expanding every alias (scalars and collections): bounds alias bombs.
MAX_NODES = 1_000_000

_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class YamlError(ValueError):
    """The text is not YAML, or is YAML Garrison will not load; the message says why."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


def check_structure(text: str, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Raise ``YamlError`` when the text nests deeper than ``max_depth`` or expands (aliases
    included) to more than ``max_nodes`` nodes; never composes the document."""
    depth = 0
    # per open collection: [expanded nodes so far, anchor or None]
    stack: list[list[Any]] = []
    sizes: dict[str, int] = {}
    open_anchors: set[str] = set()
    total = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > max_depth:
                    raise YamlError(
                        f"YAML nested deeper than {max_depth} levels (refused before parsing)"
                    )
                anchor = event.anchor
                if anchor is not None:
                    open_anchors.add(anchor)
                stack.append([0, anchor])
                continue
            if isinstance(event, _CLOSE):
                depth -= 1
                count, anchor = stack.pop()
                size = count + 1
                if anchor is not None:
                    open_anchors.discard(anchor)
                    sizes[anchor] = size
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in open_anchors:
                    raise YamlError(f"YAML with a recursive alias *{event.anchor}")
                size = sizes.get(event.anchor or "", 1)
            else:
                continue
            if stack:
                stack[-1][0] += size
                if stack[-1][0] > max_nodes:
                    raise YamlError(
                        f"YAML expands through aliases to more than {max_nodes:,} nodes"
                    )
            else:
                total += size
                if total > max_nodes:
                    raise YamlError(
                        f"YAML expands through aliases to more than {max_nodes:,} nodes"
                    )
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {_one_line(exc)}") from None


def _text(data: bytes | str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise YamlError(f"YAML larger than {max_bytes:,} bytes")
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlError(f"not UTF-8: {_one_line(exc)}") from None
    return data


def load_all(
    data: bytes | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> list[Any]:
    """Every document in the text (``None`` documents dropped), after the checks above."""
    text = _text(data, max_bytes)
    check_structure(text, max_depth, max_nodes)
    try:
        return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {_one_line(exc)}") from None
    except ValueError as exc:  # an integer past Python's digit limit, a bad timestamp
        raise YamlError(f"not valid YAML: {_one_line(exc)}") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise YamlError("not valid YAML: nesting too deep") from None


def load(
    data: bytes | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> Any:
    """The single document in the text (``None`` when empty); more than one is an error."""
    docs = load_all(data, max_bytes=max_bytes, max_depth=max_depth, max_nodes=max_nodes)
    if len(docs) > 1:
        raise YamlError(f"expected one YAML document, found {len(docs)}")
    return docs[0] if docs else None


def compose(
    data: bytes | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> yaml.Node | None:
    """The node tree of the single document in the text (``None`` when empty), after the
    same checks as ``load``: for loaders that must name the line of every error (each node
    carries ``start_mark``). Nothing is constructed, so no tag runs; build values from the
    nodes with ``construct``, which refuses tags as the safe loader does."""
    text = _text(data, max_bytes)
    check_structure(text, max_depth, max_nodes)
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {_one_line(exc)}") from None
    return node


def construct(node: yaml.Node) -> Any:
    """The Python value of a node from ``compose``, built by the safe constructor (so a
    non-standard tag is a ``YamlError``, as in ``load``)."""
    loader = _Loader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {_one_line(exc)}") from None
    except ValueError as exc:  # as in load_all
        raise YamlError(f"not valid YAML: {_one_line(exc)}") from None
    finally:
        loader.dispose()
