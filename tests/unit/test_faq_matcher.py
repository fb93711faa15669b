from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.faq import FaqBase, FaqEntry, FaqMatcher, MatchResult, Outcome, load_faq
from bot.faq import matcher as matcher_module
from bot.faq.matcher import Thresholds
from bot.faq.normalize import load_lexicon

FAQ_YAML = """\
- id: wifi-centre
  question: "Comment me connecter au Wi-Fi du centre ?"
  alternatives:
    - "Quel est le mot de passe du Wi-Fi ?"
  keywords: [Wi-Fi, mot de passe, réseau]
  answer: "Le mot de passe est affiché à l'accueil."

- id: batterie-ordinateur
  question: "Comment faire durer la batterie de l'ordinateur plus longtemps ?"
  alternatives:
    - "La batterie de mon ordinateur portable se vide trop vite."
  keywords: [batterie, autonomie]
  answer: "Activez l'économiseur de batterie."

- id: ecran-noir
  question: "L'écran de mon ordinateur reste noir, que faire ?"
  alternatives:
    - "Mon ordinateur ne veut plus s'allumer."
  keywords: [écran noir, allumer]
  answer: "Branchez le chargeur et appuyez 10 secondes sur le bouton."

- id: cv-photo
  question: "Faut-il mettre une photo sur mon CV ?"
  alternatives:
    - "Quelle photo choisir pour mon curriculum vitae ?"
  keywords: [photo, CV]
  answer: "Ce n'est pas obligatoire."

- id: cv-modele
  question: "Où trouver un modèle de CV ?"
  alternatives:
    - "Comment faire mon CV sur l'ordinateur ?"
  keywords: [modèle, CV]
  answer: "Demandez les modèles au formateur."

- id: cv-imprimer
  question: "Comment imprimer mon CV au centre ?"
  alternatives:
    - "Où est l'imprimante du cybercafé ?"
  keywords: [imprimer, imprimante, CV]
  answer: "L'imprimante est au cybercafé."

- id: gsm-sonnerie
  question: "Comment mettre mon téléphone en silencieux pendant la formation ?"
  alternatives:
    - "Comment couper la sonnerie de mon GSM ?"
  keywords: [silencieux, sonnerie]
  answer: "Appuyez sur le bouton du volume."

- id: mail-piece-jointe
  question: "Comment envoyer un document en pièce jointe par e-mail ?"
  alternatives:
    - "Comment joindre un fichier à un courriel ?"
  keywords: [pièce jointe, e-mail]
  answer: "Cliquez sur le trombone."
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> FaqBase:
    directory = tmp_path_factory.mktemp("faq")
    (directory / "general.yaml").write_text(FAQ_YAML, encoding="utf-8")
    return load_faq(directory)


@pytest.fixture(scope="module")
def matcher(base: FaqBase) -> FaqMatcher:
    return FaqMatcher(base)


def assert_valid(result: MatchResult) -> None:
    assert isinstance(result.outcome, Outcome)
    assert 0.0 <= result.confidence <= 1.0
    if result.outcome is Outcome.ANSWER:
        assert isinstance(result.entry, FaqEntry)
        assert result.suggestions == ()
    elif result.outcome is Outcome.SUGGEST:
        assert result.entry is None
        assert 1 <= len(result.suggestions) <= 3
        assert len({entry.id for entry in result.suggestions}) == len(result.suggestions)
    else:
        assert result.entry is None
        assert result.suggestions == ()


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!...", "😀😀"])
def test_empty_or_contentless_text_falls_back(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result == MatchResult(Outcome.FALLBACK, None, (), 0.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Comment me connecter au Wi-Fi du centre ?", "wifi-centre"),
        ("c koi le mdp du wifi stp", "wifi-centre"),
        ("wifi paswoord", "wifi-centre"),
        ("wat is het wachtwoord van de wifi", "wifi-centre"),
        ("ma baterie de lordi se vide tro vite", "batterie-ordinateur"),
        ("battery of my laptop is empty too fast", "batterie-ordinateur"),
        ("ECRAN NOIR !!!", "ecran-noir"),
        ("jarrive pa a allumer mon pc", "ecran-noir"),
        ("faut une foto sur le cv ?", "cv-photo"),
        ("mettre mon gsm en silencieux", "gsm-sonnerie"),
        ("comment joindre un fichier a un mail", "mail-piece-jointe"),
    ],
)
def test_answers_clear_questions(matcher: FaqMatcher, text: str, expected: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert result.outcome is Outcome.ANSWER, matcher.candidates(text)
    assert result.entry is not None and result.entry.id == expected


def test_generic_word_in_several_entries_suggests(matcher: FaqMatcher) -> None:
    result = matcher.match("cv")
    assert_valid(result)
    assert result.outcome is Outcome.SUGGEST
    assert {entry.id for entry in result.suggestions} == {"cv-photo", "cv-modele", "cv-imprimer"}


@pytest.mark.parametrize("text", ["ordi", "mon ordinateur", "pc"])
def test_short_generic_message_is_never_answered(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert result.outcome is not Outcome.ANSWER


@pytest.mark.parametrize(
    "text",
    [
        "quel temps fera-t-il demain à Namur",
        "j'ai mal au dos",
        "combien coûte un ticket de bus",
    ],
)
def test_out_of_scope_falls_back(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert result.outcome is Outcome.FALLBACK, matcher.candidates(text)


@pytest.mark.parametrize(
    "text",
    [
        "comment changer le fond d'écran de mon ordinateur",
        "comment faire une lettre de motivation",
        "je peux charger mon gsm avec le chargeur de l'ordi",
        "comment trouver un appartement pas cher",
    ],
)
def test_near_misses_are_not_answered(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert result.outcome is not Outcome.ANSWER, matcher.candidates(text)


def test_candidates_are_sorted_and_limited(matcher: FaqMatcher) -> None:
    found = matcher.candidates("photo cv modele", limit=2)
    assert len(found) == 2
    assert found[0][1] >= found[1][1]
    assert all(0.0 <= confidence <= 1.0 for _, confidence in found)
    assert matcher.candidates("cv", limit=0) == []
    assert matcher.candidates("") == []


def test_single_entry_base(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        '- id: wifi\n  question: "Quel est le mot de passe du wifi ?"\n  answer: "À l\'accueil."\n',
        encoding="utf-8",
    )
    matcher = FaqMatcher(load_faq(tmp_path))
    assert matcher.match("mdp wifi").outcome is Outcome.ANSWER
    assert matcher.match("recette des boulets").outcome is Outcome.FALLBACK


def test_empty_base_never_raises(tmp_path: Path) -> None:
    matcher = FaqMatcher(FaqBase(entries=(), directory=tmp_path))
    assert matcher.match("wifi").outcome is Outcome.FALLBACK
    assert matcher.candidates("wifi") == []


def test_match_is_fast_even_for_huge_input(matcher: FaqMatcher) -> None:
    texts = ["wifi mdp", "ma baterie de lordi se vide tro vite " * 300, "x" * 10_000, "é" * 10_000]
    for text in texts:
        matcher.match(text)  # warm up
    for text in texts:
        start = time.perf_counter()
        assert_valid(matcher.match(text))
        assert time.perf_counter() - start < 0.05


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_match_never_raises_on_random_text(matcher: FaqMatcher, text: str) -> None:
    assert_valid(matcher.match(text))


WORDS = st.sampled_from(
    [
        "wifi",
        "mdp",
        "cv",
        "photo",
        "ordi",
        "batterie",
        "gsm",
        "le",
        "de",
        "koi",
        "pa",
        "écran",
        "noir",
        "😀",
        "\x00",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=12).map(" ".join))
def test_match_on_random_word_salads_is_valid(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert [entry for entry, _ in matcher.candidates(text, limit=3)] == [
        entry for entry, _ in matcher.candidates(text, limit=5)[:3]
    ]


@settings(max_examples=20, deadline=None)
@given(st.text(min_size=1, max_size=20), st.integers(min_value=500, max_value=1000))
def test_match_on_10000_chars(matcher: FaqMatcher, chunk: str, repeat: int) -> None:
    assert_valid(matcher.match((chunk * repeat)[:10_000]))


# ----------------------------------------------------------------------------- realistic trainee messages

CENTRE_FAQ = """\
- id: imprimer-cybercafe
  question: "Comment imprimer un document au cybercafé ?"
  alternatives:
    - "Où est l'imprimante pour les stagiaires ?"
  keywords: [imprimer, imprimante]
  answer: "Envoyez le document sur l'imprimante « Cyber » et payez 10 cents la page à l'accueil."

