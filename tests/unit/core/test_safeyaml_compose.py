"""``safeyaml.compose``/``construct``: the node tree with lines, under ``load``'s limits."""

from __future__ import annotations

import pytest
import yaml

from garrison.core import safeyaml


def test_compose_keeps_lines_and_constructs_nothing():
    root = safeyaml.compose("a: 1\nb: !!python/object:os.system x\n")
    assert isinstance(root, yaml.MappingNode)
    (_, one), (_, tagged) = root.value
    assert (one.start_mark.line, tagged.start_mark.line) == (0, 1)
    assert safeyaml.construct(one) == 1
    with pytest.raises(safeyaml.YamlError, match="could not determine a constructor"):
        safeyaml.construct(tagged)


def test_compose_applies_the_same_limits_as_load():
    assert safeyaml.compose("") is None
    with pytest.raises(safeyaml.YamlError, match="nested deeper"):
        safeyaml.compose("[" * 100 + "]" * 100)
    with pytest.raises(safeyaml.YamlError, match="larger than"):
        safeyaml.compose("a: b\n", max_bytes=3)
    with pytest.raises(safeyaml.YamlError, match="recursive alias"):
        safeyaml.compose("a: &x [*x]\n")
    with pytest.raises(safeyaml.YamlError, match="not valid YAML"):
        safeyaml.compose("a: 1\n---\nb: 2\n")


def test_an_integer_past_the_digit_limit_is_a_yaml_error_not_a_crash():
    text = "a: " + "1" * 5000 + "\n"
    with pytest.raises(safeyaml.YamlError, match="not valid YAML"):
        safeyaml.load(text)
    root = safeyaml.compose(text)
    assert isinstance(root, yaml.MappingNode)
    with pytest.raises(safeyaml.YamlError, match="not valid YAML"):
        safeyaml.construct(root.value[0][1])
