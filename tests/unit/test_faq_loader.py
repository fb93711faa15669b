from __future__ import annotations

from pathlib import Path

import pytest

from bot.faq import FaqBase, FaqEntry, FaqError, FaqProblem, check_faq, load_faq
from bot.faq.loader import LANGUAGES, TRANSLATED_ANSWER_FIELDS
from tests.conftest import SHIPPED_FAQ

VALID_GENERAL = """\
# FAQ générale
- id: wifi-centre
  question: "Comment me connecter au Wi-Fi du centre ?"
  alternatives:
    - "Quel est le mot de passe du Wi-Fi ?"
  keywords: [wifi, mot de passe]
  follow_ups: [horaires]
  answer: |
    Choisissez le réseau « CISP ».
    Le mot de passe est affiché à l'accueil.

- id: horaires
  question: Quelles sont les heures d'ouverture ?
  answer: Du lundi au vendredi.
  couleur: bleu   # unknown fields are allowed
"""


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def messages(problems: list[FaqProblem]) -> list[str]:
    return [str(problem) for problem in problems]


def test_load_valid_faq(tmp_path: Path) -> None:
    write(tmp_path, "general.yaml", VALID_GENERAL)
    write(
        tmp_path,
        "emploi.yaml",
        '- {id: cv-photo, question: "Photo sur le CV ?", answer: "Pas obligatoire."}\n',
    )

    base = load_faq(tmp_path)

    assert isinstance(base, FaqBase)
    assert len(base) == 3
    assert base.directory == tmp_path
    # Files are read in name order, entries in file order.
    assert [entry.id for entry in base.entries] == ["cv-photo", "wifi-centre", "horaires"]
    wifi = base.get("wifi-centre")
    assert wifi == FaqEntry(
        id="wifi-centre",
        question="Comment me connecter au Wi-Fi du centre ?",
        answer="Choisissez le réseau « CISP ».\nLe mot de passe est affiché à l'accueil.",
        alternatives=("Quel est le mot de passe du Wi-Fi ?",),
        keywords=("wifi", "mot de passe"),
        follow_ups=("horaires",),
        source="general.yaml",
    )
    assert base.get("inconnu") is None
    assert check_faq(tmp_path) == []


def test_ignores_subdirectories_hidden_and_other_files(tmp_path: Path) -> None:
    write(tmp_path, "general.yaml", VALID_GENERAL)
    (tmp_path / "drafts").mkdir()
    write(tmp_path / "drafts", "brouillon.yaml", "- id: [pas valide\n")
    write(tmp_path, ".cache.yaml", "not: a list")
    write(tmp_path, "notes.txt", "rien")
    assert len(load_faq(tmp_path)) == 2


def test_missing_directory_is_one_problem(tmp_path: Path) -> None:
    problems = check_faq(tmp_path / "absent")
    assert len(problems) == 1
    assert "n'existe pas" in problems[0].message
    with pytest.raises(FaqError):
        load_faq(tmp_path / "absent")


def test_empty_directory_is_one_problem(tmp_path: Path) -> None:
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert "aucun fichier" in problems[0].message


def test_comment_only_file_has_no_entries_but_a_faq_needs_one(tmp_path: Path) -> None:
    write(tmp_path, "vide.yaml", "# rien pour l'instant\n")
    assert messages(check_faq(tmp_path)) == [f"{tmp_path}: aucune entrée dans les fichiers FAQ"]
    write(tmp_path, "general.yaml", VALID_GENERAL)
    assert check_faq(tmp_path) == []


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    write(tmp_path, "general.yaml", '- id: a\n  question: "ok"\n  answer: [non fermé\n- id: b\n')
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert problems[0].file == "general.yaml"
    assert problems[0].line is not None and problems[0].line >= 3
    assert "syntaxe YAML" in problems[0].message


def test_non_utf8_file_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "latin1.yaml", '- id: a\n  question: "Où ?"\n  answer: "Là"\n'.encode("latin-1"))
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert "UTF-8" in problems[0].message
    assert problems[0].line == 2