- id: signer-pdf
  question: "Comment signer un document PDF sans l'imprimer ?"
  alternatives:
    - "Comment remplir un formulaire PDF sur l'ordinateur ?"
  keywords: [PDF, signer, formulaire]
  answer: "Ouvrez le PDF avec Edge et choisissez « Dessiner » : pas besoin de l'imprimer."

- id: mot-de-passe-oublie
  question: "J'ai oublié le mot de passe de ma boîte mail, que faire ?"
  alternatives:
    - "Comment récupérer mon compte e-mail ?"
  keywords: [mot de passe, oublié, récupérer]
  answer: "Cliquez sur « Mot de passe oublié » et suivez les étapes avec votre GSM."

- id: absence
  question: "Que faire si je ne peux pas venir à la formation ?"
  alternatives:
    - "Je suis malade, qui dois-je prévenir ?"
  keywords: [absence, malade, prévenir]
  answer: "Téléphonez à l'accueil avant 9 h et apportez un certificat médical si vous êtes malade."

- id: attestation-chomage
  question: "Comment obtenir une attestation de formation pour le chômage ?"
  alternatives:
    - "L'ONEM me demande une preuve que je suis en formation."
  keywords: [attestation, ONEM, chômage]
  answer: "Demandez l'attestation à votre formateur : elle est prête en deux jours."

