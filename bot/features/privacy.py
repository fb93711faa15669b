"""What the bot keeps about a person: /mesdonnees shows all of it, /oublier erases all of it.

Each feature declares the tables it keeps about people (`bot.core.personal.PersonalTable`: a label for
each column, the columns that only link rows) and describes what it keeps about the person asking; this
feature gathers them: a short summary, then the whole as a file. It declares the tables that belong to no
feature (the account, the dialogue's step, messages in transit). Personal tables reference users.id with
ON DELETE CASCADE, so erasing the user erases them. Tests fail on a table or column nobody declared, and
on a missing cascade.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, object_session

from bot import texts
from bot.common.text import fold
from bot.core.feature import MENU_BUTTON, PERSON_BUTTON, ButtonAction, Command, Feature, StateStep
from bot.core.messages import Button, Document, Reply
from bot.core.payloads import ButtonKind
from bot.core.personal import DataSection, PersonalTable, show_date, show_date_time, show_named, show_text
from bot.core.turn import IDLE, Services, Turn
from bot.features.menu import main_menu, needs_account
from bot.storage.models import (
    FaqMiss,
    InboxMessage,
    NumberedChoice,
    OutboxMessage,
    Role,
    User,
)

log = logging.getLogger(__name__)

_LANGUAGE_NAMES = {"fr": "français", "nl": "néerlandais", "en": "anglais"}
_ROLE_LABELS = {
    "trainee": "stagiaire",
    "social_worker": "assistant social ou assistante sociale",
    "admin": "admin",
}
# The person asked /oublier: the next answer confirms or not.
CONFIRM_FORGET = "confirm_forget"
FORGET = ButtonKind("forget", "yes|no")
_DELIVERY = {"sent": "envoyé", "delivered": "arrivé sur le téléphone", "read": "lu", "failed": "pas arrivé"}
EXPORT_FILENAME = "mes-donnees.txt"
# A phone screen: each message of the summary stays under it.
MAX_MESSAGE_CHARS = 350


def _language(code: object) -> str:
    return _LANGUAGE_NAMES.get(str(code), "français")


USERS = PersonalTable(
    "users",
    {
        "first_name": ("Prénom", show_text),
        "filiere": ("Formation", show_text),
        "language": ("Langue des réponses", _language),
        "channel": ("Application", show_named(texts.CHANNEL_NAMES)),
        "external_id": ("Numéro de compte dans l'application", str),
        "role": ("Rôle", show_named(_ROLE_LABELS)),
        "consented_at": ("Accord donné le", show_date),
        "consent_version": ("Version du texte d'accord", lambda version: str(version or "-")),
        "notifications_paused": ("Rappels", lambda paused: "arrêtés" if paused else "actifs"),
        "unreachable_at": ("Messages impossibles à vous envoyer depuis le", show_date),
        "created_at": ("Compte créé le", show_date),
        "last_seen_at": ("Dernier message le", show_date),
    },
    internal=frozenset({"id"}),
)
CONVERSATION_STATES = PersonalTable(
    "conversation_states",
    {
        # Named by the feature that owns the state (Features.state_label).
        "state": ("Où vous en êtes", str),
        "data": ("Détails de cette étape", lambda data: _state_details(data)),
        "updated_at": ("Étape enregistrée le", show_date),
        "shown": ("Derniers boutons montrés", lambda shown: " / ".join(title for _, title in shown)),
    },
    internal=frozenset({"user_id"}),
)
# A message about you waiting to be sent (a few seconds, unless the application is unreachable).
OUTBOX = PersonalTable(
    "outbox",
    {
        "created_at": ("Message en attente d'envoi, depuis le", show_date),
        "payload": ("Contenu", lambda payload: _pending_text(payload)),
    },
    internal=frozenset(
        {"id", "channel", "recipient", "not_before", "attempts", "leased_until", "user_id", "ticket_id"}
    ),
)
# The choices last shown to you with numbers (WhatsApp, when there are more than ten).
NUMBERED_CHOICES = PersonalTable(
    "numbered_choices",
    {
        "buttons": (
            "Choix montrés avec un numéro",
            lambda buttons: " / ".join(title for _, title in buttons),
        ),
        "shown_at": ("Montrés le", show_date),
    },
    internal=frozenset({"user_id"}),
)
# Personal but not linked to a person: a message waits in the inbox before anyone knows who sent it
# (a newcomer's first message), and only until it is answered. Messages are answered in the order they
# came, so when /oublier is confirmed nothing older of the person is left there; what is newer was
# sent after the confirmation, and is answered as from someone new.
INBOX = PersonalTable(
    "inbox",
    {
        "received_at": ("Message reçu, pas encore lu, le", show_date),
        "payload": ("Contenu", lambda payload: _received_text(payload)),
    },
    internal=frozenset({"id", "channel", "sender", "delivery_id", "leased_until", "attempts"}),
    linked=False,
)


def _pending_text(payload: dict[str, Any]) -> str:
    texts_waiting = [reply.get("text", "") for reply in payload.get("replies", ())]
    return " / ".join(f"« {text} »" for text in texts_waiting if text) or "(fichier)"


def _received_text(payload: dict[str, Any]) -> str:
    """Return the text of a stored delivery (a Telegram update, a WhatsApp message)."""
    message = payload.get("message") or (payload.get("callback_query") or {}).get("data")
    if isinstance(message, str):
        return "(bouton)"
    if isinstance(message, dict):
        text = message.get("text") or message.get("caption")
        if isinstance(text, dict):  # WhatsApp: {"body": ...}
            text = text.get("body")
        if isinstance(text, str) and text:
            return f"« {text} »"
    return "(message sans texte)"


def _state_details(data: dict[str, Any]) -> str:
    details = []
    if "miss" in data:
        details.append("une question attend votre choix parmi mes propositions")
    if "lang" in data:
        details.append(f"dernière question en {_language(data['lang'])}")
    details += [f"{key} : {value}" for key, value in data.items() if key not in ("miss", "lang")]
    return ", ".join(details)


def describe_account(turn: Turn) -> DataSection | None:
    """Return the account, the step of the dialogue and the messages in transit of the turn's person."""
    user = turn.user
    if user is None:
        return None
    lines = USERS.block(user)
    state = user.conversation
    if state is not None:
        label = turn.features.state_label(state.state)
        lines += CONVERSATION_STATES.block(state, state=label, data=_state_details(state.data) or None)
    for choice in _rows_of(user, NumberedChoice):
        lines += NUMBERED_CHOICES.block(choice)
    for pending in _rows_of(user, OutboxMessage):
        lines += OUTBOX.block(pending)
    for waiting in _waiting_messages(user):
        lines += INBOX.block(waiting)
    summary = texts.MY_DATA_ACCOUNT.format(
        name=user.first_name or texts.MY_DATA_NO_NAME,
        filiere=user.filiere or texts.MY_DATA_NO_FILIERE,
        language=_language(user.language),
        channel=texts.CHANNEL_NAMES.get(user.channel, user.channel),
    )
    return DataSection(summary, texts.MY_DATA_ACCOUNT_TITLE, lines)


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
    """Show what is kept about the sender: a short summary, the retention, and the whole as a file."""
    if turn.user is None:
        return [Reply(texts.MY_DATA_NONE)]
    sections = turn.features.describe_person(turn)
    settings = turn.services.settings
    footer = texts.MY_DATA_FOOTER.format(
        retention=texts.retention_text(settings.data_retention_days),
        miss_retention=texts.retention_text(settings.faq_miss_retention_days),
        ticket_retention=texts.retention_text(settings.ticket_retention_days),
    )
    export = Document(EXPORT_FILENAME, export_text(turn, sections, footer).encode(), "text/plain")
    return [
        *(Reply(text) for text in summary_messages(sections)),
        Reply(footer),
        Reply(texts.MY_DATA_FILE.format(filename=EXPORT_FILENAME), (MENU_BUTTON, PERSON_BUTTON), export),
    ]