def test_unsafe_tags_are_rejected_not_executed(tmp_path: Path) -> None:
    write(tmp_path, "evil.yaml", '- !!python/object/apply:os.system ["echo pwned"]\n')
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert problems[0].line == 1


def test_file_not_a_list(tmp_path: Path) -> None:
    write(tmp_path, "general.yaml", "id: a\nquestion: q\nanswer: r\n")
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert "liste" in problems[0].message
    assert problems[0].line == 1


def test_every_entry_problem_is_reported_with_entry_field_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "general.yaml",
        """\
- id: ok-entry
  question: "Question ?"
  answer: "Réponse."
- "juste un texte"
- question: "Sans id ?"
  answer: "r"
- id: Mauvais_ID
  question: "q"
  answer: "r"
- id: sans-reponse
  question: "q"
- id: reponse-vide
  question: "q"
  answer: "   "
- id: mauvais-types
  question: 12
  answer: yes
  alternatives: "pas une liste"
  keywords: [ok, 3]
  follow_ups: [ok-entry, inconnue]
- id: alternative-vide
  question: "q"
  answer: "r"
  alternatives: ["", "bien"]
""",
    )
    problems = check_faq(tmp_path)
    text = messages(problems)
    assert (
        "general.yaml:4: entrée n°2: l'entrée doit être un ensemble de champs (id, question, answer...)"
        in text
    )
    assert "general.yaml:5: entrée n°3: champ 'id' manquant ou vide" in text
    assert any(
        line.startswith("general.yaml:7: entrée 'Mauvais_ID': id 'Mauvais_ID' invalide") for line in text
    )
    missing = "champ 'answer' manquant ou vide (ou donnez la réponse en 'steps')"
    assert f"general.yaml:10: entrée 'sans-reponse': {missing}" in text
    assert f"general.yaml:14: entrée 'reponse-vide': {missing}" in text
    assert any(line.startswith("general.yaml:16: entrée 'mauvais-types': champ 'question'") for line in text)
    assert any(line.startswith("general.yaml:17: entrée 'mauvais-types': champ 'answer'") for line in text)
    assert any(
        line.startswith("general.yaml:18: entrée 'mauvais-types': champ 'alternatives'") for line in text
    )
    assert any(line.startswith("general.yaml:19: entrée 'mauvais-types': champ 'keywords'") for line in text)
    assert any("alternative-vide" in line and "élément n°1 est vide" in line for line in text)
    assert all(problem.file == "general.yaml" for problem in problems)
    # An invalid entry is dropped, so its follow-ups are not checked: no noise about "inconnue".
    assert not any("inconnue" in line for line in text)

    with pytest.raises(FaqError) as raised:
        load_faq(tmp_path)
    assert raised.value.problems == problems
    assert str(raised.value).splitlines() == text


def test_duplicate_id_across_files_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", '- id: wifi\n  question: "q"\n  answer: "r"\n')
    write(tmp_path, "b.yaml", '# autre\n- id: wifi\n  question: "q2"\n  answer: "r2"\n')
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert problems[0].file == "b.yaml"
    assert problems[0].line == 2
    assert "a.yaml" in problems[0].message
    assert problems[0].entry == "wifi"


def test_unknown_follow_up(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        '- id: wifi\n  question: "q"\n  answer: "r"\n  follow_ups:\n    - horaires\n    - parking\n',
    )
    write(tmp_path, "b.yaml", '- id: horaires\n  question: "Quand?"\n  answer: "r"\n')
    problems = check_faq(tmp_path)
    assert messages(problems) == ["a.yaml:4: entrée 'wifi': champ 'follow_ups' : l'id 'parking' n'existe pas"]