- id: cv-modele
  question: "Où trouver un modèle de CV ?"
  alternatives:
    - "Comment commencer mon CV ?"
  keywords: [modèle, CV]
  answer: "Les modèles sont dans le dossier « CV » sur le bureau des ordinateurs du cybercafé."

- id: cv-envoyer
  question: "Comment envoyer mon CV à un employeur par e-mail ?"
  alternatives:
    - "Comment joindre mon CV à un e-mail ?"
  keywords: [CV, envoyer, e-mail]
  answer: "Cliquez sur le trombone, choisissez votre CV en PDF, puis Envoyer."

- id: cv-photo
  question: "Faut-il une photo sur le CV ?"
  alternatives:
    - "Quelle photo mettre sur mon CV ?"
  keywords: [photo, CV]
  answer: "Ce n'est pas obligatoire ; si vous en mettez une, choisissez une photo simple et récente."
"""


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> FaqMatcher:
    directory = tmp_path_factory.mktemp("centre")
    (directory / "centre.yaml").write_text(CENTRE_FAQ, encoding="utf-8")
    return FaqMatcher(load_faq(directory))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jai oublie mon mdp de gmail", "mot-de-passe-oublie"),
        ("g oublié le mot de pass de ma boite mail", "mot-de-passe-oublie"),
        ("je sais pas venir demain a la formation", "absence"),
        ("I am sick today, I can't come to the training", "absence"),
        ("moi malade, pas venir, qui prevenir ?", "absence"),
        ("ou sont les imprimantes pour imprimer au cyber", "imprimer-cybercafe"),
        ("kan ik hier iets afdrukken op de printer", "imprimer-cybercafe"),
        ("l onem veut une atestation de formation", "attestation-chomage"),
        ("comment on signe un formulaire pdf", "signer-pdf"),
        (
            "bonjour madame, hier au cours la formatrice a parlé de plein de choses et après j'ai voulu "
            "envoyer mon cv a un patron par mail mais je sais pas comment faire",
            "cv-envoyer",
        ),
    ],
)
def test_answers_realistic_trainee_messages(centre: FaqMatcher, text: str, expected: str) -> None:
    result = centre.match(text)
    assert_valid(result)
    assert result.outcome is Outcome.ANSWER, centre.candidates(text)
    assert result.entry is not None and result.entry.id == expected


@pytest.mark.parametrize(
    "text",
    [
        "j'ai perdu ma carte d'identité",
        "ou trouver un appartement pas cher",
        "combien je vais toucher au chomage",
    ],
)
def test_realistic_near_misses_are_not_answered(centre: FaqMatcher, text: str) -> None:
    result = centre.match(text)
    assert_valid(result)
    assert result.outcome is not Outcome.ANSWER, centre.candidates(text)


def test_what_an_entry_does_without_is_not_its_topic(centre: FaqMatcher) -> None:
    # "signer un PDF sans l'imprimer" must not answer a question about printing a PDF
    result = centre.match("comment imprimer un pdf en couleur")
    assert_valid(result)
    assert result.entry is None or result.entry.id != "signer-pdf", centre.candidates("imprimer un pdf")


def test_generic_word_suggests_the_entries_most_about_it(centre: FaqMatcher) -> None:
    result = centre.match("cv")
    assert result.outcome is Outcome.SUGGEST
    ids = [entry.id for entry in result.suggestions]
    # every suggestion has "CV" in its question, the shortest question first
    assert ids[0] == "cv-photo"
    assert set(ids) == {"cv-modele", "cv-envoyer", "cv-photo"}


def test_admin_lexicon_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "centre.yaml").write_text(CENTRE_FAQ, encoding="utf-8")
    question = "kes ke je fais pour le papier du pointage"
    assert FaqMatcher(load_faq(tmp_path)).match(question).outcome is not Outcome.ANSWER
    (tmp_path / "lexique").mkdir()
    (tmp_path / "lexique" / "chomage.yaml").write_text(
        "synonyms:\n  - [attestation, papier]\nphrases:\n  papier du pointage: attestation chomage\n",
        encoding="utf-8",
    )
    result = FaqMatcher(load_faq(tmp_path)).match(question)
    assert result.outcome is Outcome.ANSWER and result.entry is not None
    assert result.entry.id == "attestation-chomage"


def test_explicit_lexicon_overrides_the_folder(tmp_path: Path) -> None:
    (tmp_path / "centre.yaml").write_text(CENTRE_FAQ, encoding="utf-8")
    (tmp_path / "lexique").mkdir()
    (tmp_path / "lexique" / "x.yaml").write_text("synonyms:\n  - [attestation, papier]\n", encoding="utf-8")
    base = load_faq(tmp_path)
    assert FaqMatcher(base).match("papier onem chomage").entry is not None
    matcher = FaqMatcher(base, load_lexicon())
    assert [entry.id for entry, _ in matcher.candidates("papier")] == []


def test_thresholds_can_be_changed(centre: FaqMatcher) -> None:
    matcher = FaqMatcher(centre._base, thresholds=Thresholds(answer=1.01, evidence_relief=0.0))
    assert matcher.match("jai oublie mon mdp de gmail").outcome is Outcome.SUGGEST


def test_everyday_words_are_not_taken_for_misspelt_faq_words(centre: FaqMatcher) -> None:
    # "demain" looks like "demande" (an attestation entry word), "comprends" ends like "prendre": they are
    # real words, not typos, and must not bring an entry forward.
    assert centre.candidates("il va pleuvoir demain") == []
    assert all(entry.id != "attestation-chomage" for entry, _ in centre.candidates("demain matin"))


def test_prefixed_word_is_not_a_typo_of_the_word_it_ends_with() -> None:
    from bot.faq.matcher import _is_derived_word

    assert _is_derived_word("comprend", "prend")
    assert _is_derived_word("bpost", "post")
    assert _is_derived_word("chargeur", "charg")
    assert not _is_derived_word("ordinatuer", "ordinateur")


def test_two_specific_words_in_a_long_story_answer(centre: FaqMatcher) -> None:
    text = (
        "mon chien a mangé la feuille de l'onem hier soir, ils veulent l'attestation avant vendredi "
        "sinon pas de paiement"
    )
    result = centre.match(text)
    assert_valid(result)
    assert result.outcome is Outcome.ANSWER, centre.candidates(text)
    assert result.entry is not None and result.entry.id == "attestation-chomage"


def test_message_with_evidence_for_two_entries_suggests_both(centre: FaqMatcher) -> None:
    result = centre.match("je suis malade et l'imprimante du cyber marche pas")
    assert_valid(result)
    assert result.outcome is Outcome.SUGGEST
    assert {entry.id for entry in result.suggestions} >= {"imprimer-cybercafe", "absence"}


def test_evidence_rule_can_be_switched_off(centre: FaqMatcher) -> None:
    text = (
        "mon chien a mangé la feuille de l'onem hier soir, ils veulent l'attestation avant vendredi "
        "sinon pas de paiement"
    )
    strict = FaqMatcher(centre._base, thresholds=Thresholds(evidence=100.0))
    assert strict.match(text).outcome is Outcome.SUGGEST


# ----------------------------------------------------------------------------- near-misses and typos

DEVICES_FAQ = """\
- id: charger-gsm
  question: "Puis-je charger mon téléphone sur l'ordinateur ?"
  alternatives:
    - "Comment recharger mon GSM avec le câble USB de l'ordinateur ?"
  keywords: [charger, USB]
  answer: "Oui : branchez le câble du téléphone sur un port USB de l'ordinateur allumé."

