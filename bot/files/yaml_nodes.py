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


def describe_syntax_error(error: yaml.YAMLError, source: str | None = None) -> tuple[str, int | None]:
    """Describe a YAML syntax error in French; give the line where the admin should look.

    With the file's text, the common slips are named as such, at their own line: a tab, a quote never
    closed, a line shifted from its neighbours (the parser only notices them further down).
    """
    text = str(error)
    hint = next((french for english, french in _YAML_HINTS if english in text), None)
    problem_mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    # An unclosed quote is noticed at the end of the file; the quote itself is where it opened.
    opened_here = "while scanning a quoted scalar" in text or "while parsing a flow" in text
    mark = (context_mark if opened_here else None) or problem_mark or context_mark
    line = mark.line + 1 if mark is not None else None
    if source is not None and line is not None:
        # A shifted line shows as a key or a block the parser did not expect there.
        indentation = any(sign in text for sign in ("expected key", "expected <block end>", "expected '-'"))
        slip = _named_slip(source.splitlines(), line, indentation=indentation)
        if slip is not None:
            return slip
    original = getattr(error, "problem", None) or text.splitlines()[0]
    message = (
        f"erreur de syntaxe YAML : {hint} ({original})" if hint else f"erreur de syntaxe YAML : {original}"
    )
    return message, line


def _named_slip(lines: list[str], noticed: int, *, indentation: bool) -> tuple[str, int] | None:
    """Find the slip behind a syntax error noticed at a line: a tab, an unclosed quote, a shifted line."""
    for number, line in enumerate(lines[:noticed], start=1):
        margin = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in margin:
            return "une tabulation en début de ligne : remplacez-la par des espaces", number
    for number, line in enumerate(lines[:noticed], start=1):
        content = line.split(" #", 1)[0] if line.count('"') % 2 == 0 else line
        if not content.lstrip().startswith("#") and content.replace('\\"', "").count('"') % 2 == 1:
            return (
                'un guillemet « " » ouvert et jamais refermé sur cette ligne : ajoutez « " » après le texte',
                number,
            )
    misaligned = _misaligned_item(lines, noticed) if indentation else None
    if misaligned is not None:
        return (
            f"les tirets « - » de cette liste ne sont pas l'un sous l'autre (lignes {misaligned} et "
            f"{misaligned + 1}) : alignez-les",
            misaligned,
        )
    shifted = _shifted_line(lines, noticed) if indentation else None
    if shifted is not None:
        return (
            "cette ligne est décalée : alignez son début sur les lignes du même niveau juste au-dessus",
            shifted,
        )
    return None


def _shifted_line(lines: list[str], noticed: int) -> int | None:
    """Return the line (at or just above the one noticed) indented unlike any line above it, if any."""
    for number in range(noticed, max(noticed - 3, 0), -1):
        line = lines[number - 1] if number - 1 < len(lines) else ""
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        above = [
            column
            for other in lines[: number - 1]
            if other.strip() and not other.lstrip().startswith("#")
            for column in _columns(other)
        ]
        if above and indent not in above and indent > max(_columns(lines[number - 2]) if number > 1 else [0]):
            return number
    return None


def _columns(line: str) -> list[int]:
    """Return where a line's content starts, and where it starts after each leading "- " (list items)."""
    columns = [len(line) - len(line.lstrip(" "))]
    rest = line.lstrip(" ")
    while rest.startswith("- "):
        columns.append(columns[-1] + 2 + len(rest[2:]) - len(rest[2:].lstrip(" ")))
        rest = rest[2:].lstrip(" ")
    return columns


def _misaligned_item(lines: list[str], noticed: int) -> int | None:
    """Return the first of two neighbouring list items ("- ...") that do not start at the same column."""
    if not 1 < noticed <= len(lines):
        return None
    current, previous = lines[noticed - 1], lines[noticed - 2]
    if not (current.lstrip().startswith("- ") and previous.lstrip().startswith("- ")):
        return None
    if len(current) - len(current.lstrip(" ")) == len(previous) - len(previous.lstrip(" ")):
        return None
    return noticed - 1