def test_duplicate_field_in_entry(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", '- id: wifi\n  question: "q"\n  answer: "r"\n  answer: "r2"\n')
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert problems[0].line == 4
    assert "en double" in problems[0].message


def test_blank_optional_lists_are_empty(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", '- id: wifi\n  question: "q"\n  answer: "r"\n  alternatives:\n  keywords:\n')
    entry = load_faq(tmp_path).entries[0]
    assert entry.alternatives == ()
    assert entry.keywords == ()


def test_problem_str_formats() -> None:
    assert str(FaqProblem("general.yaml", "champ 'answer' manquant", "wifi-mdp", 12)) == (
        "general.yaml:12: entrée 'wifi-mdp': champ 'answer' manquant"
    )
    assert str(FaqProblem("general.yaml", "fichier illisible")) == "general.yaml: fichier illisible"
    assert str(FaqProblem("a.yaml", "champ 'id' manquant", "entrée n°3", 7)) == (
        "a.yaml:7: entrée n°3: champ 'id' manquant"
    )


def test_faq_error_lists_one_problem_per_line() -> None:
    error = FaqError([FaqProblem("a.yaml", "un", line=1), FaqProblem("b.yaml", "deux")])
    assert str(error) == "a.yaml:1: un\nb.yaml: deux"
    assert len(error.problems) == 2


def test_id_too_long_for_a_button_is_a_problem(tmp_path: Path) -> None:
    long_id = "a" * 61
    write(tmp_path, "a.yaml", f"- id: {long_id}\n  question: Q ?\n  answer: R.\n")
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert "trop long" in str(problems[0]) and "a.yaml:1" in str(problems[0])


def test_near_identical_questions_are_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "- id: wifi\n  question: Comment se connecter au Wi-Fi ?\n  answer: R.\n")
    write(tmp_path, "b.yaml", "- id: wifi-2\n  question: comment se connecter au wifi\n  answer: R.\n")
    problems = check_faq(tmp_path)
    assert [str(problem) for problem in problems] == [
        "b.yaml:1: entrée 'wifi-2': question presque identique à celle de l'entrée 'wifi' (a.yaml, ligne 1) :"
        " fusionnez-les ou précisez la différence"
    ]


def test_different_questions_sharing_words_are_fine(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "- id: mdp-mail\n  question: J'ai oublié le mot de passe de mon e-mail\n  answer: R.\n"
        "- id: mdp-windows\n  question: J'ai oublié le code PIN de Windows\n  answer: R.\n",
    )
    assert check_faq(tmp_path) == []


def test_translations_and_button(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "- id: wifi\n  question: Comment avoir le wifi ?\n  answer: Cliquez.\n"
        "  answer_nl: Klik.\n  answer_en: Click.\n  button: Wi-Fi\n",
    )
    entry = load_faq(tmp_path).entries[0]
    assert entry.answer_in("nl") == "Klik."
    assert entry.answer_in("en") == "Click."
    assert entry.answer_in(None) == entry.answer_in("de") == "Cliquez."
    assert entry.button == "Wi-Fi"


def test_bad_translation_and_button_are_problems(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "- id: wifi\n  question: Q ?\n  answer: R.\n  answer_nl: ''\n"
        "  button: Un libellé beaucoup trop long pour un bouton\n",
    )
    problems = [str(problem) for problem in check_faq(tmp_path)]
    assert "a.yaml:4: entrée 'wifi': champ 'answer_nl' doit être un texte non vide" in problems
    assert any("a.yaml:5" in problem and "'button' trop long" in problem for problem in problems)


def test_admin_lexicon_problems_are_reported_by_check(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "- id: wifi\n  question: Comment avoir le wifi ?\n  answer: R.\n")
    (tmp_path / "lexique").mkdir()
    write(tmp_path / "lexique", "belge.yaml", "synonyms:\n  - [gsm, natel\n")
    problems = [str(problem) for problem in check_faq(tmp_path)]
    assert len(problems) == 1 and problems[0].startswith("lexique/belge.yaml:"), problems
    with pytest.raises(FaqError):
        load_faq(tmp_path)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Comment activer le Wi-Fi ?", "Comment désactiver le Wi-Fi ?"),
        ("Où est le local 12 ?", "Où est le local 21 ?"),
        ("Comment faire un CV ?", "Pourquoi faire un CV ?"),
    ],
)
def test_short_but_different_questions_are_not_duplicates(tmp_path: Path, first: str, second: str) -> None:
    write(
        tmp_path,
        "a.yaml",
        f"- id: a\n  question: {first}\n  answer: R.\n- id: b\n  question: {second}\n  answer: R.\n",
    )
    assert check_faq(tmp_path) == []