- id: langue-clavier
  question: "Comment changer la langue du clavier ?"
  alternatives:
    - "Mon clavier écrit des lettres bizarres."
  keywords: [langue, clavier, azerty]
  answer: "Appuyez sur Windows + Espace pour passer d'une langue à l'autre."

- id: venir-centre
  question: "Comment venir au centre en bus ?"
  alternatives:
    - "Quel bus pour aller au centre ?"
  keywords: [bus, venir]
  answer: "Le bus 12 s'arrête devant le centre."
"""


@pytest.fixture(scope="module")
def devices(tmp_path_factory: pytest.TempPathFactory) -> FaqMatcher:
    directory = tmp_path_factory.mktemp("devices")
    (directory / "devices.yaml").write_text(DEVICES_FAQ, encoding="utf-8")
    return FaqMatcher(load_faq(directory))


def test_word_derived_from_a_matched_word_is_suggested_not_answered(devices: FaqMatcher) -> None:
    # The FAQ never speaks of a "chargeur": charging the laptop with the phone's charger is another
    # question, though every other word fits the entry. The entry is still offered.
    result = devices.match("je peux charger mon ordi avec le chargeur de mon gsm ?")
    assert_valid(result)
    assert result.outcome is Outcome.SUGGEST, devices.candidates("chargeur")
    assert result.suggestions[0].id == "charger-gsm"
    # without the derived word, the same question is answered
    plain = devices.match("je peux charger mon gsm sur mon ordi ?")
    assert plain.outcome is Outcome.ANSWER and plain.entry is not None and plain.entry.id == "charger-gsm"


def test_derived_word_known_to_the_faq_is_not_a_near_miss(tmp_path: Path) -> None:
    faq = DEVICES_FAQ.replace("le câble USB de l'ordinateur", "le chargeur de l'ordinateur")
    (tmp_path / "devices.yaml").write_text(faq, encoding="utf-8")
    result = FaqMatcher(load_faq(tmp_path)).match("recharger mon gsm avec le chargeur de l'ordi")
    assert result.outcome is Outcome.ANSWER and result.entry is not None
    assert result.entry.id == "charger-gsm"


def test_typo_correction_keeps_the_first_letter(devices: FaqMatcher) -> None:
    # "blague" is one letter away from "langue" and "tient" from "vient", but a different first letter
    # makes another word: they bring no entry forward.
    assert devices.candidates("raconte moi une blague") == []
    assert all(entry.id != "venir-centre" for entry, _ in devices.candidates("il tient pas"))
    # a typo that keeps its first letter is still corrected
    result = devices.match("changer la langeu du clavier")
    assert result.outcome is Outcome.ANSWER and result.entry is not None
    assert result.entry.id == "langue-clavier"


SCREEN_FAQ = """\
- id: luminosite
  question: "Comment régler la luminosité de l'écran ?"
  alternatives:
    - "Mon écran est trop clair ou pas assez, comment changer ?"
  answer: "Appuyez sur les touches avec un soleil, en haut du clavier."

