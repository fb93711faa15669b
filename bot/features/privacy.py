"""What the bot keeps about a person: /mesdonnees shows all of it, /oublier erases all of it.

Every table is either personal, with a label for each of its columns in SHOWN_COLUMNS, or listed in
NON_PERSONAL_TABLES. Personal tables reference users.id with ON DELETE CASCADE, so erasing the user
erases them. Tests fail on a table or column that is in neither list, and on a missing cascade.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, object_session

from bot import texts
from bot.common.clock import BRUSSELS, as_utc, local_date_text
from bot.common.text import fold
from bot.core.feature import MENU_BUTTON, ButtonAction, Command, Feature, StateStep
from bot.core.messages import Button, Reply
from bot.core.payloads import ButtonKind
from bot.core.turn import IDLE, Services, Turn
from bot.features.faq import FAQ
from bot.features.menu import main_menu, needs_account
from bot.storage.models import (
    Appointment,
    Enrolment,
    FaqMiss,
    InboxMessage,
    NumberedChoice,
    OutboxMessage,
    Reminder,
    Role,
    SessionAnswer,
    User,
)

log = logging.getLogger(__name__)

_LANGUAGE_NAMES = {"fr": "français", "nl": "néerlandais", "en": "anglais"}
_ROLE_LABELS = {"trainee": "stagiaire", "social_worker": "assistant·e social·e", "admin": "admin"}
# The person asked /oublier: the next answer confirms or not.
CONFIRM_FORGET = "confirm_forget"
FORGET = ButtonKind("forget", "yes|no")
_TICKET_STATUS = {"open": "en cours", "closed": "terminée"}
_CLOSED_BY = {"staff": "par l'équipe", "trainee": "par vous", "expired": "automatiquement"}
_FEEDBACK = {"up": "👍 ça m'a aidé", "down": "👎 ça ne m'a pas aidé"}
_ATTACHMENTS = {"voice": "un message vocal", "photo": "une photo", "document": "un fichier"}
_DELIVERY = {"sent": "envoyé", "delivered": "arrivé sur le téléphone", "read": "lu", "failed": "pas arrivé"}
_ANSWERS = {"present": "je serai là", "absent": "je serai absent·e"}
_CANCELLED_BY = {"trainee": "par vous", "staff": "par l'équipe"}
_CANDIDATE_SOURCES = {"suggestion": "vous, parmi mes propositions", "ticket": "l'équipe, après votre demande"}
_CANDIDATE_STATUS = {"pending": "l'équipe va la lire", "rejected": "pas retenue"}
_APPOINTMENT_STATUS = {"booked": "prévu", "cancelled": "annulé", "done": "fait", "no_show": "absent·e"}


def _date(value: Any) -> str:
    return local_date_text(value) if isinstance(value, datetime) else "(non)"


def _date_time(value: Any) -> str:
    if not isinstance(value, datetime):
        return "(non)"
    local = as_utc(value).astimezone(BRUSSELS)
    return f"{local:%d/%m/%Y} à {local.hour} h {local.minute:02d}"


def _text(value: Any) -> str:
    return str(value) if value else "(pas donné)"


# table -> column -> (label, how to show the value). Order is the order of /mesdonnees.
SHOWN_COLUMNS: dict[str, dict[str, tuple[str, Callable[[Any], str]]]] = {
    "users": {
        "first_name": ("Prénom", _text),
        "filiere": ("Filière", _text),
        "language": (
            "Langue des réponses",
            lambda code: {"nl": "néerlandais", "en": "anglais"}.get(code, "français"),
        ),
        "channel": ("Application", str),
        "external_id": ("Numéro de compte dans l'application", str),
        "role": ("Rôle", lambda role: _ROLE_LABELS.get(role, role)),
        "consented_at": ("Accord donné le", _date),
        "consent_version": ("Version du texte d'accord", lambda version: str(version or "-")),
        "notifications_paused": ("Rappels", lambda paused: "arrêtés" if paused else "actifs"),
        "unreachable_at": ("Messages impossibles à vous envoyer depuis le", _date),
        "created_at": ("Compte créé le", _date),
        "last_seen_at": ("Dernier message le", _date),
    },
    "conversation_states": {
        # Named by the feature that owns the state (see describe_user).
        "state": ("Où vous en êtes", str),
        "data": ("Détails de cette étape", lambda data: _state_details(data)),
        "updated_at": ("Étape enregistrée le", _date),
    },
    # One line per question the bot did not understand (kept for the gaps report).
    "faq_misses": {
        "asked_at": ("Question non comprise, le", _date),
        "question": ("Texte", lambda question: f"« {question} »"),
        "outcome": (
            "Ma réponse",
            lambda outcome: "des propositions" if outcome == "suggest" else "pas compris",
        ),
        "suggested": ("Propositions", lambda shown: shown or "aucune"),
    },
    # One line per question an FAQ entry answered, waiting for an admin to add it to the entry.
    "faq_candidates": {
        "proposed_at": ("Question reliée à une fiche, le", _date),
        "question": ("Texte", lambda question: f"« {question} »"),
        "entry_id": ("Fiche", str),
        "source": ("Reliée par", lambda source: _CANDIDATE_SOURCES.get(source, source)),
        "status": ("État", lambda status: _CANDIDATE_STATUS.get(status, status)),
    },
    # One line per request to talk to a person, then one per message of it.
    "tickets": {
        "opened_at": ("Demande à une personne, le", _date),
        "subject": ("Sujet", _text),
        "status": ("État", lambda status: _TICKET_STATUS.get(status, status)),
        "claimed_at": ("Prise en charge le", _date),
        "escalated_at": ("Rappelée à l'équipe le", _date),
        "closed_at": ("Terminée le", _date),
        "closed_by": ("Terminée", lambda who: _CLOSED_BY.get(who, "(non)") if who else "(non)"),
        "feedback": ("Votre avis", lambda verdict: _FEEDBACK.get(verdict, "(pas donné)")),
        "phone": ("Numéro pour vous rappeler", _text),
    },
    # One line per appointment, then its reminders.
    "appointments": {
        "starts_at": ("Rendez-vous le", _date_time),
        "ends_at": ("Fin", _date_time),
        "worker_id": ("Avec", str),
        "reason": ("Motif", str),
        "status": ("État", lambda status: _APPOINTMENT_STATUS.get(status, status)),
        "booked_at": ("Réservé le", _date),
        "confirmed_at": ("« Je serai là » le", _date),
        "cancelled_at": ("Annulé le", _date),
        "cancelled_by": ("Annulé", lambda who: _CANCELLED_BY.get(who, "(non)")),
    },
    "reminders": {
        "kind": ("Rappel", lambda kind: f"{kind.partition('@')[0]} avant"),
        "due_at": ("Prévu le", _date_time),
        "sent_at": ("Envoyé le", _date),
        "delivery_status": ("Reçu", lambda status: _DELIVERY.get(status, "(pas d'information)")),
        "status_at": ("Le", _date),
    },
    "ticket_messages": {
        "sent_at": ("Message du", _date),
        "author": ("De", lambda author: "vous" if author == "trainee" else "l'équipe"),
        "text": ("Texte", lambda text: f"« {text} »" if text else "(aucun)"),
        "attachment": ("Pièce jointe", lambda kind: _ATTACHMENTS.get(kind, kind) if kind else "aucune"),
    },
    # Module sessions you are enrolled in by name, and what you answered to their reminders.
    "enrolments": {"enrolled_at": ("Inscrit·e à une séance le", _date)},
    "session_answers": {
        "answer": ("Réponse à un rappel de séance", lambda answer: _ANSWERS.get(answer, answer)),
        "reason": ("Raison", _text),
        "answered_at": ("Le", _date),
    },
    # A message about you waiting to be sent (a few seconds, unless the application is unreachable).
    "outbox": {
        "created_at": ("Message en attente d'envoi, depuis le", _date),
        "payload": ("Contenu", lambda payload: _pending_text(payload)),
    },
    # The choices last shown to you with numbers (WhatsApp, when there are more than ten).
    "numbered_choices": {
        "buttons": (
            "Choix montrés avec un numéro",
            lambda buttons: " / ".join(title for _, title in buttons),
        ),
        "shown_at": ("Montrés le", _date),
    },
    # A message you sent that waits its turn (a few seconds); deleted once answered.
    "inbox": {
        "received_at": ("Message reçu, pas encore lu, le", _date),
        "payload": ("Contenu", lambda payload: _received_text(payload)),
    },
}
# Keys that only link rows together; they mean nothing to the person.
INTERNAL_COLUMNS = frozenset(
    {
        "users.id",
        "conversation_states.user_id",
        "faq_misses.id",
        "faq_misses.user_id",
        "faq_candidates.id",
        "faq_candidates.user_id",
        # The request it came from: only makes one candidate per request.
        "faq_candidates.ticket_id",
        "tickets.id",
        "tickets.trainee_id",
        # Which staff member took it, and where the staff were alerted: the staff's side, not the
        # trainee's data (the worker's first name is in the messages the trainee received).
        "tickets.claimed_by_id",
        "tickets.alert_ref",
        "ticket_messages.id",
        "ticket_messages.ticket_id",
        "ticket_messages.staff_id",
        "ticket_messages.attachment_ref",
        "outbox.id",
        "outbox.channel",
        "outbox.recipient",
        "outbox.not_before",
        "outbox.attempts",
        "outbox.leased_until",
        "outbox.user_id",
        "outbox.ticket_id",
        "inbox.id",
        "inbox.channel",
        "inbox.sender",
        "inbox.delivery_id",
        "inbox.leased_until",
        "inbox.attempts",
        "appointments.id",
        "appointments.trainee_id",
        "appointments.moved_from_id",
        "reminders.id",
        "reminders.user_id",
        "reminders.appointment_id",
        "reminders.session_id",
        # The platform's id of the message sent: only links its delivery statuses to the reminder.
        "reminders.platform_ref",
        "numbered_choices.user_id",
        "enrolments.user_id",
        "enrolments.session_id",
        "session_answers.user_id",
        "session_answers.session_id",
    }
)
PERSONAL_TABLES = frozenset(SHOWN_COLUMNS)
# Personal but not linked to a person: a message waits in the inbox before anyone knows who sent it
# (a newcomer's first message), and only until it is answered. Messages are answered in the order they
# came, so when /oublier is confirmed nothing older of the person is left there; what is newer was
# sent after the confirmation, and is answered as from someone new.
TRANSIENT_TABLES = frozenset({"inbox"})
# days_off: the social workers' schedule, not the trainees'.
NON_PERSONAL_TABLES = frozenset(
    {"alembic_version", "processed_deliveries", "job_runs", "days_off", "training_sessions"}
)


def _pending_text(payload: dict[str, Any]) -> str:
    texts_waiting = [reply.get("text", "") for reply in payload.get("replies", ())]
    return " / ".join(f"« {text[:80]} »" for text in texts_waiting if text) or "(fichier)"


def _received_text(payload: dict[str, Any]) -> str:
    """Return the text of a stored delivery (a Telegram update, a WhatsApp message), shortened."""
    message = payload.get("message") or (payload.get("callback_query") or {}).get("data")
    if isinstance(message, str):
        return "(bouton)"
    if isinstance(message, dict):
        text = message.get("text") or message.get("caption")
        if isinstance(text, dict):  # WhatsApp: {"body": ...}
            text = text.get("body")
        if isinstance(text, str) and text:
            return f"« {text[:80]} »"
    return "(message sans texte)"


def _state_details(data: dict[str, Any]) -> str:
    details = []
    if "miss" in data:
        details.append("une question attend votre choix parmi mes propositions")
    if "lang" in data:
        details.append(f"dernière question en {_LANGUAGE_NAMES.get(data['lang'], data['lang'])}")
    details += [f"{key} : {value}" for key, value in data.items() if key not in ("miss", "lang")]
    return ", ".join(details)


def describe_user(
    user: User, entry_label: Callable[[str], str] = str, state_label: Callable[[str], str] = str
) -> list[str]:
    """Return readable lines for every value stored about the user.

    entry_label turns an FAQ entry id into what the trainee saw (the button's text); state_label names
    a dialogue state as its feature does.
    """
    lines = []
    for table, row in (("users", user), ("conversation_states", user.conversation)):
        if row is None:
            continue
        for column, (label, show) in SHOWN_COLUMNS[table].items():
            value = getattr(row, column)
            if column == "data" and not value:
                continue
            lines.append(f"• {label} : {state_label(value) if column == 'state' else show(value)}")
    for ticket in sorted(user.tickets, key=lambda ticket: ticket.opened_at):
        lines.append("• " + " ; ".join(_row_parts("tickets", ticket)))
        for message in ticket.messages:
            lines.append("   – " + " ; ".join(_row_parts("ticket_messages", message)))
    for appointment in sorted(user.appointments, key=lambda appointment: appointment.starts_at):
        lines.append("• " + " ; ".join(_row_parts("appointments", appointment)))
        for reminder in _reminders_of(appointment):
            lines.append("   – " + " ; ".join(_row_parts("reminders", reminder)))
    for enrolment in _rows_of(user, Enrolment):
        lines.append("• " + " ; ".join(_row_parts("enrolments", enrolment)))
    for answer in _rows_of(user, SessionAnswer):
        lines.append("• " + " ; ".join(_row_parts("session_answers", answer)))
    for reminder in _rows_of(user, Reminder):
        if reminder.session_id is not None:
            lines.append("• " + " ; ".join(_row_parts("reminders", reminder)))
    for shown in _rows_of(user, NumberedChoice):
        lines.append("• " + " ; ".join(_row_parts("numbered_choices", shown)))
    for pending in _rows_of(user, OutboxMessage):
        lines.append("• " + " ; ".join(_row_parts("outbox", pending)))
    for waiting in _waiting_messages(user):
        lines.append("• " + " ; ".join(_row_parts("inbox", waiting)))
    for miss in sorted(user.faq_misses, key=lambda miss: miss.asked_at):
        parts = []
        for column, (label, show) in SHOWN_COLUMNS["faq_misses"].items():
            value = getattr(miss, column)
            if column == "suggested":
                value = " ".join(entry_label(entry_id) for entry_id in value.split())
            parts.append(f"{label} : {show(value)}")
        lines.append("• " + " ; ".join(parts))
    for candidate in sorted(user.faq_candidates, key=lambda candidate: candidate.proposed_at):
        parts = []
        for column, (label, show) in SHOWN_COLUMNS["faq_candidates"].items():
            value = getattr(candidate, column)
            parts.append(f"{label} : {entry_label(value) if column == 'entry_id' else show(value)}")
        lines.append("• " + " ; ".join(parts))
    return lines


def _row_parts(table: str, row: object) -> list[str]:
    return [
        f"{label} : {show(getattr(row, column))}" for column, (label, show) in SHOWN_COLUMNS[table].items()
    ]


def _reminders_of(appointment: Appointment) -> list[Reminder]:
    session = object_session(appointment)
    if session is None:
        return []
    return list(session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id)))


def _waiting_messages(user: User) -> list[InboxMessage]:
    """Return the person's messages still waiting, but the oldest: the one being answered now."""
    session = object_session(user)
    if session is None:
        return []
    rows = session.scalars(
        select(InboxMessage)
        .where(InboxMessage.channel == user.channel, InboxMessage.sender == user.external_id)
        .order_by(InboxMessage.id)
    )
    return list(rows)[1:]


def _rows_of(user: User, model: type[Any]) -> list[Any]:
    session = object_session(user)
    if session is None or user.id is None:
        return []
    return list(session.scalars(select(model).where(model.user_id == user.id)))


def show_my_data(turn: Turn) -> list[Reply]:
    """Show everything stored about the sender."""
    if turn.user is None:
        return [Reply(texts.MY_DATA_NONE)]
    retention = texts.retention_text(turn.services.settings.data_retention_days)
    base = turn.services.get(FAQ).base

    def entry_label(entry_id: str) -> str:
        entry = base.get(entry_id)
        return f"« {entry.button or entry.question} »" if entry else entry_id

    body = "\n".join([texts.MY_DATA_TITLE, *describe_user(turn.user, entry_label, turn.features.state_label)])
    miss_retention = texts.retention_text(turn.services.settings.faq_miss_retention_days)
    ticket_retention = texts.retention_text(turn.services.settings.ticket_retention_days)
    footer = texts.MY_DATA_FOOTER.format(
        retention=retention, miss_retention=miss_retention, ticket_retention=ticket_retention
    )
    return [Reply(body), Reply(footer, (MENU_BUTTON,))]


def forget_buttons() -> tuple[Button, ...]:
    """Return the confirmation buttons of /oublier."""
    return (
        FORGET.button("yes", texts.BUTTON_FORGET_YES),
        FORGET.button("no", texts.BUTTON_FORGET_NO),
    )


def ask_forget(turn: Turn) -> list[Reply]:
    """Ask for confirmation before erasing everything about the sender."""
    if turn.user is None:
        return [Reply(texts.MY_DATA_NONE)]
    if turn.is_staff:
        return [Reply(texts.FORGET_STAFF)]
    turn.set_state(CONFIRM_FORGET)
    return [Reply(texts.FORGET_CONFIRM, forget_buttons())]


def on_forget(turn: Turn, choice: str) -> list[Reply]:
    """Erase the sender after confirmation, or keep everything."""
    if turn.user is None:
        return [Reply(texts.MY_DATA_NONE)]
    if turn.state != CONFIRM_FORGET:
        return [Reply(texts.STALE_BUTTON), main_menu(turn)]
    if choice == "no":
        turn.set_state(IDLE)
        return [Reply(texts.FORGET_CANCELLED), main_menu(turn)]
    erase_user(turn.session, turn.user)
    turn.user = None
    turn.forgotten = True
    log.info("user erased on request")
    return [Reply(texts.FORGET_DONE), Reply(texts.FORGET_DONE_NEXT)]


def typed_forget_answer(text: str) -> str | None:
    """Return "yes" or "no" when a typed text answers the /oublier question, else None."""
    folded = fold(text)
    if folded in ("oui", "ouais", "yes", "ja", "oui effacer", "oui tout effacer"):
        return "yes"
    if folded in ("non", "no", "nee", "neen", "non garder"):
        return "no"
    return None


def erase_user(session: Session, user: User) -> None:
    """Delete the user; every personal row goes with it (ORM and database cascades)."""
    session.delete(user)
    session.flush()


def purge_inactive(session: Session, now: datetime, retention_days: int) -> int:
    """Erase trainees silent for longer than the retention period; return how many.

    One DELETE with the condition in it: a trainee whose message commits meanwhile is not erased.
    """
    cutoff = now - timedelta(days=retention_days)
    result = session.execute(
        delete(User)
        .where(User.role == Role.TRAINEE.value, User.last_seen_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.info("erased %d trainees inactive for %d days", count, retention_days)
    return count


def purge_old_misses(session: Session, now: datetime, retention_days: int) -> int:
    """Erase unanswered questions older than their retention period; return how many."""
    result = session.execute(
        delete(FaqMiss)
        .where(FaqMiss.asked_at < now - timedelta(days=retention_days))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def pause_notifications(turn: Turn) -> list[Reply]:
    """Handle /stop: no more pushed reminders."""
    if turn.user is None:
        return needs_account(turn)
    turn.user.notifications_paused = True
    return [Reply(texts.STOP_DONE, (MENU_BUTTON,))]


def resume_notifications(turn: Turn) -> list[Reply]:
    """Handle /reprendre: reminders again."""
    if turn.user is None:
        return needs_account(turn)
    turn.user.notifications_paused = False
    return [Reply(texts.RESUME_DONE, (MENU_BUTTON,))]


def read_forget_answer(turn: Turn) -> list[Reply]:
    """Read a typed answer to /oublier; anything else means the person moved on, and keeps everything."""
    answer = typed_forget_answer(turn.text)
    if answer is not None:
        return on_forget(turn, answer)
    turn.set_state(IDLE)
    return [Reply(texts.FORGET_CANCELLED), *turn.features.read_text(turn)]


def _purge_inactive(session: Session, services: Services, now: datetime) -> None:
    purge_inactive(session, now, services.settings.data_retention_days)


def _purge_old_misses(session: Session, services: Services, now: datetime) -> None:
    purge_old_misses(session, now, services.settings.faq_miss_retention_days)


def _command(step: Callable[[Turn], list[Reply]]) -> Command:
    """Return a command of this feature: all of them work before onboarding is finished."""
    return Command(lambda turn, _rest: step(turn), during_onboarding=True)


FEATURE = Feature(
    name="privacy",
    commands={
        "mesdonnees": _command(show_my_data),
        "oublier": _command(ask_forget),
        "stop": _command(pause_notifications),
        "reprendre": _command(resume_notifications),
    },
    buttons=[ButtonAction(FORGET, on_forget)],
    states={CONFIRM_FORGET: StateStep(read_forget_answer, "vous alliez tout effacer")},
    purges=[_purge_inactive, _purge_old_misses],
)