def test_near_duplicates_do_not_stop_the_bot(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "- id: a\n  question: Comment avoir le wifi ?\n  answer: R.\n")
    write(tmp_path, "b.yaml", "- id: b\n  question: comment avoir le wi-fi\n  answer: R.\n")
    assert len(check_faq(tmp_path)) == 1
    assert len(load_faq(tmp_path)) == 2


def test_misspelled_field_names_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "- id: a\n  question: Q ?\n  answer: R.\n  folow_ups: [a]\n  anwser_en: Hi.\n")
    problems = [str(problem) for problem in check_faq(tmp_path)]
    assert "a.yaml:4: entrée 'a': champ 'folow_ups' inconnu : vouliez-vous dire 'follow_ups' ?" in problems
    assert "a.yaml:5: entrée 'a': champ 'anwser_en' inconnu : vouliez-vous dire 'answer_en' ?" in problems


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        ("- id: a\n  question: Pourquoi: le wifi ?\n  answer: R.\n", 2, "mettez le texte entre guillemets"),
        (
            '- id: a\n  question: "Pas fermé\n  answer: R.\n- id: b\n',
            2,
            'un guillemet « " » ouvert et jamais refermé sur cette ligne',
        ),
        ("- id: a\n\tquestion: Q\n", 2, "une tabulation en début de ligne : remplacez-la par des espaces"),
    ],
)
def test_yaml_errors_are_explained_in_french(tmp_path: Path, text: str, line: int, hint: str) -> None:
    write(tmp_path, "a.yaml", text)
    problems = check_faq(tmp_path)
    assert len(problems) == 1
    assert problems[0].line == line, problems[0]
    assert hint in problems[0].message


def test_every_problem_is_one_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", '- id: "a\\nb"\n  question: Q ?\n  answer: R.\n')
    problems = check_faq(tmp_path)
    assert problems and all("\n" not in str(problem) for problem in problems)


def test_a_file_is_not_a_faq_folder(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "- id: a\n  question: Q\n  answer: R\n")
    assert "pas un dossier" in str(check_faq(path)[0])


# A phone screen: each message of an answer is read at once, without scrolling.
MAX_MESSAGE_CHARS = 350


def test_every_shipped_entry_is_translated_and_each_message_fits_a_phone_screen() -> None:
    base = load_faq(SHIPPED_FAQ)
    assert len(base) == 62
    for entry in base.entries:
        translations = dict(entry.translations)
        assert set(translations) == set(TRANSLATED_ANSWER_FIELDS), entry.id
        for language in (None, *translations):
            messages = entry.steps_in(language)
            assert len(messages) == len(entry.steps_in(None)), (entry.id, language, "as many steps")
            for message in messages:
                assert len(message) <= MAX_MESSAGE_CHARS, (entry.id, language, len(message))
        for language, answer in translations.items():
            assert answer.strip() and answer != entry.answer, (entry.id, language)
    # No error and no warning: every answer is translated and easy to read (steps, sentences).
    assert check_faq(SHIPPED_FAQ, LANGUAGES) == []


PARTLY_TRANSLATED = """\
# Le wifi est traduit, le CV pas encore.
- id: wifi
  question: Comment avoir le wifi ?
  answer: Cliquez sur l'icône du Wi-Fi.
  answer_nl: Klik op het wifi-icoon.
  answer_en: Click the Wi-Fi icon.

- id: cv-creer
  question: Comment faire un CV ?
  answer: Venez au module CV.
  answer_nl: Kom naar de module cv.
"""


