"""Module sessions: import, "Mes séances", reminders exactly once (restarts, 2 processes, DST, night)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.outbox import LEASE as OUTBOX_LEASE
from bot.core.outbox import Outbox
from bot.features import sessions
from bot.files.session_file import read_sessions
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage, Reminder, Role, SessionAnswer, TrainingSession, User
from bot.storage.staff import add_staff
from tests.dialogue import Chat
from tests.integration.test_onboarding import onboarded

HEADER = "module,starts_at,duration_minutes,place,filieres,trainer\n"


def write_csv(tmp_path: Path, rows: str, name: str = "sessions.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def run_import(
    session_factory: sessionmaker[Session], settings: Settings, path: Path, now: datetime
) -> sessions.ImportReport:
    rows = read_sessions(path, settings.filiere_names)
    with unit_of_work(session_factory) as session:
        return sessions.import_sessions(session, rows, settings, now)


def import_csv(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path, rows: str, now: datetime
) -> sessions.ImportReport:
    """Write the rows under the spec's header in sessions.csv and import it."""
    return run_import(session_factory, settings, write_csv(tmp_path, rows), now)


def remind(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, now: datetime
) -> int:
    """Run the reminder job at now (the clock moves there too, so that the pushes are due)."""
    clock.set(now)
    with unit_of_work(session_factory) as session:
        return sessions.send_session_reminders(session, settings, now)


def pushes_to(session_factory: sessionmaker[Session], external_id: str) -> list[str]:
    with session_factory() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == external_id))
        return [reply["text"] for row in rows for reply in row.payload["replies"]]


