"""The bot learns from its staff: a question an entry answered becomes its alternative once an admin accepts.

Dialogues on both databases, the real FAQ service on a copy of the test FAQ, and the real command line.
"""

from __future__ import annotations

import difflib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.payloads import MAX_PAYLOAD_BYTES, checked_index
from bot.faq import Outcome
from bot.features import handoff, learning
from bot.features.faq import FAQ, FaqService
from bot.features.faq_watch import FaqWatcher
from bot.features.learning import LEARN
from bot.storage.db import unit_of_work
from bot.storage.models import FaqCandidate, Role, Ticket, User
from bot.storage.staff import add_staff
from tests.conftest import FIXTURE_FAQ
from tests.dialogue import Chat
from tests.integration.test_cli import run
from tests.integration.test_onboarding import onboarded

# With the test FAQ, the matcher is unsure of these and offers the entry among its suggestions; once the
# phrasing is one of the entry's alternatives, it answers it.
UNSURE = "mon ordi s'eteint"  # suggests wifi-connexion, batterie-vide, chargeur
UNSURE_MAIL = "je suis bloque pour mon mail"  # suggests mot-de-passe-oublie only
BATTERY_ANSWER = "Baissez la luminosité de l'écran."
MAIL_ANSWER = "Sur la page de connexion"


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "faq"
    shutil.copytree(FIXTURE_FAQ, directory)
    return directory


@pytest.fixture
def centre(
    session_factory: sessionmaker[Session], settings: Settings, faq_dir: Path, clock: FrozenClock
) -> Conversation:
    """The conversation on a copy of the test FAQ, with a social worker and an admin on the console."""
    settings = settings.model_copy(update={"faq_dir": faq_dir})
    with unit_of_work(session_factory) as session:
        add_staff(session, "console", "claire", "Claire", Role.SOCIAL_WORKER, clock.now())
        add_staff(session, "console", "admin", "Nadia", Role.ADMIN, clock.now())
    return build_conversation(session_factory, build_services(settings, FaqService(faq_dir), clock))


def tap_suggestion(chat: Chat, question: str, entry_id: str) -> None:
    """Ask a question the bot is unsure of and tap the suggestion of entry_id."""
    chat.send(question)
    chat.expect("Je ne suis pas sûr d'avoir compris")
    offered = [button.id for button in chat.buttons]
    assert f"faq:{entry_id}" in offered, chat.dump()
    chat.press_payload(f"faq:{entry_id}")


def candidates(session_factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with session_factory() as session:
        rows = session.scalars(select(FaqCandidate).order_by(FaqCandidate.id))
        return [(row.entry_id, row.question, row.status) for row in rows]


def cli_env(engine: Engine, faq_dir: Path) -> dict[str, str]:
    return {"DATABASE_URL": engine.url.render_as_string(hide_password=False), "FAQ_DIR": str(faq_dir)}


def test_a_tapped_suggestion_becomes_an_alternative_with_the_command_line(
    centre: Conversation, engine: Engine, faq_dir: Path, clock: FrozenClock, tmp_path: Path
) -> None:
    # The command line counts retention from the real time: the dialogue happens now.
    clock.set(datetime.now(UTC))
    samira = onboarded(centre, "samira")
    tap_suggestion(samira, UNSURE, "batterie-vide")
    samira.expect(BATTERY_ANSWER)

    env = cli_env(engine, faq_dir)
    listed = run(["faq", "suggestions"], tmp_path, **env)
    assert listed.returncode == 0, listed.stderr
    assert "1 phrase(s) à apprendre, pour 1 fiche(s) :" in listed.stdout
    assert (
        "batterie-vide « La batterie de l'ordinateur se vide très vite. » (test.yaml) : 1 fois"
        in listed.stdout
    )
    assert "n°1  « mon ordi s'eteint »" in listed.stdout
    [group] = json.loads(run(["faq", "suggestions", "--json"], tmp_path, **env).stdout)
    assert (group["entry"], group["file"], group["count"], group["examples"]) == (
        "batterie-vide",
        "test.yaml",
        1,
        [UNSURE],
    )
    assert group["candidates"][0]["sources"] == {"suggestion": 1}
    assert "Samira" not in listed.stdout and "samira" not in json.dumps(group)  # never who asked

    before = (faq_dir / "test.yaml").read_text(encoding="utf-8")
    accepted = run(["faq", "accept", "1"], tmp_path, **env)
    assert accepted.returncode == 0, accepted.stderr
    assert "Ajoutée à la fiche batterie-vide (test.yaml) : « mon ordi s'eteint »." in accepted.stdout
    after = (faq_dir / "test.yaml").read_text(encoding="utf-8")
    # One line added, under the entry's alternative; the comment, the order and the layout stay.
    added = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:2] in "+ - "]
    assert added == [f'+     - "{UNSURE}"'], added
    assert after.splitlines()[0].startswith("# A small, stable FAQ for the dialogue tests")
    assert [entry["id"] for entry in yaml.safe_load(after)] == [
        entry["id"] for entry in yaml.safe_load(before)
    ]
    assert '    - "Mon ordinateur portable ne tient pas la charge."\n    - "mon ordi s\'eteint"\n' in after

    # The running bot's watcher picks the edit up (once the file stayed the same for one look).
    watcher = FaqWatcher(centre.services.get(FAQ), interval_seconds=1)
    watcher.check_once()
    assert watcher.check_once()
    entry = centre.services.get(FAQ).base.get("batterie-vide")
    assert entry is not None and UNSURE in entry.alternatives
    assert centre.services.get(FAQ).match(UNSURE).outcome is Outcome.ANSWER
    samira.send(UNSURE)
    samira.expect(BATTERY_ANSWER)
    assert "pas sûr" not in samira.text

    assert "Aucune phrase à apprendre." in run(["faq", "suggestions"], tmp_path, **env).stdout
    again = run(["faq", "accept", "1"], tmp_path, **env)
    assert again.returncode == 1 and "Aucune phrase en attente n°1" in again.stderr


