"""Talking to a person, as dialogues between a trainee and social workers (console channel, no group)."""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage, Reply
from bot.core.outbox import Outbox, enqueue
from bot.faq import load_faq
from bot.features import handoff
from bot.features.faq import FaqService
from bot.features.hours import OFFICE_HOURS
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage, Role, Ticket, TicketMessage, User
from bot.storage.staff import add_staff
from tests.conftest import FIXTURE_FAQ
from tests.dialogue import Chat
from tests.integration.test_onboarding import onboarded

# Tuesday 24 November 2026, 09:00 in Brussels: the office is open (lun-jeu 9-12 13-16:30, ven 9-12).
TUESDAY_MORNING = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "faq"
    shutil.copytree(FIXTURE_FAQ, directory)
    return directory


@pytest.fixture
def centre(
    session_factory: sessionmaker[Session], settings: Settings, faq_dir: Path, clock: FrozenClock
) -> Conversation:
    """The conversation with two social workers and an admin on the console (no staff group)."""
    settings = settings.model_copy(update={"faq_dir": faq_dir})
    with unit_of_work(session_factory) as session:
        for external_id, name, role in (
            ("claire", "Claire", Role.SOCIAL_WORKER),
            ("karim", "Karim", Role.SOCIAL_WORKER),
            ("admin", "Admin", Role.ADMIN),
        ):
            add_staff(session, "console", external_id, name, role, clock.now())
    return build_conversation(session_factory, build_services(settings, FaqService(faq_dir), clock))


def staff(conversation: Conversation, user_id: str) -> Chat:
    return Chat(conversation, user_id)


def test_a_trainee_reaches_a_social_worker_and_back(
    centre: Conversation, session_factory: sessionmaker[Session], faq_dir: Path
) -> None:
    samira, claire, karim = onboarded(centre, "samira"), staff(centre, "claire"), staff(centre, "karim")
    samira.script("""
        > abonnement piscine communale
        < Je n'ai pas compris
        > je veux parler à l'assistante sociale
        < En une phrase, c'est à quel sujet ?
        [Passer] [Menu]
        > mon ordi ne s'allume plus depuis hier
        < C'est noté, Samira. Votre demande est transmise à l'équipe.
        < Le bureau est ouvert
        < Écrivez ici ce que vous voulez dire
        [Retour au robot] [Annuler ma demande] [Menu]
    """)
    claire.script("""
        > (received)
        < Demande n°1 : Samira (Horticulture), sur le terminal.
        < Ouverte aujourd'hui à 9 h 00.
        < Sujet : « mon ordi ne s'allume plus depuis hier »
        < Ses dernières questions au robot :
        < « abonnement piscine communale »
        < Pour répondre : « Je prends », puis écrivez-moi ici.
        [✋ Je prends]
        > ✋ Je prends
        < Vous suivez la demande n°1 de Samira (Horticulture).
        [✔️ Terminé]
    """)
    karim.script("""
        > (received)
        < Demande n°1
        < Claire prend la demande n°1 (Samira).
        [✋ Je prends]
    """)
    samira.script("""
        > (received)
        < Claire a pris votre demande.
        > il fait un bip quand j'appuie
        < ✓ Transmis.
        [Retour au robot] [Menu]
    """)
    claire.script("""
        > (received)
        < 💬 Samira (n°1) : il fait un bip quand j'appuie
        > Branchez le chargeur 10 minutes, puis appuyez 10 secondes sur le bouton.
        < ✓ Envoyé à Samira.
    """)
    samira.script("""
        > (received)
        < 💬 Claire : Branchez le chargeur 10 minutes, puis appuyez 10 secondes sur le bouton.
        [Retour au robot]
        > ça marche merci !!
        < ✓ Transmis.
    """)
    claire.script("""
        > (received)
        < ça marche merci !!
        > ✔️ Terminé
        < Demande n°1 terminée.
        < Une fiche de la FAQ répondait au sujet « mon ordi ne s'allume plus depuis hier » ?
        [📚 La fiche « Comment connecter… » répondait]
        [📚 La fiche « La batterie de l'ordinateur… » répondait]
        [📚 La fiche « L'ordinateur ne charge pas… » répondait]
        [📝 En faire une fiche FAQ] [📋 Demandes ouvertes]
    """)
    samira.script("""
        > (received)
        < Claire a terminé la conversation.
        < Est-ce que cette aide vous a servi ?
        [👍 Oui] [👎 Non] [Menu]
        > 👍 Oui
        < Merci pour votre avis !
        > wifi
        < Wi-Fi
    """)
    claire.script("""
        > 📝 En faire une fiche FAQ
        < Brouillon écrit
    """)
    draft = faq_dir / "drafts" / "demande-1.yaml"
    [entry] = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert entry["question"] == "Mon ordi ne s'allume plus depuis hier"
    assert "Branchez le chargeur" in entry["answer"]
    assert "Samira" not in draft.read_text(encoding="utf-8")
    # The draft is never published by itself: the FAQ loader does not read drafts/.
    assert all(not item.id.startswith("brouillon") for item in load_faq(faq_dir).entries)
    with session_factory() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.status, ticket.closed_by, ticket.feedback) == ("closed", "staff", "up")
        assert [message.author for message in ticket.messages] == ["trainee", "staff", "trainee"]
        # Everything for the two of them was delivered; the admin has not looked yet.
        waiting = session.scalars(select(OutboxMessage.recipient)).all()
        assert set(waiting) == {"admin"}


