"""Module sessions: imported from the admins' file, shown in "Mes séances", reminded exactly once.

Reminders. The source of truth is the reminders table, not a scheduler's memory. A periodic job looks
at the upcoming sessions; for each enrolled trainee and each reminder time already reached, it inserts
the row (session, trainee, kind) and, only if its insert won, writes the push in the same transaction.
The unique constraint makes that exactly once: across restarts (what was due while the bot was down is
sent late within SESSION_REMINDER_GRACE_HOURS, staler reminders are recorded as dropped and logged),
with two processes on one PostgreSQL database, and for a session imported or moved after one of its
reminder times (the trainee is told at once). The kind carries the session's start, so a moved
session is reminded again for its new time. Quiet hours (21:00-08:00) hold a push until the morning,
unless the session is sooner than that.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot import texts
from bot.common.clock import BRUSSELS, as_utc
from bot.common.text import shorten
from bot.config import Settings
from bot.core.feature import MENU_BUTTON, ButtonAction, Feature, GoTarget, MenuEntry, StateStep
from bot.core.messages import Button, Reply
from bot.core.outbox import enqueue
from bot.core.payloads import ButtonKind, go_button
from bot.core.personal import DataSection, PersonalTable, show_date, show_date_time, show_named, show_text
from bot.core.turn import IDLE, Services, Turn
from bot.features.intents import Intent
from bot.features.menu import main_menu, needs_account
from bot.features.reminding import REMINDERS, session_reminders_of
from bot.files.office_hours import brussels_instant, french_day_and_time
from bot.files.reminders import reminder_times
from bot.files.session_file import SessionRow
from bot.storage.models import Enrolment, Reminder, Role, SessionAnswer, TrainingSession, User

log = logging.getLogger(__name__)

EVERY_FILIERE = "*"
SESSIONS_SHOWN = 5
# Sessions further ahead than this cannot have a reminder due (the day before at 18:00 is the earliest).
LOOKAHEAD = timedelta(days=2)
QUIET_START = time(21, 0)
QUIET_END = time(8, 0)


# ----------------------------------------------------------------------------------------- import


@dataclass
class ImportReport:
    """What an import changed, for the admin."""

    created: int = 0
    updated: int = 0
    moved: int = 0
    cancelled: int = 0
    unchanged: int = 0
    told: int = 0
    lines: list[str] = field(default_factory=list)
    # What the import does to each line of the file: new, moved, cancelled, updated or unchanged.
    changes: list[tuple[SessionRow, str]] = field(default_factory=list)


def _filieres_text(row: SessionRow, every: Sequence[str]) -> str:
    if set(row.filieres) >= set(every):
        return EVERY_FILIERE
    return ";".join(row.filieres)


def import_sessions(
    session: Session, rows: Iterable[SessionRow], settings: Settings, now: datetime
) -> ImportReport:
    """Create or update the sessions of a file, in the caller's transaction (all or nothing).

    A session moved or cancelled by this import is told to its trainees; its reminders follow by
    themselves (their kind carries the start).
    """
    report = ImportReport()
    every = settings.filiere_names
    for row in rows:
        existing = session.scalars(
            select(TrainingSession).where(TrainingSession.key == row.key)
        ).one_or_none()
        filieres = _filieres_text(row, every)
        if existing is None:
            session.add(
                TrainingSession(
                    key=row.key,
                    module=row.module,
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    place=row.place,
                    is_video=row.is_video,
                    trainer=row.trainer,
                    filieres=filieres,
                    cancelled=row.cancelled,
                    updated_at=now,
                )
            )
            report.created += 1
            report.changes.append((row, "new"))
            continue
        moved = as_utc(existing.starts_at) != row.starts_at or existing.place != row.place
        newly_cancelled = row.cancelled and not existing.cancelled
        same = (
            not moved
            and existing.cancelled == row.cancelled
            and existing.module == row.module
            and as_utc(existing.ends_at) == row.ends_at
            and existing.trainer == row.trainer
            and existing.filieres == filieres
            and existing.is_video == row.is_video
        )
        if same:
            report.unchanged += 1
            report.changes.append((row, "unchanged"))
            continue
        before = (as_utc(existing.starts_at), existing.place)
        existing.module, existing.ends_at, existing.trainer = row.module, row.ends_at, row.trainer
        existing.starts_at, existing.place, existing.is_video = row.starts_at, row.place, row.is_video
        existing.filieres, existing.cancelled, existing.updated_at = filieres, row.cancelled, now
        if newly_cancelled:
            report.cancelled += 1
            report.told += _tell_change(session, existing, now, cancelled=True, before=before)
            report.changes.append((row, "cancelled"))
        elif moved and not row.cancelled:
            report.moved += 1
            report.told += _tell_change(session, existing, now, cancelled=False, before=before)
            report.changes.append((row, "moved"))
        else:
            report.updated += 1
            report.changes.append((row, "updated"))
    session.flush()
    return report


def preview_import(
    session: Session, rows: Iterable[SessionRow], settings: Settings, now: datetime
) -> ImportReport:
    """Return what importing the rows would change, changing nothing (the import runs in a savepoint)."""
    savepoint = session.begin_nested()
    try:
        return import_sessions(session, rows, settings, now)
    finally:
        savepoint.rollback()


def _tell_change(
    session: Session,
    training: TrainingSession,
    now: datetime,
    *,
    cancelled: bool,
    before: tuple[datetime, str],
) -> int:
    if as_utc(before[0]) < now and as_utc(training.starts_at) < now:
        return 0  # a past session corrected in the file: nobody to warn
    old_when = french_day_and_time(before[0], now)
    if cancelled:
        text = texts.SESSION_CANCELLED.format(module=training.module, when=old_when)
    else:
        text = texts.SESSION_MOVED.format(
            module=training.module,
            old=old_when,
            when=french_day_and_time(training.starts_at, now),
            place=training.place,
        )
    told = 0
    for trainee in enrolled_trainees(session, training):
        enqueue(
            session,
            now,
            trainee.channel,
            trainee.external_id,
            [Reply(text, (_my_sessions(),))],
            user_id=trainee.id,
        )
        told += 1
    return told


# ----------------------------------------------------------------------------------------- enrolment


def enrolled_trainees(session: Session, training: TrainingSession) -> list[User]:
    """Return the trainees of a session: by filière (from onboarding), and enrolled by name."""
    trainees = select(User).where(User.role == Role.TRAINEE.value, User.consented_at.is_not(None))
    by_name = select(Enrolment.user_id).where(Enrolment.session_id == training.id)
    if training.filieres == EVERY_FILIERE:
        return list(session.scalars(trainees.order_by(User.id)))
    names = [name for name in training.filieres.split(";") if name]
    return list(
        session.scalars(trainees.where(or_(User.filiere.in_(names), User.id.in_(by_name))).order_by(User.id))
    )


def sessions_of(
    session: Session, user: User, now: datetime, *, limit: int = SESSIONS_SHOWN
) -> list[TrainingSession]:
    """Return the trainee's upcoming sessions (not cancelled), soonest first."""
    by_name = select(Enrolment.session_id).where(Enrolment.user_id == user.id)
    conditions = [TrainingSession.filieres == EVERY_FILIERE, TrainingSession.id.in_(by_name)]
    if user.filiere:
        # A session lists its filières joined by ";": match the name as a whole item.
        conditions.append((";" + TrainingSession.filieres + ";").contains(f";{user.filiere};"))
    return list(
        session.scalars(
            select(TrainingSession)
            .where(TrainingSession.cancelled.is_(False), TrainingSession.ends_at > now, or_(*conditions))
            .order_by(TrainingSession.starts_at)
            .limit(limit)
        )
    )