def test_check_warns_about_an_answer_missing_in_an_offered_language(tmp_path: Path) -> None:
    write(tmp_path, "emploi.yaml", PARTLY_TRANSLATED)
    problems = check_faq(tmp_path, ["fr", "nl", "en"])
    assert problems == [
        FaqProblem(
            "emploi.yaml",
            "pas de réponse en anglais (answer_en), alors que /langue propose l'anglais : "
            "la réponse en français est montrée à la place",
            "cv-creer",
            8,
            warning=True,
        )
    ]
    assert str(problems[0]).startswith("emploi.yaml:8: entrée 'cv-creer': pas de réponse en anglais")
    # A warning: the entry is published, in French where the translation is missing.
    entry = load_faq(tmp_path).get("cv-creer")
    assert entry is not None and entry.answer_in("en") == "Venez au module CV."


def test_check_names_every_missing_language_of_an_entry_on_one_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "- id: horaire\n  question: Où voir mon horaire ?\n  answer: À l'accueil.\n")
    [problem] = check_faq(tmp_path, ["fr", "nl", "en"])
    assert problem.warning and problem.line == 1
    assert problem.message.startswith(
        "pas de réponse en néerlandais (answer_nl) ni en anglais (answer_en), "
        "alors que /langue propose le néerlandais et l'anglais"
    )


def test_check_asks_no_translation_in_a_language_not_offered(tmp_path: Path) -> None:
    write(tmp_path, "emploi.yaml", PARTLY_TRANSLATED)
    assert check_faq(tmp_path) == []
    assert check_faq(tmp_path, ["fr"]) == []
    assert check_faq(tmp_path, ["fr", "nl"]) == []
    with pytest.raises(ValueError, match="de"):
        check_faq(tmp_path, ["fr", "de"])


def test_missing_translations_come_after_the_errors_and_do_not_hide_them(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", PARTLY_TRANSLATED + "- id: vide\n  question: Q ?\n")
    problems = check_faq(tmp_path, ["fr", "nl", "en"])
    assert [(problem.entry, problem.warning) for problem in problems] == [("vide", False), ("cv-creer", True)]


ENTRY_A = '- id: a\n  question: "Wifi ?"\n  steps:\n    - "Un."\n    - "Deux."\n  follow_ups: [b]\n'
ENTRY_B = '- id: b\n  question: "Imprimer ?"\n  answer: "Oui."\n'


@pytest.mark.parametrize(
    ("broken", "line", "said"),
    [
        # A forgotten dash: two entries glued, every field "doubled"; one problem, the real one.
        (
            ENTRY_B + ENTRY_B.replace("- id: b", "  id: c"),
            4,
            "deux entrées collées : il manque sans doute le tiret",
        ),
        (
            ENTRY_B.replace('  answer: "Oui."', '  answer: "Oui.'),
            3,
            'un guillemet « " » ouvert et jamais refermé',
        ),
        (ENTRY_B.replace("  answer:", "\tanswer:"), 3, "une tabulation en début de ligne"),
        (
            ENTRY_B + '  alternatives:\n      - "un"\n    - "deux"\n',
            5,
            "les tirets « - » de cette liste ne sont pas l'un sous l'autre (lignes 5 et 6)",
        ),
    ],
)
def test_the_common_slips_are_named_at_their_line_and_nowhere_else(
    tmp_path: Path, broken: str, line: int, said: str
) -> None:
    write(tmp_path, "a.yaml", ENTRY_A)  # nobody touched it; its follow-up points into the broken file
    write(tmp_path, "b.yaml", broken)
    problems = [problem for problem in check_faq(tmp_path) if not problem.warning]
    assert [problem.file for problem in problems] == ["b.yaml"], [str(problem) for problem in problems]
    [problem] = problems
    assert problem.line == line and said in problem.message, str(problem)