def test_import_my_sessions_and_reminders_once(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    samira = onboarded(conversation, "samira")  # Horticulture
    onboarded(conversation, "karim", name="Karim")
    path = write_csv(
        tmp_path,
        "Utiliser l'ordinateur,2026-11-26 09:00,180,Salle 3,Horticulture;Bâtiment,Nadia\n"
        "Créer son e-mail,2026-11-27 13:30,120,https://visio.example.org/email,Nettoyage,Nadia\n",
    )
    report = run_import(session_factory, settings, path, clock.now())
    assert (report.created, report.unchanged) == (2, 0)
    again = run_import(session_factory, settings, path, clock.now())
    assert (again.created, again.unchanged) == (0, 2)  # idempotent
    samira.script("""
        > Mes séances
        < Vos prochaines séances :
        < jeudi 26 novembre à 9 h : Utiliser l'ordinateur, Salle 3
        [Parler à quelqu'un] [Menu]
    """)
    assert "Créer son e-mail" not in samira.text  # not her filière
    # The day before at 18:00 Brussels (17:00 UTC), then 1 h before.
    assert remind(session_factory, settings, clock, datetime(2026, 11, 25, 16, 59, tzinfo=UTC)) == 0
    assert remind(session_factory, settings, clock, datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == 2
    assert remind(session_factory, settings, clock, datetime(2026, 11, 25, 17, 5, tzinfo=UTC)) == 0
    samira.script("""
        > (received)
        < Rappel : Utiliser l'ordinateur, demain à 9 h, Salle 3.
        [Je serai là] [Je ne viendrai pas]
        > Je ne viendrai pas
        < Vous voulez dire pourquoi ?
        > mon fils est malade
        < L'équipe est prévenue.
    """)
    assert remind(session_factory, settings, clock, datetime(2026, 11, 26, 7, 0, tzinfo=UTC)) == 2
    assert remind(session_factory, settings, clock, datetime(2026, 11, 26, 7, 30, tzinfo=UTC)) == 0
    with session_factory() as session:
        answer = session.scalars(select(SessionAnswer)).one()
        assert (answer.answer, answer.reason) == ("absent", "mon fils est malade")


def test_a_number_typed_after_a_reminder_presses_the_reminders_button(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    samira = onboarded(conversation, "samira")
    samira.script("""
        > Mes séances
        < Vous n'avez pas de séance prévue dans le bot.
        [Parler à quelqu'un] [Menu]
    """)
    import_csv(
        session_factory,
        settings,
        tmp_path,
        "Créer son CV,2026-11-26 09:00,120,Salle 3,toutes,Nadia\n",
        clock.now(),
    )
    assert remind(session_factory, settings, clock, datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == 1
    samira.script("""
        > (received)
        < Rappel : Créer son CV, demain à 9 h, Salle 3.
        [Je serai là] [Je ne viendrai pas]
    """)
    # Typed, not tapped (an old phone, a habit from WhatsApp's numbers): the reminder's buttons, not the
    # ones of the turn before it.
    samira.script("""
        > 2
        < Vous voulez dire pourquoi ?
    """)


def test_a_push_to_a_staff_member_leaves_their_buttons_to_be_tapped(
    conversation: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    from bot.core.messages import Button, Reply
    from bot.core.outbox import enqueue
    from bot.storage.models import ConversationState

    with unit_of_work(session_factory) as session:
        worker, _ = add_staff(session, "console", "claire", "Claire", Role.SOCIAL_WORKER, clock.now())
        session.add(ConversationState(user_id=worker.id, state="idle", data={}, updated_at=clock.now()))
    with unit_of_work(session_factory) as session:
        alert = [Reply("Samira : je dois signer lundi", (Button("ho.close.1", "Terminer"),))]
        enqueue(session, clock.now(), "console", "claire", alert)
    with session_factory() as session:
        assert session.get(ConversationState, worker.id).shown is None  # type: ignore[union-attr]


def test_a_moved_session_is_told_and_reminded_again(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    samira = onboarded(conversation, "samira")
    first = write_csv(tmp_path, "Écrire son CV,2026-11-24 14:00,60,Salle 3,toutes,Nadia\n")
    run_import(session_factory, settings, first, clock.now())
    # Imported this morning for this afternoon: yesterday's 18:00 reminder is said at once.
    assert remind(session_factory, settings, clock, clock.now()) == 1
    samira.received()
    # The CSV has no id column: the key is module + start, so moving it means cancel + create.
    moved = tmp_path / "moved.yaml"
    moved.write_text(
        "- id: cv-1\n  module: Écrire son CV\n  starts_at: 2026-11-26 10:00\n  duration_minutes: 60\n"
        "  place: Salle 3\n  filieres: toutes\n",
        encoding="utf-8",
    )
    run_import(session_factory, settings, moved, clock.now())
    moved.write_text(moved.read_text(encoding="utf-8").replace("2026-11-26 10:00", "2026-11-27 10:00"))
    report = run_import(session_factory, settings, moved, clock.now())
    assert (report.moved, report.told) == (1, 1)
    samira.script("""
        > (received)
        < Changement : la séance Écrire son CV de jeudi 26 novembre à 10 h est déplacée.
        < Nouvelle date : vendredi 27 novembre à 10 h, Salle 3.
    """)
    assert remind(session_factory, settings, clock, datetime(2026, 11, 26, 17, 0, tzinfo=UTC)) == 1


def test_reminders_missed_while_down_late_within_grace_and_dropped_after(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    onboarded(conversation, "samira")
    path = write_csv(
        tmp_path,
        "Utiliser l'ordinateur,2026-11-27 09:00,180,Salle 3,Horticulture,Nadia\n"
        "Écrire son CV,2026-11-27 14:00,60,Salle 3,Horticulture,Nadia\n",
    )
    run_import(session_factory, settings, path, clock.now())
    # Down from Thursday 17:30 until Friday 8:10 (Brussels): the 18:00 reminders are 14 h late, over
    # the 6 h grace: dropped and logged. The morning session's "1 h before" is due: said.
    with caplog.at_level("WARNING"):
        assert remind(session_factory, settings, clock, datetime(2026, 11, 27, 7, 10, tzinfo=UTC)) == 1
    assert "2 session reminders dropped" in caplog.text
    # The afternoon's comes at its time.
    assert remind(session_factory, settings, clock, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)) == 1


def test_quiet_hours_hold_a_push_until_morning_unless_sooner(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    onboarded(conversation, "samira")
    path = write_csv(
        tmp_path,
        "Tôt le matin,2026-11-27 08:30,60,Salle 3,Horticulture,Nadia\n"
        "Midi,2026-11-27 12:00,60,Salle 3,Horticulture,Nadia\n",
    )
    clock.set(datetime(2026, 11, 26, 21, 30, tzinfo=UTC))  # Thursday 22:30: imported late at night
    run_import(session_factory, settings, path, clock.now())
    # Both sessions start after the quiet hours end (8:00): their reminders wait until then.
    assert remind(session_factory, settings, clock, clock.now()) == 0
    assert remind(session_factory, settings, clock, datetime(2026, 11, 27, 7, 0, tzinfo=UTC)) == 2  # 8:00
    # A session at 7:30 (before the quiet hours end) is reminded at night.
    write_csv(tmp_path, "Très tôt,2026-11-28 07:30,60,Salle 3,Horticulture,Nadia\n", name="early.csv")
    run_import(session_factory, settings, tmp_path / "early.csv", datetime(2026, 11, 27, 21, 0, tzinfo=UTC))
    assert remind(session_factory, settings, clock, datetime(2026, 11, 28, 5, 30, tzinfo=UTC)) == 1


def test_daylight_saving_the_day_before_at_18_local(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    clock.set(datetime(2026, 10, 23, 10, 0, tzinfo=UTC))
    onboarded(conversation, "samira")
    import_csv(
        session_factory,
        settings,
        tmp_path,
        "Lundi d'hiver,2026-10-26 09:00,60,Salle 3,Horticulture,Nadia\n",
        clock.now(),
    )
    with session_factory() as session:
        starts_at = session.scalars(select(TrainingSession.starts_at)).one()
        assert starts_at.replace(tzinfo=UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 9:00 CET
    # Sunday 25/10 at 18:00 Brussels is 17:00 UTC (winter time since the night before).
    assert remind(session_factory, settings, clock, datetime(2026, 10, 25, 16, 59, tzinfo=UTC)) == 0
    assert remind(session_factory, settings, clock, datetime(2026, 10, 25, 17, 0, tzinfo=UTC)) == 1
    # 1 h before: 8:00 local = 07:00 UTC.
    assert remind(session_factory, settings, clock, datetime(2026, 10, 26, 6, 59, tzinfo=UTC)) == 0
    assert remind(session_factory, settings, clock, datetime(2026, 10, 26, 7, 0, tzinfo=UTC)) == 1


def test_stop_opts_out_of_session_reminders(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    samira = onboarded(conversation, "samira")
    samira.send("/stop")
    import_csv(
        session_factory,
        settings,
        tmp_path,
        "CV,2026-11-26 09:00,60,Salle 3,Horticulture,Nadia\n",
        clock.now(),
    )
    assert remind(session_factory, settings, clock, datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == 0


def test_two_processes_send_two_hundred_reminders_once(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    with unit_of_work(session_factory) as session:
        for number in range(200):
            session.add(
                User(
                    channel="telegram",
                    external_id=str(10_000 + number),
                    role=Role.TRAINEE.value,
                    first_name="T",
                    filiere="Horticulture",
                    consented_at=clock.now(),
                    consent_version=3,
                    created_at=clock.now(),
                    last_seen_at=clock.now(),
                )
            )
    import_csv(
        session_factory,
        settings,
        tmp_path,
        "CV,2026-11-26 09:00,60,Salle 3,Horticulture,Nadia\n",
        clock.now(),
    )
    due = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    counts: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def scheduler() -> None:
        try:
            barrier.wait()
            counts.append(remind(session_factory, settings, clock, due))
        except BaseException as error:  # the test fails on any error, including a lost race
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(counts) == 200
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 200
        recipients = session.scalars(select(OutboxMessage.recipient)).all()
        assert len(set(recipients)) == 200
        assert session.scalar(select(func.count()).select_from(Reminder)) == 200
    # Both still alive: a next tick finds nothing more to send.
    assert remind(session_factory, settings, clock, due) == 0
    outbox = Outbox(session_factory, clock)
    assert len(outbox.take(["telegram"], limit=500)) == 200


def test_forget_erases_answers_and_session_reminders(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    samira = onboarded(conversation, "samira")
    import_csv(
        session_factory,
        settings,
        tmp_path,
        "CV,2026-11-24 13:00,60,Salle 3,Horticulture,Nadia\n",
        clock.now(),
    )
    assert remind(session_factory, settings, clock, clock.now()) == 1
    samira.script("""
        > (received)
        > Je serai là
        < Merci, c'est noté !
        > /mesdonnees
        < 1 réponse à un rappel de séance
        < Réponse au rappel : je serai là
        < Rappel : la veille à 18 h 00
        > /oublier
        > Oui, tout effacer
    """)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SessionAnswer)) == 0
        assert session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_trainer_absence_goes_to_the_staff(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    with unit_of_work(session_factory) as session:
        add_staff(session, "console", "admin", "Admin", Role.ADMIN, clock.now())
    samira = onboarded(conversation, "samira")
    import_csv(
        session_factory,
        settings,
        tmp_path,
        "CV,2026-11-24 13:00,60,https://visio.example.org/cv,Horticulture,Nadia\n",
        clock.now(),
    )
    remind(session_factory, settings, clock, clock.now())
    samira.script("""
        > (received)
        < en visio : https://visio.example.org/cv
        [Je serai là] [Je ne viendrai pas] [Rejoindre la visio ?]
        > Rejoindre la visio ?
        < Pour rejoindre la visio
        > Mes séances
        > Menu
    """)
    samira.press_payload("ss:absent.1")
    samira.script("""
        > Passer
        < L'équipe est prévenue.
    """)
    admin = Chat(conversation, "admin")
    admin.received()
    assert "Samira sera absent·e à la séance CV" in admin.text and "(Nadia)" in admin.text


def test_a_restart_between_claim_and_send_delivers_once(
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    samira = onboarded(conversation, "samira")
    import_csv(
        session_factory,
        settings,
        tmp_path,
        "CV,2026-11-26 09:00,60,Salle 3,Horticulture,Nadia\n",
        clock.now(),
    )
    assert remind(session_factory, settings, clock, datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == 1
    # A dispatcher takes the push, then the process dies before sending it.
    [taken] = Outbox(session_factory, clock).take(["console"], recipient="samira")
    # Restarted: the reminder job does not write it again; the push waits out its lease, then goes once.
    assert remind(session_factory, settings, clock, datetime(2026, 11, 25, 17, 0, 10, tzinfo=UTC)) == 0
    assert samira.received() == []
    clock.advance(OUTBOX_LEASE)
    delivered = samira.received()
    assert [reply.text for reply in delivered] == ["🗓️ Rappel : CV, demain à 9 h, Salle 3."]
    assert samira.received() == []
    assert taken.id is not None