def listed_sessions(session: Session, now: datetime, *, include_past: bool = False) -> list[TrainingSession]:
    """Return the sessions still to end (or all of them), soonest first."""
    query = select(TrainingSession).order_by(TrainingSession.starts_at)
    if not include_past:
        query = query.where(TrainingSession.ends_at > now)
    return list(session.scalars(query))


def enrol_by_reference(
    session: Session, channel: str, external_id: str, key: str, now: datetime
) -> bool | None:
    """Enrol a person (by their account) in a session (by its key); None when either is unknown."""
    user = session.scalars(
        select(User).where(User.channel == channel, User.external_id == external_id)
    ).one_or_none()
    training = session.scalars(select(TrainingSession).where(TrainingSession.key == key)).one_or_none()
    if user is None or training is None:
        return None
    return enrol(session, user, training, now)


def enrol(session: Session, user: User, training: TrainingSession, now: datetime) -> bool:
    """Enrol one trainee in one session by name; return whether it is new."""
    if session.get(Enrolment, (user.id, training.id)) is not None:
        return False
    session.add(Enrolment(user_id=user.id, session_id=training.id, enrolled_at=now))
    return True


# ----------------------------------------------------------------------------------------- trainee


# Module sessions: here.<id>, absent.<id>, video.<id>, skip (no reason for the absence).
SESSION = ButtonKind("ss", r"skip|(?:here|absent|video)\.\d{1,10}")
# The trainee may say why they will be absent.
SESSION_ABSENCE = "session_absence"


