"""Rule IR -> condition tree -> fast Python predicate, with constant folding.

``build_tree`` turns a rule's IR (named detections + condition) into a tree of ``Leaf``,
``And``, ``Or``, ``Not``, ``Named`` and ``Const`` nodes. For each group of events sharing a
channel/EventID/provider the engine first *folds* the tree with those constants (a Security
rule's ``EventID: 4624`` leaf becomes True or False, so rules that cannot match a group are
dropped before any event is seen), then compiles it into nested closures over an
``EventView``; AND children run cheapest first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from garrison.detect.sigma.convert import ConversionError, Node
from garrison.detect.sigma.fieldmap import IDENTITY, FieldMap
from garrison.detect.sigma.modifiers import Pred, and_preds, compile_item, not_pred, or_preds
from garrison.detect.sigma.view import EventView


@dataclass(eq=False, slots=True)
class Leaf:
    field: str | None
    link: str
    negated: bool
    values: list[Any]
    cost: float = 0.0
    #: compiled predicate per field map name (leaves are shared between buckets)
    compiled: dict[str, Pred] = dc_field(default_factory=dict)
    #: prefilter requirements per field map name (see prefilter.py)
    reqs: dict[str, Any] = dc_field(default_factory=dict)


@dataclass(eq=False, slots=True)
class And:
    children: list[Tree]


@dataclass(eq=False, slots=True)
class Or:
    children: list[Tree]


@dataclass(eq=False, slots=True)
class Not:
    child: Tree


@dataclass(eq=False, slots=True)
class Named:
    """A named detection (``selection``, ``filter_main``), kept for explanations."""

    name: str
    child: Tree


@dataclass(eq=False, slots=True, frozen=True)
class Const:
    value: bool


Tree = Leaf | And | Or | Not | Named | Const
TRUE = Const(True)
FALSE = Const(False)

_VALUE_COST = {
    "s": 2.0,
    "num": 1.0,
    "bool": 1.0,
    "null": 1.0,
    "exists": 1.0,
    "re": 12.0,
    "cidr": 8.0,
    "cmp": 3.0,
    "fref": 3.0,
    "ts": 10.0,
}


def _value_cost(value: list[Any]) -> float:
    if value[0] == "exp":
        return sum(_value_cost(v) for v in value[1])
    if value[0] == "s":
        parts = value[1]
        inner = sum(1 for p in parts[1:-1] if p in (0, 1))
        return 1.0 + 0.2 * len(parts) + 3.0 * inner
    return _VALUE_COST.get(value[0], 5.0)


def leaf_cost(leaf: Leaf) -> float:
    base = 25.0 if leaf.field is None else 0.0
    n = len(leaf.values)
    per = sum(_value_cost(v) for v in leaf.values)
    # lists of plain values are set/tuple tests: cost grows slowly with their length
    return base + (per if n <= 3 else 3.0 + per / n + n * 0.05)


def build_tree(detections: dict[str, Node], conditions: list[Node]) -> Tree:
    """The whole rule as one tree (several conditions are OR-linked)."""
    named: dict[str, Tree] = {}

    def node(ir: Node) -> Tree:
        kind = ir[0]
        if kind == "leaf":
            leaf = Leaf(ir[1], ir[2], bool(ir[3]), ir[4])
            leaf.cost = leaf_cost(leaf)
            return leaf
        if kind == "and":
            return And([node(c) for c in ir[1]])
        if kind == "or":
            return Or([node(c) for c in ir[1]])
        if kind == "not":
            return Not(node(ir[1]))
        if kind == "ref":
            name = ir[1]
            if name not in named:
                if name not in detections:
                    raise ConversionError(f"condition names undefined detection {name!r}")
                named[name] = Named(name, node(detections[name]))
            return named[name]
        raise ConversionError(f"unknown IR node {kind!r}")

    trees = [node(c) for c in conditions]
    if not trees:
        raise ConversionError("rule has no condition")
    return trees[0] if len(trees) == 1 else Or(trees)


def cost(tree: Tree) -> float:
    if isinstance(tree, Leaf):
        return tree.cost
    if isinstance(tree, (And, Or)):
        return sum(cost(c) for c in tree.children)
    if isinstance(tree, (Not, Named)):
        return cost(tree.child)
    return 0.0


def compile_leaf(leaf: Leaf, fm: FieldMap, placeholders: dict[str, list[str]]) -> Pred:
    pred = leaf.compiled.get(fm.name)
    if pred is None:
        field_name = fm(leaf.field) if leaf.field is not None else None
        pred = compile_item(field_name, leaf.link, leaf.negated, leaf.values, placeholders)
        leaf.compiled[fm.name] = pred
    return pred


def compile_tree(
    tree: Tree, fm: FieldMap = IDENTITY, placeholders: dict[str, list[str]] | None = None
) -> Pred:
    """A predicate over an ``EventView``; AND/OR children are tried cheapest first."""
    ph = placeholders or {}
    if isinstance(tree, Leaf):
        return compile_leaf(tree, fm, ph)
    if isinstance(tree, Const):
        value = tree.value
        return lambda v: value
    if isinstance(tree, Named):
        return compile_tree(tree.child, fm, ph)
    if isinstance(tree, Not):
        return not_pred(compile_tree(tree.child, fm, ph))
    ordered = sorted(tree.children, key=cost)
    preds = [compile_tree(c, fm, ph) for c in ordered]
    return and_preds(preds) if isinstance(tree, And) else or_preds(preds)


def fold(
    tree: Tree,
    consts: dict[str, Any],
    fm: FieldMap = IDENTITY,
    placeholders: dict[str, list[str]] | None = None,
) -> Tree:
    """The tree with every leaf on a constant field replaced by its truth value."""
    if not consts or not any(
        leaf.field is not None and fm(leaf.field) in consts for leaf in leaves(tree)
    ):
        return tree
    view = EventView(consts)
    ph = placeholders or {}

    def walk(node: Tree) -> Tree:
        if isinstance(node, Leaf):
            if node.field is not None and fm(node.field) in consts:
                return TRUE if compile_leaf(node, fm, ph)(view) else FALSE
            return node
        if isinstance(node, Named):
            child = walk(node.child)
            return (
                child
                if isinstance(child, Const)
                else (node if child is node.child else Named(node.name, child))
            )
        if isinstance(node, Not):
            child = walk(node.child)
            if isinstance(child, Const):
                return FALSE if child.value else TRUE
            return node if child is node.child else Not(child)
        if isinstance(node, (And, Or)):
            return _fold_junction(node, [walk(c) for c in node.children])
        return node

    return walk(tree)


def _fold_junction(node: And | Or, children: list[Tree]) -> Tree:
    is_and = isinstance(node, And)
    absorbing, neutral = (FALSE, TRUE) if is_and else (TRUE, FALSE)
    kept: list[Tree] = []
    for child in children:
        if isinstance(child, Const):
            if child.value == absorbing.value:
                return absorbing
            continue
        kept.append(child)
    if not kept:
        return neutral
    if len(kept) == 1:
        return kept[0]
    if len(kept) == len(node.children) and all(
        a is b for a, b in zip(kept, node.children, strict=True)
    ):
        return node
    return And(kept) if is_and else Or(kept)


def named_nodes(tree: Tree) -> list[Named]:
    """The named detections reachable in the tree, in first-seen order."""
    out: list[Named] = []
    seen: set[int] = set()

    def walk(node: Tree) -> None:
        if isinstance(node, Named):
            if id(node) not in seen:
                seen.add(id(node))
                out.append(node)
            walk(node.child)
        elif isinstance(node, Not):
            walk(node.child)
        elif isinstance(node, (And, Or)):
            for c in node.children:
                walk(c)

    walk(tree)
    return out


def leaves(tree: Tree) -> list[Leaf]:
    out: list[Leaf] = []

    def walk(node: Tree) -> None:
        if isinstance(node, Leaf):
            out.append(node)
        elif isinstance(node, (Named, Not)):
            walk(node.child)
        elif isinstance(node, (And, Or)):
            for c in node.children:
                walk(c)

    walk(tree)
    return out


def check_compiles(tree: Tree, fm: FieldMap, placeholders: dict[str, list[str]]) -> None:
    """Compile every leaf now, so a bad value fails at load time, not mid-run."""
    for leaf in leaves(tree):
        compile_leaf(leaf, fm, placeholders)


MatchFn = Callable[[EventView], bool]


def where_tree(where: tuple[tuple[str, tuple[str, ...]], ...]) -> Tree | None:
    """Extra conditions a logsource target adds (``EventType: CreateKey``) as leaves."""
    if not where:
        return None
    kids: list[Tree] = []
    for fld, accepted in where:
        leaf = Leaf(fld, "or", False, [["s", [a], False] for a in accepted])
        leaf.cost = leaf_cost(leaf)
        kids.append(leaf)
    return kids[0] if len(kids) == 1 else And(kids)