def test_an_admin_accepts_and_rejects_in_the_chat(
    centre: Conversation, session_factory: sessionmaker[Session], faq_dir: Path
) -> None:
    samira, karim, lea = (
        onboarded(centre, "samira"),
        onboarded(centre, "karim", "Karim"),
        onboarded(centre, "lea", "Léa"),
    )
    tap_suggestion(samira, UNSURE, "batterie-vide")
    tap_suggestion(karim, "Mon ordi s'éteint !", "batterie-vide")  # the same words, written otherwise
    tap_suggestion(lea, UNSURE, "chargeur")  # the same question, linked to another entry
    tap_suggestion(lea, UNSURE_MAIL, "mot-de-passe-oublie")
    admin = Chat(centre, "admin")
    admin.script("""
        > /apprendre
        < Phrases à apprendre : 3.
        < n°1 « mon ordi s'eteint »
        < → fiche « La batterie de l'ordinateur… » (2 fois)
        < n°3 « mon ordi s'eteint »
        < → fiche « L'ordinateur ne charge pas… » (1 fois)
        < n°4 « je suis bloque pour mon mail »
        < → fiche « Mot de passe e-mail » (1 fois)
        [✅ Ajouter n°1] [❌ Refuser n°1] [✅ Ajouter n°3] [❌ Refuser n°3] [✅ Ajouter n°4] [❌ Refuser n°4]
        > ✅ Ajouter n°1
        < ✅ n°1 ajoutée à la fiche « La batterie de l'ordinateur… » (test.yaml).
        < FAQ rechargée : le robot reconnaît cette phrase.
        < Phrases à apprendre : 1.
        < n°4 « je suis bloque pour mon mail »
        [✅ Ajouter n°4] [❌ Refuser n°4]
    """)
    # Accepting took the whole phrasing off the list, for every entry; the FAQ in use has it at once.
    assert candidates(session_factory) == [("mot-de-passe-oublie", UNSURE_MAIL, "pending")]
    assert UNSURE in (faq_dir / "test.yaml").read_text(encoding="utf-8")
    samira.send(UNSURE)
    samira.expect(BATTERY_ANSWER)
    admin.script("""
        > ❌ Refuser n°4
        < ❌ n°4 refusée : elle ne sera plus proposée pour cette fiche.
        < Aucune phrase à apprendre pour le moment.
        > [lr:ok.4]
        < La phrase n°4 est déjà traitée, ou n'existe plus.
    """)
    assert UNSURE_MAIL not in (faq_dir / "test.yaml").read_text(encoding="utf-8")
    # Refused once, not proposed again for that entry (another trainee, the same words).
    tap_suggestion(samira, UNSURE_MAIL, "mot-de-passe-oublie")
    samira.expect(MAIL_ANSWER)
    assert candidates(session_factory) == [("mot-de-passe-oublie", UNSURE_MAIL, "rejected")]
    admin.send("/stats")
    admin.expect("Phrases à apprendre : 0 (détail : /apprendre)")