def _button(argument: str, title: str) -> Button:
    return SESSION.button(argument, title)


def _my_sessions() -> Button:
    return go_button("sessions", texts.BUTTON_SESSIONS)


def _describe(training: TrainingSession, now: datetime) -> str:
    where = texts.SESSION_VIDEO if training.is_video else training.place
    return texts.SESSION_LINE.format(
        when=french_day_and_time(training.starts_at, now), module=training.module, place=where
    )


def show_my_sessions(turn: Turn) -> list[Reply]:
    """List the trainee's upcoming sessions ("Mes séances")."""
    if turn.user is None:
        return needs_account(turn)
    turn.set_state(IDLE)
    upcoming = sessions_of(turn.session, turn.user, turn.now)
    if not upcoming:
        return [Reply(texts.SESSIONS_NONE, (MENU_BUTTON,))]
    lines = [texts.SESSIONS_TITLE, *(_describe(training, turn.now) for training in upcoming)]
    buttons = [
        _button(f"video.{training.id}", f"{texts.BUTTON_JOIN_VIDEO} ({shorten(training.module, 24)})")
        for training in upcoming
        if training.is_video
    ][:3]
    return [Reply("\n".join(lines), (*buttons, MENU_BUTTON))]


def _own_session(turn: Turn, session_id: int) -> TrainingSession | None:
    if turn.user is None:
        return None
    return next(
        (s for s in sessions_of(turn.session, turn.user, turn.now, limit=50) if s.id == session_id), None
    )


def on_button(turn: Turn, argument: str) -> list[Reply]:
    """Handle "Je serai là", "Je serai absent·e" (and its reason) and "Comment rejoindre la visio ?"."""
    verb, _, number = argument.partition(".")
    if verb == "skip":
        return _record_absence(turn, None)
    training = _own_session(turn, int(number)) if number.isdigit() else None
    if training is None or turn.user is None:
        return [Reply(texts.SESSION_NOT_FOUND), main_menu(turn)]
    if verb == "video":
        return [Reply(texts.SESSION_HOW_TO_JOIN.format(link=training.place), (MENU_BUTTON,))]
    if verb == "here":
        _answer(turn, training, "present", None)
        return [Reply(texts.SESSION_THANKS_PRESENT, (MENU_BUTTON,))]
    turn.set_state(SESSION_ABSENCE, session=training.id)
    return [Reply(texts.SESSION_ASK_REASON, (_button("skip", texts.BUTTON_SKIP), MENU_BUTTON))]


def receive_absence_reason(turn: Turn) -> list[Reply]:
    """Record the absence with the reason the trainee typed."""
    return _record_absence(turn, turn.text[:300] or None)


def _record_absence(turn: Turn, reason: str | None) -> list[Reply]:
    data = turn.user.conversation.data if turn.user is not None and turn.user.conversation else {}
    session_id = data.get("session")
    turn.set_state(IDLE)
    training = _own_session(turn, session_id) if isinstance(session_id, int) else None
    if training is None:
        return [Reply(texts.SESSION_NOT_FOUND), main_menu(turn)]
    _answer(turn, training, "absent", reason)
    # The trainer is not a staff account: the staff group (or the admins) pass it on.
    notice = texts.SESSION_ABSENCE_STAFF.format(
        name=turn.display_name,
        module=training.module,
        when=french_day_and_time(training.starts_at, turn.now),
        trainer=f" ({training.trainer})" if training.trainer else "",
        reason=f" Raison : « {reason} »" if reason else "",
    )
    _tell_staff(turn.session, turn.services.settings, turn.now, notice, about=turn.user)
    return [Reply(texts.SESSION_THANKS_ABSENT, (MENU_BUTTON,))]


