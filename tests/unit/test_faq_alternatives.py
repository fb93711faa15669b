"""Adding a phrasing to an entry's alternatives keeps the admins' file as they wrote it, but for one line."""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from bot.faq import FaqEntry, load_faq
from bot.faq.alternatives import AddResult, AlternativeError, add_alternative
from tests.conftest import SHIPPED_FAQ

FAQ = """\
# FAQ de test : ne pas effacer ce commentaire
- id: wifi   # l'id ne change jamais
  question: "Comment avoir le wifi ?"
  alternatives:
    - "Pas d'internet."  # la plus fréquente
    # ci-dessous, les mots-clés
  keywords: [wifi]
  answer: |
    Cliquez sur l'icône.

    Deuxième paragraphe.

# Une entrée sans alternatives
- id: cv
  question: 'Comment faire un CV ?'
  answer: Venez au module CV.
- id: flow
  question: Un flux ?
  alternatives: ["un", 'deux']
  answer: oui
- id: vide
  question: Vide ?
  alternatives:
  answer: oui
- id: last
  question: Dernier ?
  answer: oui
  alternatives:
    - a
# commentaire final
"""


def changes(before: str, after: str) -> list[str]:
    return [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:2] in ("+ ", "- ")
    ]


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "faq"
    directory.mkdir()
    (directory / "a.yaml").write_text(FAQ, encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    ("entry_id", "expected"),
    [
        # After the last phrasing, before the comment that introduces the next field.
        ("wifi", ['+     - "Le réseau ne marche pas"']),
        # No alternatives yet: the field comes after the question, in the question's quotes.
        ("cv", ["+   alternatives:", "+     - 'Le réseau ne marche pas'"]),
        (
            "flow",
            [
                "-   alternatives: [\"un\", 'deux']",
                "+   alternatives: [\"un\", 'deux', 'Le réseau ne marche pas']",
            ],
        ),
        ("vide", ["+     - Le réseau ne marche pas"]),
        ("last", ["+     - Le réseau ne marche pas"]),
    ],
)
def test_one_phrasing_changes_only_its_lines(faq_dir: Path, entry_id: str, expected: list[str]) -> None:
    path = faq_dir / "a.yaml"
    assert add_alternative(faq_dir, "a.yaml", entry_id, "Le réseau  ne marche pas") is AddResult.ADDED
    after = path.read_text(encoding="utf-8")
    assert changes(FAQ, after) == expected
    entry = load_faq(faq_dir).get(entry_id)
    assert entry is not None and entry.alternatives[-1] == "Le réseau ne marche pas"
    assert [p.name for p in faq_dir.iterdir()] == ["a.yaml"]  # no temporary file left behind


def test_a_phrasing_already_there_is_not_added_twice(faq_dir: Path) -> None:
    assert add_alternative(faq_dir, "a.yaml", "wifi", "pas d INTERNET") is AddResult.ALREADY_THERE
    assert add_alternative(faq_dir, "a.yaml", "wifi", "comment avoir le Wi-Fi") is AddResult.ALREADY_THERE
    assert (faq_dir / "a.yaml").read_text(encoding="utf-8") == FAQ


def test_an_entry_gone_from_its_file_is_refused(faq_dir: Path) -> None:
    with pytest.raises(AlternativeError, match=r"l'entrée 'gone' n'est plus dans a\.yaml"):
        add_alternative(faq_dir, "a.yaml", "gone", "une phrase")
    with pytest.raises(AlternativeError, match="impossible de lire"):
        add_alternative(faq_dir, "b.yaml", "wifi", "une phrase")
    with pytest.raises(AlternativeError, match="nom de fichier"):
        add_alternative(faq_dir, "../a.yaml", "wifi", "une phrase")
    assert (faq_dir / "a.yaml").read_text(encoding="utf-8") == FAQ


def test_a_broken_file_or_a_layout_that_cannot_be_kept_is_refused(faq_dir: Path) -> None:
    path = faq_dir / "a.yaml"
    path.write_text("- id: wifi\n  question: [oops\n", encoding="utf-8")
    with pytest.raises(AlternativeError, match="erreur de syntaxe"):
        add_alternative(faq_dir, "a.yaml", "wifi", "une phrase")
    # A question over two lines would be rewritten on one: the admin adds the phrasing by hand.
    folded = "- id: wifi\n  question: Comment avoir\n    le wifi ?\n  answer: oui\n"
    path.write_text(folded, encoding="utf-8")
    with pytest.raises(AlternativeError, match="sans changer sa mise en page"):
        add_alternative(faq_dir, "a.yaml", "wifi", "une phrase")
    assert path.read_text(encoding="utf-8") == folded


def test_windows_line_ends_byte_order_mark_and_permissions_are_kept(faq_dir: Path) -> None:
    path = faq_dir / "a.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + FAQ.replace("\n", "\r\n").encode("utf-8"))
    os.chmod(path, 0o640)
    add_alternative(faq_dir, "a.yaml", "last", "b")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == raw.count(b"\n")
    assert b"    - a\r\n    - b\r\n# commentaire final\r\n" in raw
    assert path.stat().st_mode & 0o777 == 0o640


def test_every_shipped_file_gets_one_line(tmp_path: Path) -> None:
    directory = tmp_path / "faq"
    shutil.copytree(SHIPPED_FAQ, directory)
    firsts: dict[str, FaqEntry] = {}
    for entry in load_faq(directory).entries:
        firsts.setdefault(entry.source, entry)
    for name, entry in firsts.items():
        before = (directory / name).read_text(encoding="utf-8")
        add_alternative(directory, name, entry.id, "une phrase : à apprendre")
        after = (directory / name).read_text(encoding="utf-8")
        assert changes(before, after) == ['+     - "une phrase : à apprendre"'], name
    reloaded = load_faq(directory)
    for entry in firsts.values():
        reread = reloaded.get(entry.id)
        assert reread is not None and reread.alternatives[-1] == "une phrase : à apprendre"
