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


# libyaml's messages, in words an admin can act on (the usual causes first).
_YAML_HINTS = (
    ("mapping values are not allowed", "un « : » inattendu : mettez le texte entre guillemets"),
    ("found character '\\t'", "tabulation interdite : décalez avec des espaces"),
    ("found a tab character", "tabulation interdite : décalez avec des espaces"),
    ("while scanning a quoted scalar", "guillemet ouvert ici et jamais fermé"),
    ("expected ',' or ']'", "crochet « [ » jamais fermé"),
    ("expected ',' or '}'", "accolade « { » jamais fermée"),
    (
        "did not find expected '-' indicator",
        "décalage incorrect dans une liste (les « - » doivent être alignés)",
    ),
    ("expected <block end>", "décalage incorrect : les champs d'une entrée doivent être alignés"),
    ("did not find expected key", "décalage incorrect, ou guillemet mal fermé"),
    ("could not find expected ':'", "il manque « : » après le nom d'un champ"),
    ("could not determine a constructor", "étiquette « ! » non autorisée"),
    ("found undefined alias", "« * » au début d'un texte : mettez le texte entre guillemets"),
    (
        "found character that cannot start any token",
        "caractère spécial au début d'un texte : mettez le texte entre guillemets",
    ),
)


def describe_syntax_error(error: yaml.YAMLError) -> tuple[str, int | None]:
    """Describe a YAML syntax error in French; give the line where the admin should look."""
    text = str(error)
    hint = next((french for english, french in _YAML_HINTS if english in text), None)
    problem_mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    # An unclosed quote is noticed at the end of the file; the quote itself is where it opened.
    opened_here = "while scanning a quoted scalar" in text or "while parsing a flow" in text
    mark = (context_mark if opened_here else None) or problem_mark or context_mark
    line = mark.line + 1 if mark is not None else None
    original = getattr(error, "problem", None) or text.splitlines()[0]
    message = (
        f"erreur de syntaxe YAML : {hint} ({original})" if hint else f"erreur de syntaxe YAML : {original}"
    )
    return message, line