def _answer(turn: Turn, training: TrainingSession, answer: str, reason: str | None) -> None:
    assert turn.user is not None
    row = turn.session.get(SessionAnswer, (turn.user.id, training.id))
    if row is None:
        row = SessionAnswer(user_id=turn.user.id, session_id=training.id, answer=answer, answered_at=turn.now)
        turn.session.add(row)
    row.answer, row.reason, row.answered_at = answer, reason, turn.now


def _tell_staff(
    session: Session, settings: Settings, now: datetime, text: str, *, about: User | None
) -> None:
    group = settings.staff_group
    about_id = about.id if about is not None else None
    if group is not None:
        enqueue(session, now, *group, [Reply(text)], user_id=about_id)
        return
    for admin in session.scalars(select(User).where(User.role == Role.ADMIN.value)):
        enqueue(session, now, admin.channel, admin.external_id, [Reply(text)], user_id=about_id)


# ----------------------------------------------------------------------------------------- reminders


def _in_quiet_hours(moment: datetime) -> bool:
    local = as_utc(moment).astimezone(BRUSSELS).time()
    return local >= QUIET_START or local < QUIET_END


def _quiet_end(moment: datetime) -> datetime:
    local = as_utc(moment).astimezone(BRUSSELS)
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return brussels_instant(day, QUIET_END)


def _insert_reminder(session: Session) -> object:
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    table = Reminder.__table__
    return insert(table).on_conflict_do_nothing().returning(table.c.id)  # type: ignore[arg-type]


def send_session_reminders(session: Session, settings: Settings, now: datetime) -> int:
    """Push every session reminder that is due and not yet recorded; return how many were sent."""
    times = reminder_times(settings.session_reminders)
    grace = timedelta(hours=settings.session_reminder_grace_hours)
    upcoming = session.scalars(
        select(TrainingSession)
        .where(
            TrainingSession.cancelled.is_(False),
            TrainingSession.starts_at > now,
            TrainingSession.starts_at <= now + LOOKAHEAD,
        )
        .order_by(TrainingSession.starts_at)
    ).all()
    statement = _insert_reminder(session)
    sent = dropped = 0
    for training in upcoming:
        starts_at = as_utc(training.starts_at)
        due_times = [(when, when.due(starts_at)) for when in times]
        reached = [(when, due) for when, due in due_times if due <= now]
        if not reached:
            continue
        # Several reminder times already reached (a late import, a long stop): only the latest is said.
        latest = max(due for _, due in reached)
        if _in_quiet_hours(now) and starts_at > _quiet_end(now):
            continue  # after 21:00: wait for 8:00, the session is not before then
        for trainee in enrolled_trainees(session, training):
            if trainee.notifications_paused:
                continue
            for when, due in reached:
                kind = f"{when.name}@{starts_at:%Y%m%dT%H%MZ}"
                # Stale: due long ago, before the session was last imported or changed, while the bot
                # was down. A reminder made due by a late import (updated after it) is never stale.
                stale = now - due > grace and as_utc(training.updated_at) <= due
                say = due == latest and not stale
                values = {
                    "user_id": trainee.id,
                    "session_id": training.id,
                    "kind": kind,
                    "due_at": due,
                    "sent_at": now if say else None,
                }
                inserted = session.execute(statement, values).first()  # type: ignore[call-overload]
                if inserted is None:
                    continue  # recorded already, by this process earlier or by another one
                if not say:
                    if stale:
                        dropped += 1
                    continue
                enqueue(
                    session,
                    now,
                    trainee.channel,
                    trainee.external_id,
                    [_reminder_reply(training, now)],
                    user_id=trainee.id,
                    reminder_id=inserted[0],
                )
                sent += 1
    if dropped:
        log.warning("%d session reminders dropped: due more than %s ago (the bot was down)", dropped, grace)
    if sent:
        log.info("%d session reminders sent", sent)
    return sent