def summary_messages(sections: list[DataSection], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Return the summary lines as few messages as fit a phone screen each (the title first)."""
    messages = [texts.MY_DATA_TITLE]
    for section in sections:
        line = f"• {section.summary}"
        if len(messages[-1]) + 1 + len(line) > limit:
            messages.append(line)
        else:
            messages[-1] += "\n" + line
    return messages


def export_text(turn: Turn, sections: list[DataSection], footer: str) -> str:
    """Return the complete export: every value kept, whole, under each feature's heading."""
    now = turn.services.clock.now()
    heading = texts.MY_DATA_EXPORT_TITLE.format(
        centre=turn.services.settings.centre_name, when=show_date_time(now)
    )
    parts = [heading]
    for section in sections:
        parts.append("\n".join([section.title, *section.lines]))
    parts.append(texts.MY_DATA_EXPORT_END + " " + footer)
    return "\n\n".join(parts) + "\n"


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
    warnings = [
        warning
        for erasure in turn.features.erasures
        if erasure.warning and (warning := erasure.warning(turn))
    ]
    return [Reply(" ".join([texts.FORGET_CONFIRM, *warnings]), forget_buttons())]


def on_forget(turn: Turn, choice: str) -> list[Reply]:
    """Erase the sender after confirmation, or keep everything."""
    if turn.user is None:
        return [Reply(texts.MY_DATA_NONE)]
    if turn.state != CONFIRM_FORGET:
        return [Reply(texts.STALE_BUTTON), main_menu(turn)]
    if choice == "no":
        turn.set_state(IDLE)
        return [Reply(texts.FORGET_CANCELLED), main_menu(turn)]
    for erasure in turn.features.erasures:
        if erasure.before is not None:
            erasure.before(turn)
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
    personal_tables=[USERS, CONVERSATION_STATES, NUMBERED_CHOICES, OUTBOX, INBOX],
    # The migrations' own record, the deliveries already handled (by the platform's id), the periodic
    # jobs' last runs.
    other_tables=frozenset({"alembic_version", "processed_deliveries", "job_runs"}),
    describe_data=describe_account,
)
