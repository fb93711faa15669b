"""Reading admin-edited YAML as nodes, so that every problem can name its line."""

from __future__ import annotations

import yaml

NULL_TAG = "tag:yaml.org,2002:null"


def node_line(node: yaml.Node) -> int:
    """Return the 1-based line where node starts."""
    return int(node.start_mark.line) + 1


def node_text(node: yaml.Node) -> str | None:
    """Return the text of a scalar node exactly as written, None for a list or a mapping."""
    return node.value if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str) else None


def is_null_node(node: yaml.Node) -> bool:
    """Tell whether node is an empty value, or "~" or "null" written without quotes."""
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG
