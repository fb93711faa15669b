"""Appointments as dialogues: booking, seeing, cancelling, moving, a call instead, reminders, staff side."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage, Reply
from bot.features import booking
from bot.features.faq import FaqService
from bot.features.hours import OFFICE_HOURS
from bot.storage.db import unit_of_work
from bot.storage.models import Appointment, Reminder, Role, Ticket, User
from bot.storage.staff import add_staff
from tests.dialogue import Chat
from tests.integration.test_onboarding import onboarded

AVAILABILITY = """\
- id: claire
  name: Claire
  account: console:claire
  place: Bureau 2
  weekly:
    lun-ven: [09:00-12:00]
- id: karim
  name: Karim
  account: console:karim
  weekly:
    mar: [13:00-14:00]
"""


@pytest.fixture
def centre(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path, clock: FrozenClock
) -> Conversation:
    """The conversation with Claire and Karim's availability; it is Tuesday 24/11/2026, 9:00."""
    path = tmp_path / "disponibilites.yaml"
    path.write_text(AVAILABILITY, encoding="utf-8")
    settings = settings.model_copy(update={"availability_file": path})
    with unit_of_work(session_factory) as session:
        add_staff(session, "console", "claire", "Claire", Role.SOCIAL_WORKER, clock.now())
        add_staff(session, "console", "karim", "Karim", Role.SOCIAL_WORKER, clock.now())
    return build_conversation(session_factory, build_services(settings, FaqService(settings.faq_dir), clock))


def book(chat: Chat, slot: str) -> None:
    """Book Claire for "Papiers administratifs" at the slot of the first page with this title."""
    chat.script(f"""
        > Prendre rendez-vous
        > Papiers administratifs
        > Claire
        > {slot}
        > Oui, je réserve
        < C'est réservé
    """)


def appointments(session_factory: sessionmaker[Session]) -> list[Appointment]:
    with session_factory() as session:
        return list(session.scalars(select(Appointment).order_by(Appointment.id)))


def test_a_trainee_who_skipped_the_first_name_is_shown_to_staff_as_stagiaire(
    centre: Conversation,
) -> None:
    noname = Chat(centre, "noname")
    noname.script("""
        > /start
        > J'accepte
        > /menu
        < Que voulez-vous faire ?
    """)
    book(noname, "Demain à 9 h")
    Chat(centre, "claire").script("""
        > (received)
        < Nouveau rendez-vous : Stagiaire, demain à 9 h. Motif : Papiers administratifs.
    """)