- id: mode-sombre
  question: "Comment mettre Windows en mode sombre ?"
  alternatives:
    - "Je veux un fond noir dans les fenêtres."
  answer: "Paramètres > Personnalisation > Couleurs > Sombre."
"""


def test_a_word_the_faq_does_not_use_counts_as_its_concept(tmp_path: Path) -> None:
    (tmp_path / "ecran.yaml").write_text(SCREEN_FAQ.split("\n- id: mode-sombre")[0], encoding="utf-8")
    matcher = FaqMatcher(load_faq(tmp_path))
    # "ébloui" is not in the FAQ: the lexicon relates it to "luminosité", which is
    result = matcher.match("l'écran m'éblouit")
    assert result.outcome is Outcome.ANSWER and result.entry is not None, matcher.candidates("ebloui")
    assert result.entry.id == "luminosite"


def test_a_word_the_faq_uses_keeps_its_own_meaning(tmp_path: Path) -> None:
    (tmp_path / "ecran.yaml").write_text(SCREEN_FAQ, encoding="utf-8")
    matcher = FaqMatcher(load_faq(tmp_path))
    # "sombre" belongs to the brightness concept, but this FAQ has an entry about the dark mode
    result = matcher.match("windows en sombre svp")
    assert result.entry is not None and result.entry.id == "mode-sombre"


def test_admin_related_words_extend_the_concepts(tmp_path: Path) -> None:
    (tmp_path / "centre.yaml").write_text(CENTRE_FAQ, encoding="utf-8")
    question = "la ricoh du cyber sa marche comment"
    assert FaqMatcher(load_faq(tmp_path)).match(question).entry is None
    (tmp_path / "lexique").mkdir()
    (tmp_path / "lexique" / "centre.yaml").write_text(
        "related:\n  imprimante: [ricoh, canon, epson]\n", encoding="utf-8"
    )
    candidates = FaqMatcher(load_faq(tmp_path)).candidates(question)
    assert candidates and candidates[0][0].id == "imprimer-cybercafe"


def test_the_clause_that_asks_outweighs_the_story(
    centre: FaqMatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        "hier je suis allée au cyber pour imprimer mon cv et les attestations du chômage, l'imprimante "
        "marchait pas, y a un modèle de cv quelque part ?"
    )
    result = centre.match(text)
    assert result.outcome is Outcome.ANSWER, centre.candidates(text)
    assert result.entry is not None and result.entry.id == "cv-modele"
    # Weighed like the story, the question's words lose against the printing and the attestation.
    monkeypatch.setattr(matcher_module, "QUESTION_CLAUSE_FACTOR", 1.0)
    flat = FaqMatcher(centre._base).match(text)
    assert flat.outcome is Outcome.SUGGEST
    assert flat.suggestions[0].id == "attestation-chomage"


def assert_answers(matcher: FaqMatcher, text: str, entry_id: str) -> None:
    """Assert that the matcher answers ``text`` with the entry ``entry_id``."""
    result = matcher.match(text)
    assert result.outcome is Outcome.ANSWER, (text, matcher.candidates(text))
    assert result.entry is not None and result.entry.id == entry_id


def matcher_on(tmp_path: Path, faq_yaml: str, thresholds: Thresholds | None = None) -> FaqMatcher:
    """Return a matcher over one FAQ file written from ``faq_yaml``."""
    (tmp_path / "faq.yaml").write_text(faq_yaml, encoding="utf-8")
    return FaqMatcher(load_faq(tmp_path), thresholds=thresholds)


PARKING_FAQ = """\
- id: parking
  question: "Où me garer quand je viens au centre ?"
  alternatives:
    - "Est-ce qu'il y a un parking pour les stagiaires ?"
  keywords: [voiture, vélo, scooter]
  answer: "Le parking est derrière le bâtiment ; les vélos vont dans l'abri à côté de l'accueil."