def test_forged_stale_and_unauthorised_buttons_get_a_polite_answer(
    centre: Conversation, session_factory: sessionmaker[Session], faq_dir: Path
) -> None:
    samira = onboarded(centre, "samira")
    tap_suggestion(samira, UNSURE, "batterie-vide")
    before = (faq_dir / "test.yaml").read_text(encoding="utf-8")
    samira.script("""
        > [lr:ok.1]
        < Ce bouton n'est plus valable.
        > /apprendre
        < Je ne connais pas cette commande.
    """)
    claire = Chat(centre, "claire")
    claire.script("""
        > /apprendre
        < Seul·e un·e admin peut ajouter des phrases à la FAQ. Phrases en attente : 1.
        > [lr:ok.1]
        < Seul·e un·e admin peut ajouter des phrases à la FAQ.
    """)
    admin = Chat(centre, "admin")
    admin.script("""
        > [lr:ok.999]
        < La phrase n°999 est déjà traitée, ou n'existe plus.
        > [lr:ok.x]
        < Ce bouton n'est plus valable.
        > [lr:t.1.0.abcd]
        < Ce bouton n'est plus valable : la FAQ ou la demande a changé entre-temps.
        > [lr:p.40]
        < Phrases à apprendre : 1.
    """)
    assert (faq_dir / "test.yaml").read_text(encoding="utf-8") == before
    assert candidates(session_factory) == [("batterie-vide", UNSURE, "pending")]
    assert len(LEARN.pack("t.9999999999.2.abcd").encode()) <= MAX_PAYLOAD_BYTES