def _reminder_reply(training: TrainingSession, now: datetime) -> Reply:
    where = texts.SESSION_VIDEO_LINK.format(link=training.place) if training.is_video else training.place
    text = texts.SESSION_REMINDER.format(
        module=training.module, when=french_day_and_time(training.starts_at, now), place=where
    )
    buttons = [
        _button(f"here.{training.id}", texts.BUTTON_WILL_BE_THERE),
        _button(f"absent.{training.id}", texts.BUTTON_WILL_BE_ABSENT),
    ]
    if training.is_video:
        buttons.append(_button(f"video.{training.id}", texts.BUTTON_JOIN_VIDEO))
    return Reply(text, tuple(buttons))


def session_record(training: TrainingSession) -> dict[str, object]:
    """Return a session as plain data for `cisp-bot sessions list --json`."""
    return {
        "key": training.key,
        "module": training.module,
        "starts_at": as_utc(training.starts_at).astimezone(BRUSSELS).isoformat(),
        "ends_at": as_utc(training.ends_at).astimezone(BRUSSELS).isoformat(),
        "place": training.place,
        "video": training.is_video,
        "trainer": training.trainer,
        "filieres": "toutes" if training.filieres == EVERY_FILIERE else training.filieres.split(";"),
        "cancelled": training.cancelled,
    }


def _send_session_reminders(session: Session, services: Services, now: datetime) -> None:
    send_session_reminders(session, services.settings, now)


_ANSWERS = {"present": "je serai là", "absent": "je serai absent"}
# The sessions a trainee is enrolled in by name, and what they answered to their reminders.
ENROLMENTS = PersonalTable(
    "enrolments",
    {"session_id": ("Inscription à la séance", str), "enrolled_at": ("Le", show_date)},
    internal=frozenset({"user_id"}),
)
SESSION_ANSWERS = PersonalTable(
    "session_answers",
    {
        "session_id": ("Séance", str),
        "answer": ("Réponse au rappel", show_named(_ANSWERS)),
        "reason": ("Raison", show_text),
        "answered_at": ("Le", show_date),
    },
    internal=frozenset({"user_id"}),
)


def _session_text(session: Session, session_id: int) -> str:
    """Name a module session as the trainee knows it: its module, day and time."""
    row = session.get(TrainingSession, session_id)
    return f"{row.module}, {show_date_time(row.starts_at)}" if row is not None else str(session_id)


def describe_sessions(turn: Turn) -> DataSection | None:
    """Return the enrolments, the answers to reminders and the reminders of the turn's person."""
    user = turn.user
    if user is None or user.id is None:
        return None
    session = turn.session
    enrolments = list(session.scalars(select(Enrolment).where(Enrolment.user_id == user.id)))
    answers = list(session.scalars(select(SessionAnswer).where(SessionAnswer.user_id == user.id)))
    reminders = session_reminders_of(session, user.id)
    if not (enrolments or answers or reminders):
        return None
    lines = []
    for row in enrolments:
        lines += ENROLMENTS.block(row, session_id=_session_text(session, row.session_id))
    for answer in answers:
        lines += SESSION_ANSWERS.block(answer, session_id=_session_text(session, answer.session_id))
    for reminder in reminders:
        lines += [
            *REMINDERS.block(reminder),
            f"  Séance : {_session_text(session, reminder.session_id or 0)}",
        ]
    parts = []
    if enrolments:
        parts.append(texts.counted(texts.MY_DATA_ENROLMENTS, len(enrolments)))
    if answers or not enrolments:
        parts.append(texts.counted(texts.MY_DATA_SESSION_ANSWERS, len(answers)))
    return DataSection(", ".join(parts), texts.MY_DATA_SESSIONS_TITLE, lines)


FEATURE = Feature(
    name="sessions",
    buttons=[ButtonAction(SESSION, on_button)],
    states={
        SESSION_ABSENCE: StateStep(receive_absence_reason, "vous alliez dire pourquoi vous ne venez pas")
    },
    go={"sessions": GoTarget(show_my_sessions)},
    menu=[MenuEntry("sessions", texts.BUTTON_SESSIONS, order=30)],
    intents={Intent.SESSIONS.value: show_my_sessions},
    jobs={"session reminders": _send_session_reminders},
    personal_tables=[ENROLMENTS, SESSION_ANSWERS],
    # The module sessions themselves: the centre's timetable, not the trainees'.
    other_tables=frozenset({"training_sessions"}),
    describe_data=describe_sessions,
)
