from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.faq import FaqProblem, normalize, tokens
from bot.faq.normalize import (
    MAX_INPUT_CHARS,
    check_lexicon_dir,
    detect_language,
    keyword_tokens,
    lexicon,
    load_lexicon,
    phonetic,
    split_glued_elision,
    stem,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Où est l'ÉCRAN ?", "ou est l ecran"),
        ("jarrive pa a ouvrir l’ordi", "j arrive pas a ouvrir l ordinateur"),
        ("C koi le MDP ???", "c est quoi le mot de passe"),
        ("nooon plsss", "non s il te plait"),
        ("qu'il vienne jusqu'à l'accueil", "qu il vienne jusqu a l accueil"),
        ("aujourd'hui", "aujourdhui"),
        ("g oublié", "j ai oublie"),
        ("jsais pas", "je sais pas"),
        ("chai pas", "je sais pas"),
        ("jvois rien", "je vois rien"),
        ("pk mon tel", "pourquoi mon telephone"),
        ("lordi", "l ordinateur"),
        ("lécran", "l ecran"),
        ("cœur", "coeur"),
        ("", ""),
        ("   \n\t ", ""),
        ("😀🎉", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_keeps_real_words_that_look_like_glued_articles() -> None:
    assert normalize("le lien du mail") == "le lien du mail"
    assert normalize("un jpeg") == "un jpeg"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon ordinateur portable", ["ordinateur"]),
        ("le PC", ["ordinateur"]),
        ("mon curriculum vitae", ["cv"]),
        ("un courriel", ["email"]),
        ("un e-mail", ["email"]),
        ("le mail", ["email"]),
        ("le mot de passe", ["motdepass"]),
        ("mdp", ["motdepass"]),
        ("password", ["motdepass"]),
        ("wachtwoord", ["motdepass"]),
        ("battery", ["batteri"]),
        ("batterij", ["batteri"]),
        ("Comment faire pour que ça marche ?", []),
        # "son" is "his" unless its company makes it the sound
        ("il a oublié son ordinateur", ["oubli", "ordinateur"]),
        ("y a pas de son", ["son"]),
        ("monter le son", ["mont", "son"]),
        # a glued "m'ont" is not "monter"
        ("ils mont dit non", []),
        # a breakdown, however it is said
        ("ma souri marche pa", ["souri", "pann"]),
        ("la caméra ne fonctionne plus", ["camera", "pann"]),
        ("my laptop stopped working", ["ordinateur", "pann"]),
        ("le wifi chez moi", ["wifi", "maison"]),
    ],
)
def test_tokens_apply_lexicon_and_stop_words(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


@pytest.mark.parametrize("text", ["mon GSM", "mon tel", "mon portable", "smartphone", "mon téléphone"])
def test_phone_synonyms(text: str) -> None:
    assert tokens(text) == tokens("téléphone")


def test_tokens_share_a_stem_across_inflections() -> None:
    assert tokens("télécharger")[0] == tokens("téléchargés")[0] == tokens("téléchargement")[0]
    assert tokens("formatrice") == tokens("formateurs")
    assert tokens("sauvegarder") == tokens("enregistré")


def test_mot_de_passe_does_not_match_passer() -> None:
    assert set(tokens("mot de passe")).isdisjoint(tokens("passer le permis"))


def test_stem_is_light() -> None:
    assert stem("pdf") == "pdf"
    assert stem("batteries") == stem("batterie")
    assert stem("c3") == "c3"


def test_lexicon_is_loaded_once() -> None:
    assert lexicon() is lexicon()
    assert "mdp" in lexicon().replacements


def test_long_input_is_truncated() -> None:
    text = "ordi " * 5000
    assert len(normalize(text)) <= len("ordinateur ") * (MAX_INPUT_CHARS // len("ordi ") + 1)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_and_tokens_never_raise(text: str) -> None:
    normalized = normalize(text)
    assert isinstance(normalized, str)
    assert normalized == normalized.strip()
    assert "  " not in normalized
    words = tokens(text)
    assert all(isinstance(word, str) and word and " " not in word for word in words)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=50), st.integers(min_value=200, max_value=400))
def test_huge_input(chunk: str, repeat: int) -> None:
    text = (chunk * repeat)[:10_000].ljust(10_000, "x")
    assert len(text) == 10_000
    assert isinstance(normalize(text), str)
    assert isinstance(tokens(text), list)


EMOJI = st.sampled_from(["😀", "🎉", "👍🏽", "❤️", "🇧🇪", "👨‍👩‍👧", "🙏", "\u200d", "\ufe0f"])
CONTROL = st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"])