def test_the_social_worker_who_closes_a_request_says_which_entry_answered(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira, claire, admin = onboarded(centre, "samira"), Chat(centre, "claire"), Chat(centre, "admin")
    samira.script(f"""
        > Parler à quelqu'un
        > {UNSURE_MAIL}
        < Votre demande est transmise
    """)
    claire.script("""
        > (received)
        > ✋ Je prends
        > Cliquez sur « Mot de passe oublié » sur la page de connexion.
        > ✔️ Terminé
        < ✔️ Demande n°1 terminée.
        < 📚 Une fiche de la FAQ répondait au sujet « je suis bloque pour mon mail » ?
        [📚 La fiche « Mot de passe e-mail » répondait] [📝 En faire une fiche FAQ] [📋 Demandes ouvertes]
        > 📚 La fiche « Mot de passe e-mail » répondait
        < Merci ! « je suis bloque pour mon mail » est proposée pour la fiche « Mot de passe e-mail ».
        > [lr:t.1.0.0000]
        < Ce bouton n'est plus valable
    """)
    with session_factory() as session:
        ticket_id = session.scalars(select(Ticket.id)).one()
        row = session.scalars(select(FaqCandidate)).one()
        assert (row.entry_id, row.question, row.source, row.ticket_id) == (
            "mot-de-passe-oublie",
            UNSURE_MAIL,
            "ticket",
            ticket_id,
        )
    # Pressed again (another device, a double tap): recorded once.
    payload = LEARN.pack(f"t.{ticket_id}.0.{_check('mot-de-passe-oublie')}")
    claire.press_payload(payload)
    claire.expect("C'est déjà noté pour cette demande.")
    assert len(candidates(session_factory)) == 1
    admin.script("""
        > /apprendre
        < n°1 « je suis bloque pour mon mail »
        < → fiche « Mot de passe e-mail » (1 fois, dont 1 par l'équipe)
        > ✅ Ajouter n°1
        < ajoutée à la fiche « Mot de passe e-mail » (test.yaml).
    """)
    samira.send("/menu")
    samira.send(UNSURE_MAIL)
    samira.expect(MAIL_ANSWER)
    assert "pas sûr" not in samira.text


def _check(entry_id: str) -> str:
    return checked_index(0, entry_id).partition(".")[2]


def test_no_offer_without_a_subject_or_the_consent_and_never_from_staff(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    old = onboarded(centre, "old", "Karim")
    with unit_of_work(session_factory) as session:
        session.scalars(select(User).where(User.external_id == "old")).one().consent_version = 1
    claire = Chat(centre, "claire")
    for chat, subject in ((old, UNSURE_MAIL), (onboarded(centre, "samira"), None)):
        chat.send("Parler à quelqu'un")
        if subject is None:
            chat.press("Passer")
        else:
            chat.send(subject)
        claire.received()
        claire.press("✋ Je prends")
        claire.press("✔️ Terminé")
        claire.expect("terminée.")
        assert "📚" not in claire.text
    # A staff member's own questions are never kept.
    claire.send("/menu")
    tap_suggestion(claire, UNSURE, "batterie-vide")
    claire.expect(BATTERY_ANSWER)
    assert candidates(session_factory) == []


def test_my_data_shows_the_candidates_and_forget_erases_them(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(centre, "samira")
    tap_suggestion(samira, UNSURE, "batterie-vide")
    samira.script("""
        > /mesdonnees
        < 1 question reliée à une fiche
        < J'efface les questions après 3 mois.
        < Question reliée à une fiche, le : 24/11/2026
        < Texte : « mon ordi s'eteint »
        < Fiche : « La batterie de l'ordinateur se vide très vite. »
        < Reliée par : vous, parmi mes propositions
        < État : l'équipe va la lire
        > /oublier
        > Oui, tout effacer
        < C'est fait. J'ai tout effacé.
    """)
    assert candidates(session_factory) == []


def test_erasing_a_trainee_in_the_database_erases_their_candidates(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    # The retention purge of inactive trainees is one DELETE: the database's cascade must do it.
    tap_suggestion(onboarded(centre, "samira"), UNSURE, "batterie-vide")
    tap_suggestion(onboarded(centre, "karim", "Karim"), UNSURE_MAIL, "mot-de-passe-oublie")
    with unit_of_work(session_factory) as session:
        session.execute(delete(User).where(User.external_id == "samira"))
    assert candidates(session_factory) == [("mot-de-passe-oublie", UNSURE_MAIL, "pending")]


def test_candidates_are_erased_after_their_retention(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    tap_suggestion(onboarded(centre, "samira"), UNSURE, "batterie-vide")
    retention = centre.services.settings.faq_miss_retention_days
    with unit_of_work(session_factory) as session:
        assert (
            learning.purge_old_candidates(session, clock.now() + timedelta(days=retention - 1), retention)
            == 0
        )
    # The bot's own purge (at start and every few hours) does it, and keeps the trainee.
    later = FrozenClock(clock.now() + timedelta(days=retention + 1))
    build_conversation(
        session_factory, build_services(centre.services.settings, centre.services.get(FAQ), later)
    ).purge_expired_data()
    assert candidates(session_factory) == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.role == "trainee")) == 1


def test_accepting_for_an_entry_deleted_from_the_files_is_refused(
    centre: Conversation,
    session_factory: sessionmaker[Session],
    faq_dir: Path,
    engine: Engine,
    tmp_path: Path,
    clock: FrozenClock,
) -> None:
    clock.set(datetime.now(UTC))  # the command line counts retention from the real time
    tap_suggestion(onboarded(centre, "samira"), UNSURE, "batterie-vide")
    path = faq_dir / "test.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    kept = [entry for entry in entries if entry["id"] != "batterie-vide"]
    path.write_text(yaml.safe_dump(kept, allow_unicode=True, sort_keys=False), encoding="utf-8")
    written = path.read_text(encoding="utf-8")
    admin = Chat(centre, "admin")
    # The bot has not reloaded yet: the entry is in the FAQ in use, not in its file.
    admin.send("/apprendre")
    admin.press("✅ Ajouter n°1")
    admin.expect("⚠️ Rien n'est écrit pour n°1 : l'entrée 'batterie-vide' n'est plus dans test.yaml.")
    # Reloaded: the entry is gone from the FAQ; only refusing is offered.
    centre.services.get(FAQ).reload()
    admin.script("""
        > [lr:ok.1]
        < ⚠️ La fiche « batterie-vide » n'existe plus dans la FAQ. Refusez la phrase n°1
        < → fiche « batterie-vide, supprimée de la FAQ » (1 fois)
        [❌ Refuser n°1]
    """)
    # The command line reads the files: refused there too.
    refused = run(["faq", "accept", "1"], tmp_path, **cli_env(engine, faq_dir))
    assert refused.returncode == 1, refused.stdout
    assert "La fiche batterie-vide n'existe plus" in refused.stderr
    assert path.read_text(encoding="utf-8") == written
    assert candidates(session_factory) == [("batterie-vide", UNSURE, "pending")]
    admin.press("❌ Refuser n°1")
    admin.expect("n°1 refusée")


def test_another_admins_broken_file_does_not_stop_an_accepted_phrasing(
    centre: Conversation, session_factory: sessionmaker[Session], faq_dir: Path
) -> None:
    tap_suggestion(onboarded(centre, "samira"), UNSURE, "batterie-vide")
    # Another admin's edit, broken, lands meanwhile.
    (faq_dir / "other.yaml").write_text("- id: broken\n  question: [oops\n", encoding="utf-8")
    admin = Chat(centre, "admin")
    admin.send("/apprendre")
    admin.press("✅ Ajouter n°1")
    admin.expect(
        "✅ n°1 ajoutée à la fiche",
        "FAQ rechargée",
        "Fichier FAQ à corriger : other.yaml",
        "other.yaml:2",
    )
    assert UNSURE in (faq_dir / "test.yaml").read_text(encoding="utf-8")
    assert centre.services.get(FAQ).last_error is not None
    # The new phrasing is served though the other file is broken.
    answer = centre.services.get(FAQ).match(UNSURE)
    assert answer.entry is not None and answer.entry.id == "batterie-vide"
    # Told here: the admin's next message does not repeat it.
    admin.send("/aide")
    assert "à corriger" not in admin.text
    assert candidates(session_factory) == []


def test_a_reload_that_fails_after_accepting_is_reported(
    centre: Conversation, session_factory: sessionmaker[Session], faq_dir: Path
) -> None:
    tap_suggestion(onboarded(centre, "samira"), UNSURE, "batterie-vide")
    # Another admin's edit defines an id that already exists: no combination of files is valid.
    (faq_dir / "other.yaml").write_text(
        "- id: batterie-vide\n  question: Encore la batterie ?\n  answer: Oui.\n", encoding="utf-8"
    )
    admin = Chat(centre, "admin")
    admin.send("/apprendre")
    admin.press("✅ Ajouter n°1")
    admin.expect(
        "✅ n°1 ajoutée à la fiche",
        "Les fichiers FAQ modifiés ont des erreurs. Le bot continue avec l'ancienne version.",
        "other.yaml",
    )
    assert "FAQ rechargée" not in admin.text
    assert UNSURE in (faq_dir / "test.yaml").read_text(encoding="utf-8")
    assert centre.services.get(FAQ).last_error is not None
    admin.send("/aide")
    assert "ont des erreurs" not in admin.text
    assert candidates(session_factory) == []


def test_every_learning_message_stays_short() -> None:
    from bot import texts

    longest = {
        "number": "9" * 10,
        "question": "q" * learning.SHOWN_QUESTION_CHARS,
        "subject": "s" * learning.SHOWN_QUESTION_CHARS,
        "entry": "e" * 60,  # an entry id, the longest name shown
        "file": "f" * 40 + ".yaml",
        "problem": "p" * 160,
        "count": "9999",
        "times": "9999 fois",
        "staff": texts.LEARN_ITEM_STAFF.format(count=9999),
    }
    for name in dir(texts):
        if name.startswith(("LEARN_", "BUTTON_LEARN_")):
            text = getattr(texts, name).format(**longest)
            assert len(text) <= 350, (name, len(text))
    closing = (
        texts.TICKET_CLOSED_STAFF.format(id="9" * 10) + "\n" + texts.LEARN_TICKET_OFFER.format(**longest)
    )
    assert len(closing) <= 350


def test_a_candidate_outlives_its_request_until_its_own_retention(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    samira, claire = onboarded(centre, "samira"), Chat(centre, "claire")
    samira.send("Parler à quelqu'un")
    samira.send(UNSURE_MAIL)
    claire.received()
    claire.press("✋ Je prends")
    claire.press("✔️ Terminé")
    claire.press("📚 La fiche « Mot de passe e-mail » répondait")
    with unit_of_work(session_factory) as session:
        assert handoff.purge_closed(session, clock.now() + timedelta(days=31), 30) == 1
    with session_factory() as session:
        row = session.scalars(select(FaqCandidate)).one()
        assert (row.entry_id, row.ticket_id) == ("mot-de-passe-oublie", None)