- id: horaires
  question: "À quelle heure ouvre l'accueil ?"
  alternatives:
    - "Quels sont les horaires du centre ?"
  keywords: [horaires, ouvert]
  answer: "L'accueil est ouvert de 8 h 30 à 16 h 30."
"""


def test_a_keyword_alone_is_a_topic_not_a_question(tmp_path: Path) -> None:
    matcher = matcher_on(tmp_path, PARKING_FAQ)
    for text in ("je voudrais acheter une voiture", "un prêt pour une voiture"):
        result = matcher.match(text)
        assert result.outcome is Outcome.SUGGEST, text
        assert [entry.id for entry in result.suggestions] == ["parking"]
    assert_answers(matcher, "je viens en voiture, je la gare où ?", "parking")


BENEFITS_FAQ = """\
- id: allocations-chomage
  question: "Comment demander mes allocations de chômage ?"
  alternatives:
    - "Comment remplir ma carte de contrôle ?"
  keywords: [allocations, chômage]
  answer: "Votre syndicat (CSC, FGTB, CGSLB) ou la CAPAC vous aide à remplir la carte de contrôle."

- id: formulaire-pdf
  question: "Comment remplir un formulaire PDF sur l'ordinateur ?"
  alternatives:
    - "Comment écrire dans un PDF ?"
  keywords: [formulaire, PDF]
  answer: "Ouvrez le PDF avec Edge et cliquez dans les cases."
"""


def test_a_word_only_the_answer_names_is_evidence_for_its_entry(tmp_path: Path) -> None:
    # Only the evidence rule can answer here, and it asks for a bit more than one specific word.
    matcher = matcher_on(tmp_path, BENEFITS_FAQ, Thresholds(answer=0.9, evidence=1.2, evidence_relief=0.4))
    # "csc" is in no question, only in the benefits answer: it tips the message towards that entry.
    assert_answers(matcher, "carte c3 de la csc, comment on la remplit", "allocations-chomage")
    assert matcher.match("carte c3, comment on la remplit").outcome is Outcome.SUGGEST


DEVICES_ANSWERS_FAQ = """\
- id: charger-telephone
  question: "Puis-je charger mon téléphone avec l'ordinateur ?"
  alternatives:
    - "Est-ce que ça abîme l'ordinateur de recharger mon GSM dessus ?"
  keywords: [charger, USB]
  answer: "Oui : branchez le câble du téléphone dans un port USB de l'ordinateur. Cela n'abîme rien."