@given(st.lists(st.one_of(EMOJI, CONTROL)).map("".join))
def test_control_and_emoji_only_input_has_no_tokens(text: str) -> None:
    assert normalize(text) == ""
    assert tokens(text) == []


# ----------------------------------------------------------------------------- Belgian and verb forms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("je sais pas venir demain", "je peux pas venir demain"),
        ("il sait plus ouvrir son mail", "il peut plus ouvrir son mail"),
        ("je sais pas quoi faire", "je sais pas quoi faire"),
        ("je sais pas", "je sais pas"),
        ("septante", "70"),
    ],
)
def test_belgian_usage(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_verb_forms_share_a_token() -> None:
    assert tokens("perdu") == tokens("perdre") == tokens("je perds")
    assert tokens("reçu") == tokens("recevoir")
    assert tokens("rempli") == tokens("remplir")
    assert tokens("ouvert") == tokens("ouvrir")
    assert tokens("il travaillait") == tokens("travailler")


def test_belgian_words_join_their_french_synonyms() -> None:
    assert tokens("ma farde") == tokens("mon dossier")
    assert tokens("le bourgmestre") == tokens("le maire")
    assert tokens("un kot") == tokens("un logement")


def test_negated_words_can_be_dropped() -> None:
    assert tokens("signer un PDF sans l'imprimer", drop_negated=True) == tokens("signer un PDF")
    assert "imprim" in tokens("signer un PDF sans l'imprimer")
    assert tokens("pas besoin de l'imprimer", drop_negated=True) == []
    # a phrase that contains "sans" is a concept, not a negation
    assert tokens("une souris sans fil", drop_negated=True) == tokens("une souris sans fil")


@pytest.mark.parametrize(
    ("misspelt", "word"),
    [
        ("surchof", "surchauffe"),
        ("baterie", "batterie"),
        ("referance", "reference"),
        ("fotografie", "photographie"),
        ("kestion", "question"),
    ],
)
def test_phonetic_key_joins_misspellings(misspelt: str, word: str) -> None:
    assert phonetic(stem(misspelt)) == phonetic(stem(word))


def test_phonetic_key_keeps_different_words_apart() -> None:
    assert phonetic("imprimer") != phonetic("imprimante")
    assert phonetic("clavier") != phonetic("classeur")


# ----------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where can I find the printer?", "en"),
        ("my laptop does not start, what can I do", "en"),
        ("ik heb mijn wachtwoord vergeten, wat moet ik doen", "nl"),
        ("waar is de printer", "nl"),
        ("je trouve pas mon cv", "fr"),
        ("ok cv job computer", "fr"),
        ("mon computer is kapot", "fr"),
        ("le job de mon fils", "fr"),
        ("", "fr"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


# ----------------------------------------------------------------------------- admin lexicon


def write(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")


def test_load_lexicon_without_extra_dir_is_the_shipped_one(tmp_path: Path) -> None:
    assert load_lexicon() is lexicon()
    assert load_lexicon(tmp_path / "lexique") is lexicon()


def test_admin_lexicon_extends_the_shipped_one(tmp_path: Path) -> None:
    write(
        tmp_path / "lexique",
        "centre.yaml",
        "replacements:\n  cyber: cybercafe\n"
        "phrases:\n  salle verte: salleverte\n"
        "synonyms:\n  - [natel, gsm]\n  - [cybercafe, cyberespace]\n"
        "stop_words: [svp, wesh]\n",
    )
    extended = load_lexicon(tmp_path / "lexique")
    assert extended is not lexicon()
    assert normalize("le cyber", extended) == "le cybercafe"
    assert tokens("mon natel", extended) == tokens("mon téléphone")  # joins the shipped group
    assert tokens("cyberespace", extended) == tokens("cybercafé", extended)
    assert tokens("la salle verte", extended) == [stem("salleverte")]
    assert tokens("wesh le wifi", extended) == ["wifi"]
    # the shipped lexicon is untouched, and used by default
    assert normalize("le cyber") == "le cyber"
    assert "mdp" in extended.replacements


def test_admin_lexicon_is_reloaded_when_a_file_changes(tmp_path: Path) -> None:
    directory = tmp_path / "lexique"
    write(directory, "a.yaml", "replacements:\n  cyber: cybercafe\n")
    first = load_lexicon(directory)
    assert load_lexicon(directory) is first
    write(directory, "a.yaml", "replacements:\n  cyber: cyberespace public\n")
    assert normalize("cyber", load_lexicon(directory)) == "cyberespace public"


def test_invalid_admin_items_are_skipped(tmp_path: Path) -> None:
    directory = tmp_path / "lexique"
    write(directory, "a.yaml", "synonyms:\n  - natel\n  - [natel, gsm]\n")
    write(directory, "b.yaml", "replacements: [oops\n")
    assert tokens("natel", load_lexicon(directory)) == tokens("gsm")


def test_check_lexicon_dir_missing_or_valid(tmp_path: Path) -> None:
    assert check_lexicon_dir(tmp_path / "lexique") == []
    write(tmp_path / "lexique", "ok.yaml", "# nothing yet\n")
    write(tmp_path / "lexique", "empty-sections.yaml", "synonyms:\nreplacements:\n")
    write(tmp_path / "lexique", "notes.txt", "not a lexicon")
    assert check_lexicon_dir(tmp_path / "lexique") == []


def test_shipped_lexicon_is_valid(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "bot" / "faq" / "data" / "lexicon.yaml"
    write(tmp_path / "lexique", "copy.yaml", shipped.read_text(encoding="utf-8"))
    assert check_lexicon_dir(tmp_path / "lexique") == []


def test_check_lexicon_dir_reports_each_problem_with_file_and_line(tmp_path: Path) -> None:
    directory = tmp_path / "lexique"
    write(directory, "syntaxe.yaml", "replacements:\n  cyber: cybercafe\n  oops: [\n")
    write(
        directory,
        "belge.yaml",
        "synonyms:\n"
        "  - [natel, gsm]\n"
        "  - natel\n"
        "  - [kot, 12]\n"
        "  - [carte bancaire, bancontact]\n"
        "replacements:\n"
        "  cyber: [a, b]\n"
        "couleurs: [rouge]\n",
    )
    write(directory, "liste.yaml", "- natel\n- gsm\n")
    problems = {(problem.file, problem.line): problem.message for problem in check_lexicon_dir(directory)}
    assert set(problems) == {
        ("lexique/belge.yaml", 3),
        ("lexique/belge.yaml", 4),
        ("lexique/belge.yaml", 5),
        ("lexique/belge.yaml", 7),
        ("lexique/belge.yaml", 8),
        ("lexique/liste.yaml", 1),
        ("lexique/syntaxe.yaml", 4),
    }
    assert "liste" in problems[("lexique/belge.yaml", 3)]
    assert "texte" in problems[("lexique/belge.yaml", 4)]
    assert "phrases" in problems[("lexique/belge.yaml", 5)]
    assert "couleurs" in problems[("lexique/belge.yaml", 8)]
    assert "syntaxe" in problems[("lexique/syntaxe.yaml", 4)]
    assert all(isinstance(problem, FaqProblem) for problem in check_lexicon_dir(directory))


def test_related_words_point_to_their_concepts(tmp_path: Path) -> None:
    shipped = lexicon()
    assert shipped.related[stem("sombre")][0] == stem("luminosite")
    assert shipped.related[stem("arabe")] == (stem("langue"),)
    write(
        tmp_path / "lexique",
        "centre.yaml",
        "related:\n  cafeteria repas: [sandwich, tartine, soupe]\n  langue: [wolof]\n",
    )
    extended = load_lexicon(tmp_path / "lexique")
    assert extended.related[stem("sandwich")] == (stem("cafeteria"), stem("repas"))
    assert extended.related[stem("wolof")] == (stem("langue"),)
    # the words themselves are not replaced: only the matcher falls back on the concept
    assert tokens("une tartine", extended) == [stem("tartine")]


def test_check_lexicon_dir_reports_bad_related_section(tmp_path: Path) -> None:
    directory = tmp_path / "lexique"
    write(directory, "liste.yaml", "related:\n  - [sombre, luminosite]\n")
    write(directory, "mots.yaml", "related:\n  repas: sandwich\n  langue: [wolof, bambara peul]\n")
    problems = {(problem.file, problem.line): problem.message for problem in check_lexicon_dir(directory)}
    assert set(problems) == {("lexique/liste.yaml", 2), ("lexique/mots.yaml", 2), ("lexique/mots.yaml", 3)}
    assert "concept" in problems[("lexique/liste.yaml", 2)]
    assert "liste" in problems[("lexique/mots.yaml", 2)]
    assert "un seul mot" in problems[("lexique/mots.yaml", 3)]


def test_a_glued_article_is_split_from_a_stem_without_stemming_it_again() -> None:
    known = {stem("inscrire")}.__contains__
    assert split_glued_elision(stem("sinscrire"), known, stemmed=True) == stem("inscrire")
    # stemming "inscrir" again would give "inscr", which the FAQ does not know
    assert split_glued_elision(stem("sinscrire"), known) is None


def test_a_one_word_keyword_is_a_topic_even_when_it_is_a_stop_word() -> None:
    assert keyword_tokens("son") == ["son"]
    assert tokens("son") == []
    assert keyword_tokens("haut-parleurs") == tokens("haut-parleurs")
    assert keyword_tokens("mot de passe") == ["motdepass"]


def test_kinds_group_the_things_of_one_kind(tmp_path: Path) -> None:
    shipped = lexicon()
    devices = next(group for group in shipped.kinds if stem("tablette") in group)
    # synonyms are folded into their canonical word: "gsm" is the phone
    assert {stem("telephone"), stem("ordinateur")} <= devices
    assert stem("gsm") not in devices
    write(tmp_path / "lexique", "centre.yaml", "kinds:\n  - [ricoh, canon, epson]\n")
    extended = load_lexicon(tmp_path / "lexique")
    assert frozenset({stem("ricoh"), stem("canon"), stem("epson")}) in extended.kinds
    assert devices in extended.kinds


def test_check_lexicon_dir_reports_a_phrase_of_one_word(tmp_path: Path) -> None:
    directory = tmp_path / "lexique"
    write(directory, "phrases.yaml", "phrases:\n  natel: telephone\n  pas de reseau: wifi\n")
    [problem] = check_lexicon_dir(directory)
    assert (problem.file, problem.line) == ("lexique/phrases.yaml", 2)
    assert "replacements" in problem.message


def test_check_lexicon_dir_reports_bad_kinds_section(tmp_path: Path) -> None:
    directory = tmp_path / "lexique"
    write(directory, "seul.yaml", "kinds:\n  - [ricoh]\n")
    write(directory, "table.yaml", "kinds:\n  imprimantes: [ricoh, canon]\n")
    problems = {(problem.file, problem.line): problem.message for problem in check_lexicon_dir(directory)}
    assert set(problems) == {("lexique/seul.yaml", 2), ("lexique/table.yaml", 2)}
    assert "moins de 2 mots" in problems[("lexique/seul.yaml", 2)]
    assert "liste de groupes" in problems[("lexique/table.yaml", 2)]


def test_check_lexicon_dir_reports_bad_encoding(tmp_path: Path) -> None:
    directory = tmp_path / "lexique"
    directory.mkdir()
    (directory / "latin1.yaml").write_bytes("replacements:\n  caf\xe9: cafe\n".encode("latin-1"))
    [problem] = check_lexicon_dir(directory)
    assert problem.file == "lexique/latin1.yaml" and problem.line == 2


@pytest.mark.parametrize(
    ("text", "shortcut"),
    [
        ("ctrl c ctrl v c koi", "ctrlckey"),
        ("Ctrl+Z pour annuler", "ctrlzkey"),
        ("CTRL-S sa sert a quoi", "ctrlskey"),
        ("control x", "ctrlxkey"),
    ],
)
def test_keyboard_shortcuts_keep_their_letter(text: str, shortcut: str) -> None:
    result = tokens(text)
    assert "ctrl" in result
    assert shortcut in result


@pytest.mark.parametrize(
    "text",
    ["passer vers 17h", "il est 8h30", "depuis 20min", "au 3eme etage", "le 1er mai", "a 42 ans"],
)
def test_times_and_ordinals_are_story_not_topic(text: str) -> None:
    assert not any(char.isdigit() for word in tokens(text) for char in word), tokens(text)


def test_sans_is_a_function_word_but_still_negates_faq_phrasings() -> None:
    assert "sans" not in tokens("signer sans imprimante")
    assert tokens("signer un pdf sans l'imprimer", drop_negated=True) == ["sign", "pdf"]


@pytest.mark.parametrize("form", ["tient", "tiens", "vois", "voit", "remets", "sert", "descend", "revient"])
def test_present_forms_of_everyday_verbs_are_common_words(form: str) -> None:
    # The stemmer cannot join these to their infinitive: listed, they are taken for the story of a
    # message, and never "corrected" into an FAQ word that looks like them ("tient" -> "vient").
    [token] = tokens(form)
    assert token in lexicon().common_stems


@pytest.mark.parametrize(
    ("text", "expected"), [("sa bouge plu", "ca bouge plus"), ("texte dun site", "texte d un site")]
)
def test_sms_spellings_of_function_words(text: str, expected: str) -> None:
    assert normalize(text) == expected
