"""The safe YAML loader: depth, size and alias limits before composing; tags still refused."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core import safeyaml
from garrison.core.safeyaml import YamlError

DEEP = 50_000


def _deep_texts(n: int) -> dict[str, str]:
    return {
        "flow sequences": "a: " + "[" * n + "]" * n + "\n",
        "flow mappings": "a: " + "{b: " * n + "1" + "}" * n + "\n",
        "compact block sequences": "- " * n + "x\n",
        "indented block mappings": "".join(" " * i + "k:\n" for i in range(200))
        + " " * 200
        + "v\n",
    }


@pytest.mark.parametrize("kind", list(_deep_texts(DEEP)))
def test_deep_documents_are_refused_with_the_reason(kind: str) -> None:
    with pytest.raises(YamlError, match="nested deeper than 64 levels"):
        safeyaml.load_all(_deep_texts(DEEP)[kind])


def test_the_deep_document_that_crashed_pyyaml_is_refused_in_a_live_process() -> None:
    """Without the check, composing this kills the interpreter (SIGSEGV, exit 139)."""
    code = (
        "from garrison.core import safeyaml\n"
        f"text = 'a: ' + '[' * {DEEP} + ']' * {DEEP}\n"
        "try:\n    safeyaml.load(text)\nexcept safeyaml.YamlError as e:\n    print('refused', e)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=None
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("refused YAML nested deeper")


def test_size_cap() -> None:
    with pytest.raises(YamlError, match="larger than 10 bytes"):
        safeyaml.load("a: 1234567890", max_bytes=10)
    with pytest.raises(YamlError, match="larger than"):
        safeyaml.load(b"a: " + b"x" * (safeyaml.MAX_BYTES + 1))


def test_alias_bomb_is_refused_before_it_is_expanded() -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    with pytest.raises(YamlError, match="expands through aliases"):
        safeyaml.load("\n".join(lines))


def test_a_few_aliases_are_fine() -> None:
    assert safeyaml.load("a: &x [1, 2]\nb: *x\nc: &s hello\nd: *s") == {
        "a": [1, 2],
        "b": [1, 2],
        "c": "hello",
        "d": "hello",
    }


def test_recursive_documents_are_refused() -> None:
    with pytest.raises(YamlError, match="recursive alias"):
        safeyaml.load("a: &a [1, *a]")
    with pytest.raises(YamlError, match="recursive alias"):
        safeyaml.load("a: &a {b: *a}")


def test_python_tags_stay_refused() -> None:
    with pytest.raises(YamlError, match=r"not valid YAML.*constructor"):
        safeyaml.load("a: !!python/object/apply:os.system ['id']")


def test_brackets_inside_scalars_do_not_count_as_nesting() -> None:
    deep_text = "[" * 500
    doc = f"a: '{deep_text}'\nb: x{deep_text}\nc: \"{deep_text}\"\n"
    assert safeyaml.load(doc) == {"a": deep_text, "b": "x" + deep_text, "c": deep_text}


def test_bad_input_messages() -> None:
    with pytest.raises(YamlError, match="not UTF-8"):
        safeyaml.load(b"a: \xff\xfe")
    with pytest.raises(YamlError, match="not valid YAML"):
        safeyaml.load("a: [")
    with pytest.raises(YamlError, match="one YAML document"):
        safeyaml.load("a: 1\n---\nb: 2\n")
    assert safeyaml.load("") is None
    assert safeyaml.load_all("---\n---\na: 1\n") == [{"a": 1}]


def _nested(depth: int) -> Any:
    node: Any = "leaf"
    for i in range(depth):
        node = [node] if i % 2 else {"k": node}
    return node


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(min_value=1, max_value=120), flow=st.booleans())
def test_depth_limit_is_exact_in_both_styles(depth: int, flow: bool) -> None:
    text = yaml.safe_dump(_nested(depth), default_flow_style=flow)
    if depth <= safeyaml.MAX_DEPTH:
        assert safeyaml.load(text) == _nested(depth)
    else:
        with pytest.raises(YamlError, match="nested deeper"):
            safeyaml.load(text)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
_docs = st.recursive(
    _scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(doc=_docs)
def test_ordinary_documents_load_as_pyyaml_loads_them(doc: Any) -> None:
    text = yaml.safe_dump(doc, allow_unicode=True)
    assert safeyaml.load(text) == yaml.safe_load(text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="[]{}-:, \n'\"&*!|>#ax", max_size=200))
def test_hostile_text_never_escapes_as_another_error(text: str) -> None:
    with contextlib.suppress(YamlError):  # any other exception fails the test
        safeyaml.load_all(text)