- id: capture-ecran
  question: "Comment faire une capture d'écran ?"
  alternatives:
    - "Comment faire un screenshot sur l'ordinateur ou sur le téléphone ?"
  keywords: [capture, screenshot]
  answer: "Sur l'ordinateur : Windows + Maj + S. Sur le téléphone : bouton marche et volume bas."
"""


def test_the_answer_tells_apart_entries_that_share_the_question_words(tmp_path: Path) -> None:
    matcher = matcher_on(tmp_path, DEVICES_ANSWERS_FAQ, Thresholds(answer=0.4, margin=0.05))
    # Both entries ask about the phone and the laptop; only the charging answer speaks of the cable.
    assert_answers(
        matcher, "mon gsm est vide, j'ai que le câble, je peux le mettre sur mon ordi ?", "charger-telephone"
    )
    assert matcher.match("gsm et ordi").outcome is Outcome.SUGGEST


LANGUAGE_FAQ = """\
- id: langue-windows
  question: "Comment changer la langue de l'ordinateur ?"
  alternatives:
    - "Windows est en néerlandais, comment le remettre en français ?"
  keywords: [langue, Windows]
  answer: "Paramètres > Heure et langue > Langue : choisissez Français, puis redémarrez l'ordinateur."

- id: wifi
  question: "Comment me connecter au Wi-Fi du centre ?"
  alternatives:
    - "Quel est le mot de passe du Wi-Fi ?"
  keywords: [Wi-Fi]
  answer: "Le mot de passe est affiché à l'accueil."
"""


def test_a_thing_the_entry_never_names_beside_another_of_its_kind_is_suggested(tmp_path: Path) -> None:
    matcher = matcher_on(tmp_path, LANGUAGE_FAQ)
    assert_answers(matcher, "comment changer la langue de mon ordi", "langue-windows")
    # The entry is about the laptop and Windows; the phone and Android are other things of those kinds.
    for text in ("comment changer la langue de mon gsm", "comment changer la langue sur android"):
        result = matcher.match(text)
        assert result.outcome is Outcome.SUGGEST, (text, matcher.candidates(text))
        assert [entry.id for entry in result.suggestions] == ["langue-windows"]


HELP_FAQ = """\
- id: pas-compris-cours
  question: "Je n'ai pas compris le cours, que faire ?"
  alternatives:
    - "Le formateur va trop vite, je ne comprends pas."
  answer: "Demandez au formateur de réexpliquer après le cours."

- id: parler-personne
  question: "Je ne comprends pas le robot, je veux parler à quelqu'un."
  alternatives:
    - "Je ne comprends rien."
  answer: "Touchez « Parler à quelqu'un »."

- id: creer-cv
  question: "Comment faire mon CV ?"
  alternatives:
    - "Je n'ai jamais fait de CV."
  answer: "Partez du modèle du cybercafé et remplissez une rubrique à la fois."

- id: cv-photo
  question: "Faut-il une photo sur mon CV ?"
  answer: "Ce n'est pas obligatoire."

- id: cv-envoyer
  question: "Comment envoyer mon CV par e-mail ?"
  answer: "Joignez-le en PDF avec le trombone."

- id: cv-pdf
  question: "Comment mettre mon CV en PDF ?"
  answer: "Fichier > Enregistrer sous > PDF."
"""


def test_a_generic_message_also_offers_the_entries_about_its_other_words(tmp_path: Path) -> None:
    matcher = matcher_on(tmp_path, HELP_FAQ)
    result = matcher.match("moi pas comprendre cv")
    assert result.outcome is Outcome.SUGGEST, matcher.candidates("moi pas comprendre cv")
    # Both entries about not understanding come first; a CV entry, what the trainee does not
    # understand, takes the place left rather than leaving it empty.
    first, second, third = (entry.id for entry in result.suggestions)
    assert {first, second} == {"pas-compris-cours", "parler-personne"}
    assert third.startswith("cv") or third == "creer-cv"


LAPTOP_FAQ = """\
- id: son
  question: "Je n'ai pas de son sur l'ordinateur, que faire ?"
  alternatives:
    - "Les haut-parleurs sont muets."
  keywords: [son, volume]
  answer: "Cliquez sur le haut-parleur en bas à droite et montez le volume."

- id: demarrer
  question: "Mon ordinateur ne s'allume pas, que faire ?"
  alternatives:
    - "Mon ordi ne démarre plus."
  keywords: [allumer, démarrer]
  answer: "Branchez le chargeur et appuyez 3 secondes sur le bouton."