def test_booking_by_buttons_with_a_calendar_file(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(centre, "samira")
    samira.script("""
        > Prendre rendez-vous
        < C'est pour quoi ?
        [Problème d'ordinateur] [Recherche d'emploi] [Papiers administratifs] [Question personnelle]
        [Parler à quelqu'un] [Menu]
        > Problème d'ordinateur
        < Avec qui ?
        [Claire] [Karim] [Peu importe] [Parler à quelqu'un] [Menu]
        > Claire
        < Voici les prochains moments libres.
        [Aujourd'hui à 11 h] [Aujourd'hui à 11 h 30] [Demain à 9 h] [Autres dates]
        [Qu'on m'appelle] [Parler à quelqu'un] [Menu]
        > Autres dates
        < Quel jour vous convient ?
        [Aujourd'hui] [Demain] [Jeudi 26 novembre] [Vendredi 27 novembre] [Lundi 30 novembre]
        [Jours suivants] [Qu'on m'appelle] [Parler à quelqu'un] [Menu]
        > Demain
        < Demain : à quelle heure ?
        [9 h] [9 h 30] [10 h] [10 h 30] [11 h] [11 h 30] [Autres jours] [Parler à quelqu'un] [Menu]
        > 10 h
        < Rendez-vous avec Claire, demain à 10 h, Bureau 2. Je réserve ?
        [Oui, je réserve] [Une autre date] [Parler à quelqu'un] [Menu]
        > Oui, je réserve
        < C'est réservé : demain à 10 h, avec Claire, Bureau 2.
        < Je vous enverrai un rappel.
        [Mes rendez-vous] [Parler à quelqu'un] [Menu]
    """)
    document = samira.last[-1].document
    assert document is not None and document.filename == "rendez-vous.ics"
    ics = document.content.decode()
    assert "DTSTART:20261125T090000Z" in ics and "DTEND:20261125T093000Z" in ics  # 10:00 in Brussels
    assert "LOCATION:Bureau 2" in ics and ics.endswith("END:VCALENDAR\r\n")
    [appointment] = appointments(session_factory)
    assert (appointment.worker_id, appointment.reason, appointment.status) == (
        "claire",
        "Problème d'ordinateur",
        "booked",
    )
    claire = Chat(centre, "claire")
    claire.script("""
        > (received)
        < Nouveau rendez-vous : Samira (Horticulture), demain à 10 h. Motif : Problème d'ordinateur.
    """)
    with session_factory() as session:
        kinds = sorted(reminder.kind for reminder in session.scalars(select(Reminder)))
        assert kinds == ["24h", "2h"]  # 24 h before is 25/11 10:00 - 24 h = now + 1 h: still ahead


def test_any_worker_shows_names_and_a_slot_is_gone_once_booked(centre: Conversation) -> None:
    samira, karim = onboarded(centre, "samira"), onboarded(centre, "lea", name="Léa")
    samira.script("""
        > Prendre rendez-vous
        > Recherche d'emploi
        > Peu importe
        [Aujourd'hui à 11 h (Claire)] [Aujourd'hui à 11 h 30 (Claire)] [Aujourd'hui à 13 h (Karim)]
        [Autres dates] [Qu'on m'appelle] [Parler à quelqu'un] [Menu]
        > Aujourd'hui à 11 h (Claire)
        > Oui, je réserve
        < C'est réservé
    """)
    karim.script("""
        > Prendre rendez-vous
        > Recherche d'emploi
        > Peu importe
        [Aujourd'hui à 11 h 30 (Claire)] [Aujourd'hui à 13 h (Karim)] [Aujourd'hui à 13 h 30 (Karim)]
        [Autres dates] [Qu'on m'appelle] [Parler à quelqu'un] [Menu]
    """)


def test_cancel_and_move_then_the_slot_is_free_again(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(centre, "samira")
    book(samira, "Demain à 9 h")
    samira.script("""
        > Mes rendez-vous
        < Vos rendez-vous :
        < demain à 9 h, avec Claire, Bureau 2 (Papiers administratifs)
        [Annuler (demain)] [Déplacer (demain)] [Nouveau rendez-vous] [Parler à quelqu'un] [Menu]
        > Déplacer (demain)
        < Choisissez le nouveau moment.
        > Aujourd'hui à 11 h 30
        < Déplacer le rendez-vous demain à 9 h vers aujourd'hui à 11 h 30 ?
        > Oui, je réserve
        < C'est déplacé : aujourd'hui à 11 h 30, avec Claire, Bureau 2.
    """)
    moved, current = appointments(session_factory)
    assert moved.status == "cancelled" and current.moved_from_id == moved.id
    Chat(centre, "claire").script("""
        > (received)
        < Nouveau rendez-vous
        < Samira a déplacé son rendez-vous demain à 9 h vers aujourd'hui à 11 h 30.
    """)
    # The old slot is free at once; then the new one is cancelled and free too.
    samira.script("""
        > Prendre rendez-vous
        < Vos rendez-vous :
        > Annuler (aujourd'hui)
        < Annuler le rendez-vous aujourd'hui à 11 h 30 avec Claire ?
        > Oui, annuler
        < C'est annulé.
        > Prendre rendez-vous
        > Papiers administratifs
        > Claire
        [Aujourd'hui à 11 h] [Aujourd'hui à 11 h 30] [Demain à 9 h] [Autres dates]
        [Qu'on m'appelle] [Parler à quelqu'un] [Menu]
    """)
    Chat(centre, "claire").script("""
        > (received)
        < Rendez-vous annulé par Samira : aujourd'hui à 11 h 30.
    """)


def test_too_late_to_cancel_in_the_bot(centre: Conversation, clock: FrozenClock) -> None:
    samira = onboarded(centre, "samira")
    book(samira, "Aujourd'hui à 11 h")
    clock.advance(timedelta(hours=1, minutes=5))  # 10:05, the appointment is at 11:00
    samira.script("""
        > Prendre rendez-vous
        > Annuler (aujourd'hui)
        < Il est trop tard pour changer ce rendez-vous dans le bot. Prévenez l'accueil (081 00 00 00).
    """)


def test_asking_for_a_call_instead(centre: Conversation, session_factory: sessionmaker[Session]) -> None:
    samira = onboarded(centre, "samira")
    samira.script("""
        > Prendre rendez-vous
        > Question personnelle
        > Karim
        > Qu'on m'appelle
        < À quel numéro peut-on vous appeler ?
        > je sais pas
        < Je n'ai pas reconnu un numéro de téléphone.
        > 0470 12 34 56
        < C'est noté : une personne de l'équipe vous appellera au 0470 12 34 56, dès que possible.
        [Parler à quelqu'un] [Menu]
    """)
    assert len(samira.last) == 1, "one thing said: someone will call"
    with session_factory() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.phone == "0470 12 34 56" and "Question personnelle" in (ticket.subject or "")
    Chat(centre, "claire").script("""
        > (received)
        < Demande n°1 : Samira (Horticulture)
        < À rappeler au 0470 12 34 56
    """)


def test_daylight_saving_week_and_public_holiday(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 10, 23, 15, 0, tzinfo=UTC))  # Friday 23/10 17:00; clocks go back on Sunday
    samira = onboarded(centre, "samira")
    samira.script("""
        > Prendre rendez-vous
        > Papiers administratifs
        > Claire
        [Lundi 26 octobre à 9 h] [Lundi 26 octobre à 9 h 30] [Lundi 26 octobre à 10 h] [Autres dates]
        [Qu'on m'appelle] [Parler à quelqu'un] [Menu]
        > Lundi 26 octobre à 9 h
        > Oui, je réserve
    """)
    [monday] = appointments(session_factory)
    assert monday.starts_at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 9:00 in winter time is 08:00 UTC
    clock.set(datetime(2026, 11, 10, 16, 0, tzinfo=UTC))  # Tuesday 10/11 17:00; Wednesday is a holiday
    lea = onboarded(centre, "lea", name="Léa")
    lea.script("""
        > Prendre rendez-vous
        > Papiers administratifs
        > Claire
        [Jeudi 12 novembre à 9 h] [Jeudi 12 novembre à 9 h 30] [Jeudi 12 novembre à 10 h] [Autres dates]
        [Qu'on m'appelle] [Parler à quelqu'un] [Menu]
    """)


@pytest.mark.parametrize("attempts", [30])
def test_thirty_trainees_tapping_one_slot_exactly_one_wins(
    centre: Conversation, session_factory: sessionmaker[Session], attempts: int
) -> None:
    trainees = [f"t{number}" for number in range(attempts)]
    for trainee in trainees:
        onboarded(centre, trainee)
    slot = int(datetime(2026, 11, 25, 9, 0, tzinfo=UTC).timestamp() // 60)  # Wednesday 10:00, Claire
    barrier = threading.Barrier(attempts)
    answers: dict[str, list[Reply]] = {}

    def tap(trainee: str) -> None:
        barrier.wait()
        answers[trainee] = centre.handle(
            IncomingMessage("console", trainee, button_id=f"bk:ok.0.claire.{slot}")
        )

    threads = [threading.Thread(target=tap, args=(trainee,)) for trainee in trainees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [t for t, replies in answers.items() if replies[0].text.startswith("✅ C'est réservé")]
    assert len(won) == 1, {t: replies[0].text for t, replies in answers.items()}
    for trainee, replies in answers.items():
        if trainee in won:
            continue
        texts = [reply.text for reply in replies]
        # Either the insert lost the race (the database refused it) or the slot was seen taken first.
        assert texts[0] in (
            "😕 Ce moment vient d'être pris par quelqu'un d'autre.",
            "Ce moment n'est plus libre.",
        )
        offered = [button.title for reply in replies for button in reply.buttons]
        assert "Demain à 10 h (Claire)" not in offered and "Demain à 10 h" not in offered
        assert offered and offered[0].startswith("Aujourd'hui à 11 h")  # the next free slots
    with session_factory() as session:
        booked = session.scalar(
            select(func.count()).select_from(Appointment).where(Appointment.status == "booked")
        )
        assert booked == 1


def test_reminders_are_sent_once_and_honour_cancel_and_stop(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    samira, lea = onboarded(centre, "samira"), onboarded(centre, "lea", name="Léa")
    for chat, slot in ((samira, "9 h"), (lea, "9 h 30")):
        chat.script(f"""
            > Prendre rendez-vous
            > Papiers administratifs
            > Claire
            > Autres dates
            > Jeudi 26 novembre
            < Jeudi 26 novembre : à quelle heure ?
            > {slot}
            > Oui, je réserve
            < C'est réservé
        """)
    lea.script("""
        > /stop
    """)
    services = centre.services

    def send() -> int:
        with unit_of_work(session_factory) as session:
            return booking.send_due_reminders(
                session, services.settings, services.get(booking.AVAILABILITY).refresh(), clock.now()
            )

    clock.set(datetime(2026, 11, 25, 7, 59, tzinfo=UTC))  # Wednesday 8:59: 24 h before is 9:00
    assert send() == 0
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    assert send() == 1  # Samira's; Léa paused her reminders
    assert send() == 0  # once
    samira.script("""
        > (received)
        < Rappel : rendez-vous demain à 9 h avec Claire, Bureau 2.
        [Je serai là] [Annuler]
        > Je serai là
        < Merci, c'est noté !
    """)
    assert Chat(centre, "lea").received() == []
    # Samira cancels: the 2-hour reminder is not sent.
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    samira.script("""
        > Prendre rendez-vous
        > Annuler (demain)
        > Oui, annuler
    """)
    clock.set(datetime(2026, 11, 26, 6, 30, tzinfo=UTC))  # Thursday 7:30: 2 h before 9:30 passed for Léa
    assert send() == 0
    with session_factory() as session:
        assert (
            session.scalar(select(func.count()).select_from(Reminder).where(Reminder.sent_at.is_(None))) == 0
        )


def test_agenda_at_eight_and_staff_marking_and_cancelling(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    samira = onboarded(centre, "samira")
    book(samira, "Demain à 9 h")
    services = centre.services
    claire = Chat(centre, "claire")
    claire.received()

    def agendas() -> bool:
        with unit_of_work(session_factory) as session:
            return booking.send_agendas(
                session,
                services.settings,
                services.get(booking.AVAILABILITY).refresh(),
                services.get(OFFICE_HOURS),
                clock.now(),
            )

    assert agendas()  # Tuesday 9:00: the bot was not running at 8:00, today's agenda comes late
    assert not agendas()
    claire.received()
    clock.set(datetime(2026, 11, 25, 6, 59, tzinfo=UTC))  # Wednesday 7:59
    assert not agendas()
    clock.set(datetime(2026, 11, 25, 7, 1, tzinfo=UTC))  # 8:01
    assert agendas()
    assert not agendas()
    claire.script("""
        > (received)
        < Bonjour Claire ! Vos rendez-vous d'aujourd'hui :
        < 9 h 00 : Samira (Horticulture), Papiers administratifs
        [🚫 Annuler Samira 09:00]
    """)
    # Whether she came is asked once the appointment has started, not from the morning's agenda.
    [booked] = appointments(session_factory)
    claire.press_payload(f"bk:done.{booked.id}")
    claire.expect(
        "Ce rendez-vous n'a pas encore commencé. Vous pourrez dire si Samira était là à partir de 9 h 00."
    )
    claire.send("/rdv")
    claire.press("🚫 Annuler Samira 09:00")
    claire.script("""
        < Écrivez le message pour Samira
        > Je suis malade, je vous rappelle lundi.
        < Rendez-vous annulé ; Samira est prévenu·e.
    """)
    samira.script("""
        > (received)
        < Claire a dû annuler votre rendez-vous aujourd'hui à 9 h.
        < Son message : « Je suis malade, je vous rappelle lundi. »
        [Nouveau rendez-vous] [Menu]
    """)
    [appointment] = appointments(session_factory)
    assert (appointment.status, appointment.cancelled_by) == ("cancelled", "staff")


def test_trainees_cannot_use_staff_actions_and_forged_slots_are_refused(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(centre, "samira")
    book(samira, "Demain à 9 h")
    mallory = onboarded(centre, "mallory", name="Mallory")
    mallory.script("""
        > [bk:done.1]
        < Ce bouton n'est plus valable.
        > [bk:sx.1]
        < Ce bouton n'est plus valable.
        > [bk:x.1]
        < Je ne trouve plus ce rendez-vous.
        > [bk:mv.1]
        < Je ne trouve plus ce rendez-vous.
        > [bk:ok.0.claire.12345]
        < Ce moment n'est plus libre.
        > [bk:ok.0.nobody.29404980]
        < Ce bouton n'est plus valable.
        > [bk:r.7.abcd]
        < Ce bouton n'est plus valable.
        > /rdv
        < Je ne connais pas cette commande.
    """)
    with session_factory() as session:
        appointment = session.scalars(select(Appointment)).one()
        assert appointment.status == "booked" and appointment.trainee.external_id == "samira"


def test_my_data_shows_and_forget_erases_appointments(
    centre: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(centre, "samira")
    book(samira, "Demain à 9 h")
    samira.script("""
        > /mesdonnees
        < 1 rendez-vous : demain à 9 h
        < Rendez-vous le : 25/11/2026 à 9 h 00
        < Fin : 25/11/2026 à 9 h 30
        < Avec : Claire
        < Motif : Papiers administratifs
        < État : prévu
        < – Rappel : 2 h avant
        > /oublier
        < Je ne pourrai plus vous reconnaître. Votre rendez-vous de demain à 9 h sera annulé.
        > Oui, tout effacer
    """)
    # Claire is told the moment is free again, without the name of the person erased.
    claire = Chat(centre, "claire")
    claire.received()
    notice = next(reply.text for reply in claire.last if "effacé ses données" in reply.text)
    assert notice.startswith("🗑️ Le rendez-vous de demain à 9 h est annulé") and "Samira" not in notice
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0
        assert session.scalar(select(func.count()).select_from(Reminder)) == 0
        assert session.scalar(select(func.count()).select_from(User).where(User.role == "trainee")) == 0


def test_without_an_availability_file_the_bot_says_so(conversation: Conversation) -> None:
    onboarded(conversation, "samira").script("""
        > Prendre rendez-vous
        < Les rendez-vous ne sont pas encore ouverts dans le bot. Adressez-vous à l'accueil (081 00 00 00).
    """)


def test_an_invalid_edit_keeps_the_last_valid_availability(centre: Conversation) -> None:
    path = centre.services.settings.availability_file
    service = centre.services.get(booking.AVAILABILITY)
    assert [worker.id for worker in service.refresh().workers] == ["claire", "karim"]
    path.write_text(AVAILABILITY + "- id: oops\n  weekley: {}\n", encoding="utf-8")
    assert [worker.id for worker in service.refresh().workers] == ["claire", "karim"]
    assert service.last_error is not None
    path.write_text(AVAILABILITY.split("- id: karim")[0], encoding="utf-8")
    assert [worker.id for worker in service.refresh().workers] == ["claire"]


def test_the_database_itself_refuses_a_double_booking(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    onboarded(centre, "samira")
    onboarded(centre, "lea", name="Léa")
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def book(external_id: str, status: str = "booked") -> None:
        with unit_of_work(session_factory) as session:
            trainee = session.scalars(select(User).where(User.external_id == external_id)).one()
            session.add(
                Appointment(
                    trainee_id=trainee.id,
                    worker_id="claire",
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    reason="x",
                    status=status,
                    booked_at=clock.now(),
                )
            )

    book("samira")
    with pytest.raises(IntegrityError):
        book("lea")  # whatever the code above does, the unique index says no
    book("lea", status="cancelled")  # cancelled bookings leave the index: the slot is reusable
    with unit_of_work(session_factory) as session:
        session.execute(update(Appointment).values(status="cancelled"))
    book("lea")


def test_once_started_the_worker_says_whether_the_trainee_came(
    centre: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    samira = onboarded(centre, "samira")
    book(samira, "Demain à 9 h")
    claire = Chat(centre, "claire")
    claire.received()
    clock.set(datetime(2026, 11, 25, 8, 10, tzinfo=UTC))  # Wednesday 9:10 in Brussels: it has started
    claire.send("/rdv")
    claire.press("✅ Là Samira 09:00")
    claire.expect("Noté : Samira était là.")
    [appointment] = appointments(session_factory)
    assert appointment.status == "done"


def test_other_dates_are_days_then_times_and_a_typed_number_keeps_its_button(centre: Conversation) -> None:
    samira = onboarded(centre, "samira")
    samira.script("""
        > Prendre rendez-vous
        > Papiers administratifs
        > Claire
        > Autres dates
        < Quel jour vous convient ?
        > Jours suivants
        < Quel jour vous convient ?
    """)
    later = [button.title for button in samira.buttons]
    assert "Aujourd'hui" not in later and "Lundi 30 novembre" not in later, later
    fixed = ("Jours suivants", "Qu'on m'appelle", "Parler à quelqu'un", "Menu")
    assert 1 <= len([title for title in later if title not in fixed]) <= 5, later
    samira.script("""
        > 1
        < : à quelle heure ?
    """)
    day = samira.text.split(" : ")[0].removeprefix("📅 ")
    assert day == later[0], "the typed number pressed the first day shown"
    times = [button.title for button in samira.buttons]
    assert len(times) <= 10 and times[-3:] == ["Autres jours", "Parler à quelqu'un", "Menu"]