def test_skipping_the_subject_and_going_back_to_the_bot(centre: Conversation) -> None:
    samira = onboarded(centre, "samira")
    samira.script("""
        > Parler à quelqu'un
        > Passer
        < Votre demande est transmise
        > Retour au robot
        < Votre demande reste ouverte
        > wifi
        < Wi-Fi
        > Parler à quelqu'un
        < Votre demande est déjà transmise.
        > Annuler ma demande
        < Votre demande est annulée.
    """)
    claire = staff(centre, "claire")
    claire.script("""
        > (received)
        < Demande n°1
        > (received)
        > /tickets
        < Aucune demande ouverte.
    """)
    # The cancellation was told to every staff member (nobody had taken it).
    assert any("a annulé la demande n°1" in line for line in claire.transcript)


def test_the_trainee_is_told_when_the_office_opens(centre: Conversation, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Friday 16:00: closed until Monday 9:00
    samira = onboarded(centre, "samira")
    samira.script("""
        > Parler à quelqu'un
        > Passer
        < Le bureau est fermé. Une personne vous répondra ici dès lundi 30 novembre à 9 h.
    """)


def test_holiday_and_daylight_saving(centre: Conversation, clock: FrozenClock) -> None:
    # Tuesday 10 November 2026, 17:00: tomorrow is Armistice day (a Belgian public holiday).
    clock.set(datetime(2026, 11, 10, 16, 0, tzinfo=UTC))
    onboarded(centre, "samira").script("""
        > Parler à quelqu'un
        > Passer
        < dès jeudi 12 novembre à 9 h.
    """)
    # Saturday 24 October 2026 (clocks go back on Sunday): Monday 9:00 Brussels is 08:00 UTC.
    clock.set(datetime(2026, 10, 24, 10, 0, tzinfo=UTC))
    karim = onboarded(centre, "lea", name="Léa")
    karim.script("""
        > Parler à quelqu'un
        > Passer
        < dès lundi 26 octobre à 9 h.
    """)


def test_two_workers_claiming_at_once_exactly_one_wins(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    onboarded(centre, "samira").script("""
        > Parler à quelqu'un
        > Passer
    """)
    workers = [f"worker{number}" for number in range(12)]
    with unit_of_work(session_factory) as session:
        for worker in workers:
            add_staff(session, "console", worker, worker.title(), Role.SOCIAL_WORKER, clock.now())
    barrier = threading.Barrier(len(workers))
    answers: dict[str, str] = {}

    def press(worker: str) -> None:
        barrier.wait()
        replies = centre.handle(IncomingMessage("console", worker, button_id="tk:claim.1"))
        answers[worker] = replies[0].text

    threads = [threading.Thread(target=press, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [worker for worker, text in answers.items() if text.startswith("Vous suivez la demande n°1")]
    assert len(winners) == 1, answers
    losers = [text for worker, text in answers.items() if worker not in winners]
    assert all(text == f"La demande n°1 est déjà suivie par {winners[0].title()}." for text in losers)
    with session_factory() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.worker is not None and ticket.worker.external_id == winners[0]


def test_a_restart_in_the_middle_of_a_ticket_loses_nothing(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira, claire = onboarded(centre, "samira"), staff(centre, "claire")
    samira.script("""
        > Parler à quelqu'un
        > Passer
    """)
    claire.script("""
        > (received)
        > ✋ Je prends
    """)
    # A new Conversation on the same database is what a restarted process has.
    restarted = build_conversation(session_factory, centre.services)
    samira, claire = Chat(restarted, "samira"), Chat(restarted, "claire")
    samira.script("""
        > (received)
        < Claire a pris votre demande.
        > vous êtes là ?
        < ✓ Transmis.
    """)
    claire.script("""
        > (received)
        < vous êtes là ?
        > oui, je vous appelle à 10 h
        < ✓ Envoyé à Samira.
    """)
    samira.script("""
        > (received)
        < 💬 Claire : oui, je vous appelle à 10 h
    """)


def test_trainees_cannot_use_staff_actions(
    centre: Conversation, caplog: pytest.LogCaptureFixture, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(centre, "samira")
    samira.script("""
        > Parler à quelqu'un
        > Passer
    """)
    mallory = onboarded(centre, "mallory", name="Mallory")
    with caplog.at_level(logging.WARNING):
        mallory.script("""
            > [tk:claim.1]
            < Ce bouton n'est plus valable.
            > [tk:close.1]
            < Ce bouton n'est plus valable.
            > [tk:draft.1]
            < Ce bouton n'est plus valable.
            > /tickets
            < Je ne connais pas cette commande.
            > [go:tickets]
            < Ce bouton n'est plus valable.
            > [tk:fb.1.down]
            < Ce bouton n'est plus valable.
            > [tk:claim.99999999999]
            < Ce bouton n'est plus valable.
        """)
    assert "refused" in caplog.text
    # In the staff group, a trainee's tap or command is refused without a word about the ticket.
    replies = centre.handle(IncomingMessage("console", "mallory", button_id="tk:claim.1", chat_id="-100"))
    assert [reply.text for reply in replies] == ["Réservé à l'équipe du centre."]
    assert centre.handle(IncomingMessage("console", "mallory", text="hello", chat_id="-100")) == []
    # No dialogue starts in the group, even for a command that is fine in private.
    assert centre.handle(IncomingMessage("console", "mallory", text="/start", chat_id="-100")) == []
    assert centre.handle(IncomingMessage("console", "claire", text="/mesdonnees", chat_id="-100")) == []
    with session_factory() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.status, ticket.claimed_by_id, ticket.feedback) == ("open", None, None)


def test_a_person_who_declined_consent_is_offered_the_contact(centre: Conversation) -> None:
    anonymous = Chat(centre, "anon")
    anonymous.script("""
        > /start
        > Je refuse
        > Parler à quelqu'un
        < je dois garder votre prénom et vos messages
        < l'accueil (081 00 00 00)
        [Me présenter] [Menu]
    """)


def test_unclaimed_tickets_are_escalated_after_office_minutes(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 24, 10, 50, tzinfo=UTC))  # Tuesday 11:50, lunch break at 12:00
    onboarded(centre, "samira").script("""
        > Parler à quelqu'un
        > Passer
    """)
    services = centre.services

    def escalate() -> int:
        with unit_of_work(session_factory) as session:
            return handoff.escalate_unclaimed(
                session, services.settings, services.get(OFFICE_HOURS), clock.now()
            )

    clock.set(datetime(2026, 11, 24, 12, 10, tzinfo=UTC))  # 13:10: 10 + 10 minutes of office hours
    assert escalate() == 0
    clock.set(datetime(2026, 11, 24, 12, 21, tzinfo=UTC))  # 13:21: 31 minutes
    assert escalate() == 1
    assert escalate() == 0  # once
    admin, karim = staff(centre, "admin"), staff(centre, "karim")
    admin.received()
    assert "attend depuis 30 minutes de bureau" in admin.text
    karim.received()
    assert "attend depuis 30 minutes de bureau" in karim.text


def test_the_day_summary_is_posted_once_after_closing(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    onboarded(centre, "samira").script("""
        > Parler à quelqu'un
        > mon attestation
    """)
    services = centre.services

    def summarise() -> bool:
        with unit_of_work(session_factory) as session:
            return handoff.summarise_day(session, services.settings, services.get(OFFICE_HOURS), clock.now())

    assert not summarise()  # 9:00: the day is not over
    clock.set(datetime(2026, 11, 24, 15, 31, tzinfo=UTC))  # 16:31 Brussels, after 16:30
    assert summarise()
    assert not summarise()
    claire = staff(centre, "claire")
    claire.received()
    assert "Fin de journée : 1 demande(s) encore ouverte(s)." in claire.text
    assert "n°1 · Samira (Horticulture)" in claire.text


def test_my_data_shows_and_forget_erases_the_ticket(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(centre, "samira")
    samira.script("""
        > Parler à quelqu'un
        > mon contrat
        > je dois signer lundi
        > /mesdonnees
        < 1 demande à une personne (1 en cours)
        < J'efface une demande à une personne 1 mois après sa fin.
        < Demande à une personne, le : 24/11/2026
        < Sujet : mon contrat
        < État : en cours
        < – Message du : 24/11/2026
        < De : vous
        < Texte : « je dois signer lundi »
        < Message en attente d'envoi
        > /oublier
        > Oui, tout effacer
    """)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert session.scalar(select(func.count()).select_from(TicketMessage)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(User).where(User.role == "trainee")) == 0


def test_closed_tickets_are_erased_after_their_retention(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    onboarded(centre, "samira").script("""
        > Parler à quelqu'un
        > Passer
        > Annuler ma demande
    """)
    with unit_of_work(session_factory) as session:
        assert handoff.purge_closed(session, clock.now() + timedelta(days=29), 30) == 0
        assert handoff.purge_closed(session, clock.now() + timedelta(days=31), 30) == 1


def test_pushes_survive_until_sent(centre: Conversation, session_factory: sessionmaker[Session]) -> None:
    onboarded(centre, "samira").script("""
        > Parler à quelqu'un
        > Passer
    """)
    outbox = Outbox(session_factory, centre.services.clock)
    [taken] = outbox.take(["console"], recipient="claire")
    # Taken but not acknowledged (the dispatcher died): leased, then available again.
    assert outbox.take(["console"], recipient="claire") == []
    centre.services.clock.advance(timedelta(minutes=3))  # type: ignore[attr-defined]
    [again] = outbox.take(["console"], recipient="claire")
    assert again.id == taken.id
    outbox.failed(again)
    assert outbox.take(["console"], recipient="claire") == []  # waits before the next try


def test_an_unreachable_trainee_is_in_the_day_summary_until_they_write(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    samira = onboarded(centre, "samira")
    samira.script("""
        > Parler à quelqu'un
        > Passer
    """)
    outbox = Outbox(session_factory, clock)
    Chat(centre, "claire").received()
    with unit_of_work(session_factory) as session:
        enqueue(session, clock.now(), "console", "samira", [Reply("test")], user_id=None)
    [push] = outbox.take(["console"], recipient="samira")
    outbox.undeliverable(push)  # what the dispatcher does when the platform says "blocked"
    assert outbox.take(["console"], recipient="samira") == []
    clock.set(datetime(2026, 11, 24, 15, 31, tzinfo=UTC))  # after closing time
    with unit_of_work(session_factory) as session:
        services = centre.services
        assert handoff.summarise_day(session, services.settings, services.get(OFFICE_HOURS), clock.now())
    claire = Chat(centre, "claire")
    claire.received()
    assert "Stagiaires que le robot ne peut plus joindre" in claire.text
    assert "• Samira (Horticulture), sur le terminal, depuis aujourd'hui à 9 h 00" in claire.text
    samira.send("je suis là")
    with session_factory() as session:
        assert session.scalars(select(User.unreachable_at).where(User.external_id == "samira")).one() is None


@pytest.mark.parametrize("leaving", ["menu", "aide", "stop", "Quitter", "?"])
def test_leaving_words_in_a_request_are_not_passed_on(
    centre: Conversation, session_factory: sessionmaker[Session], leaving: str
) -> None:
    samira = onboarded(centre, "samira")
    samira.script(f"""
        > Parler à quelqu'un
        > mon contrat
        > {leaving}
        < Je n'ai pas envoyé ce message à l'équipe. Voulez-vous quitter la conversation avec l'équipe ?
        [Oui, retour au robot] [Non, je continue] [Annuler ma demande] [Menu]
        > Non, je continue
        < Écrivez votre message : je le transmets à l'équipe.
        > je dois signer lundi
        < ✓ Transmis.
        > {leaving}
        > Oui, retour au robot
        < Votre demande reste ouverte
    """)
    with session_factory() as session:
        texts = session.scalars(select(TicketMessage.text)).all()
    assert texts == ["je dois signer lundi"]


def test_a_draft_keeps_no_name_nor_greeting_and_is_refused_until_reviewed(tmp_path: Path) -> None:
    from bot.faq import FaqError
    from bot.features.handoff.staff import impersonal

    names = ["Samira", "Claire"]
    assert impersonal("Bonjour Samira, passez au bureau 2.", names) == "Passez au bureau 2."
    assert impersonal("Salut ! Venez avec votre carte, Samira. Bonne journée, Claire", names) == (
        "Venez avec votre carte."
    )
    assert impersonal("Il faut le chargeur. À bientôt Samira !", names) == "Il faut le chargeur."
    # A draft moved into the FAQ as it is, without review, is refused by faq check (and by the bot).
    (tmp_path / "general.yaml").write_text(
        '- id: brouillon-demande-7\n  question: "Q ?"\n  answer: "R."\n', encoding="utf-8"
    )
    with pytest.raises(FaqError) as refused:
        load_faq(tmp_path)
    assert "general.yaml:1: entrée 'brouillon-demande-7': c'est un brouillon" in str(refused.value)


def test_a_request_number_is_never_given_twice_even_after_an_erasure(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(centre, "samira")
    samira.script("""
        > Parler à quelqu'un
        > mon contrat
        > /oublier
        > Oui, tout effacer
    """)
    lea = onboarded(centre, "lea", name="Léa")
    lea.send("Parler à quelqu'un")
    lea.send("mon CV")
    with session_factory() as session:
        assert session.scalars(select(Ticket.id)).all() == [2], "n°1 was Samira's: never again"