- id: session
  question: "J'ai oublié le code de ma session Windows, que faire ?"
  alternatives:
    - "L'ordinateur demande un code quand je l'allume."
  keywords: [code, PIN, session]
  answer: "Touchez « J'ai oublié mon code PIN » et suivez les étapes."

- id: wifi
  question: "Comment connecter l'ordinateur au Wi-Fi à la maison ?"
  keywords: [Wi-Fi, internet]
  answer: "Cliquez sur l'icône Wi-Fi en bas à droite."
"""


def test_the_sound_is_found_though_son_is_also_a_stop_word(tmp_path: Path) -> None:
    matcher = matcher_on(tmp_path, LAPTOP_FAQ)
    assert_answers(matcher, "ya pas de son", "son")
    assert_answers(matcher, "le son marche pas", "son")
    # "son ordinateur" is "his laptop": nothing about the sound
    assert matcher.match("son ordinateur est cassé").outcome is Outcome.FALLBACK


def test_a_phrasing_left_with_generic_words_is_not_recalled_by_them(tmp_path: Path) -> None:
    # Without "son", the sound question is only "ordinateur": it must not take any laptop message.
    matcher = matcher_on(tmp_path, LAPTOP_FAQ)
    assert matcher.match("ou acheter un ordinateur pas cher").outcome is Outcome.FALLBACK


def test_a_far_runner_up_with_the_same_words_does_not_make_a_message_generic(tmp_path: Path) -> None:
    matcher = matcher_on(tmp_path, LAPTOP_FAQ)
    # The session entry also speaks of the laptop and of switching it on, far less closely.
    assert_answers(matcher, "mon ordi veut pas sallumer", "demarrer")
    assert matcher.match("ordi").outcome is Outcome.SUGGEST


def test_one_word_names_a_topic_however_far_behind_the_runner_up(tmp_path: Path) -> None:
    faq = (
        "- id: creer-cv\n  question: Comment faire un CV ?\n  keywords: [CV]\n  answer: Au module CV.\n"
        "- id: cv-pdf\n  question: Comment mettre mon CV en PDF pour l'envoyer par e-mail ?\n"
        "  answer: Enregistrer sous, PDF.\n"
    )
    matcher = matcher_on(tmp_path, faq)
    [(_, best), (_, second)] = matcher.candidates("cv")
    assert best - second >= matcher.thresholds.spread
    assert matcher.match("cv").outcome is Outcome.SUGGEST


def test_decisions_do_not_depend_on_the_process_hash_seed() -> None:
    # Set order changes with PYTHONHASHSEED; ties between typo corrections or phonetic keys must not.
    code = (
        "from pathlib import Path\n"
        "from bot.faq import FaqMatcher, load_faq\n"
        "matcher = FaqMatcher(load_faq(Path('faq')))\n"
        "for text in ('inscri forem comment', 'jai oublier mon mdp', 'ordi tro lent'):\n"
        "    print(text, matcher.candidates(text, 3))\n"
    )
    root = Path(__file__).resolve().parents[2]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_a_phrasing_an_admin_taught_is_answered_whatever_its_neighbours(tmp_path: Path) -> None:
    base = FaqBase(
        (
            FaqEntry("ecran-noir", "Mon écran reste noir, que faire ?", "A.", alternatives=("mon ecran",)),
            FaqEntry(
                "ecran-casse", "Mon écran est cassé, que faire ?", "B.", alternatives=("écran fissuré",)
            ),
            FaqEntry("cv", "Comment faire mon CV ?", "C.", alternatives=("cv",)),
            FaqEntry("cv-anglais", "Un CV en anglais ?", "D.", alternatives=("Mon CV en anglais",)),
            FaqEntry(
                "cv-langues", "Mon CV dans une autre langue ?", "E.", alternatives=("mon cv en anglais !",)
            ),
        ),
        tmp_path,
    )
    matcher = FaqMatcher(base)
    taught = matcher.match("Mon Écran")  # case, accents and spaces aside
    assert (taught.outcome, taught.entry.id if taught.entry else None) == (Outcome.ANSWER, "ecran-noir")
    assert matcher.match("ECRAN FISSURE").entry is not None
    # Too short to be a question ("cv"), or taught to two entries: not taught, decided as any message.
    taught_keys = matcher_module._exact_phrasings(base.entries)
    assert "cv" not in taught_keys and "moncvenanglais" not in taught_keys
    assert taught_keys["ecranfissure"].id == "ecran-casse"
