"""What the bot keeps about a person: /mesdonnees shows all of it, /oublier erases all of it.

Every table is declared below as personal (with how to show and erase it) or as holding nothing about
anyone; a test fails when a new table is in neither list, so these two commands stay true.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.core.clock import local_date_text
from bot.core.messages import Button, Reply
from bot.core.payloads import Action, pack
from bot.core.turn import State, Turn
from bot.features.menu import MENU_BUTTON, main_menu
from bot.storage.models import User

log = logging.getLogger(__name__)

# Tables holding data about a person; each is shown by describe_user and erased by erase_user.
PERSONAL_TABLES = frozenset({"users", "conversation_states"})
# Tables holding nothing about anyone.
NON_PERSONAL_TABLES = frozenset({"alembic_version"})

_STATE_LABELS = {
    State.ASK_NAME: "vous alliez me donner votre prénom",
    State.ASK_FILIERE: "vous alliez choisir votre filière",
    State.IDLE: "menu principal",
    State.ASKING: "vous alliez poser une question",
    State.CONFIRM_FORGET: "vous alliez tout effacer",
}


def describe_user(user: User, state: State | None) -> list[str]:
    """Return one readable line per thing stored about the user."""
    lines = [
        f"• Prénom : {user.first_name or '(pas encore donné)'}",
        f"• Filière : {user.filiere or '(pas donnée)'}",
        f"• Application : {user.channel} (numéro de compte : {user.external_id})",
        f"• Accord donné le : {local_date_text(user.consented_at) if user.consented_at else '(non)'}",
        f"• Rappels : {'arrêtés' if user.notifications_paused else 'actifs'}",
        f"• Premier message : {local_date_text(user.created_at)}",
        f"• Dernier message : {local_date_text(user.last_seen_at)}",
    ]
    if state is not None:
        lines.append(f"• Où vous en êtes : {_STATE_LABELS.get(state, state.value)}")
    return lines


def show_my_data(turn: Turn) -> list[Reply]:
    """Show everything stored about the sender."""
    if turn.user is None:
        return [Reply(texts.MY_DATA_NONE)]
    retention = texts.retention_text(turn.services.settings.data_retention_days)
    body = "\n".join([texts.MY_DATA_TITLE, *describe_user(turn.user, turn.state)])
    return [Reply(body), Reply(texts.MY_DATA_FOOTER.format(retention=retention), (MENU_BUTTON,))]


def forget_buttons() -> tuple[Button, ...]:
    """Return the confirmation buttons of /oublier."""
    return (
        Button(pack(Action.FORGET, "yes"), texts.BUTTON_FORGET_YES),
        Button(pack(Action.FORGET, "no"), texts.BUTTON_FORGET_NO),
    )


def ask_forget(turn: Turn) -> list[Reply]:
    """Ask for confirmation before erasing everything about the sender."""
    if turn.user is None:
        return [Reply(texts.MY_DATA_NONE)]
    if turn.is_staff:
        return [Reply(texts.FORGET_STAFF)]
    turn.set_state(State.CONFIRM_FORGET)
    return [Reply(texts.FORGET_CONFIRM, forget_buttons())]


def on_forget(turn: Turn, choice: str) -> list[Reply]:
    """Erase the sender after confirmation, or keep everything."""
    if turn.user is None:
        return [Reply(texts.MY_DATA_NONE)]
    if turn.state is not State.CONFIRM_FORGET:
        return [Reply(texts.STALE_BUTTON), main_menu()]
    if choice == "no":
        turn.set_state(State.IDLE)
        return [Reply(texts.FORGET_CANCELLED), main_menu()]
    erase_user(turn.session, turn.user)
    turn.user = None
    turn.forgotten = True
    log.info("user erased on request")
    return [Reply(texts.FORGET_DONE), Reply(texts.FORGET_DONE_NEXT)]


def erase_user(session: Session, user: User) -> None:
    """Delete every row about the user (the conversation state goes with it by cascade)."""
    session.delete(user)
    session.flush()


def purge_inactive(session: Session, now: datetime, retention_days: int) -> int:
    """Erase trainees silent for longer than the retention period; return how many."""
    cutoff = now - timedelta(days=retention_days)
    stale = session.scalars(select(User).where(User.role == "trainee", User.last_seen_at < cutoff)).all()
    for user in stale:
        erase_user(session, user)
    if stale:
        log.info("erased %d trainees inactive for %d days", len(stale), retention_days)
    return len(stale)


def pause_notifications(turn: Turn) -> list[Reply]:
    """Handle /stop: no more pushed reminders."""
    if turn.user is None:
        return [Reply(texts.NEEDS_ACCOUNT)]
    turn.user.notifications_paused = True
    return [Reply(texts.STOP_DONE, (MENU_BUTTON,))]


def resume_notifications(turn: Turn) -> list[Reply]:
    """Handle /reprendre: reminders again."""
    if turn.user is None:
        return [Reply(texts.NEEDS_ACCOUNT)]
    turn.user.notifications_paused = False
    return [Reply(texts.RESUME_DONE, (MENU_BUTTON,))]
