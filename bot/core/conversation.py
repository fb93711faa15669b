"""The conversation core: one incoming message in, the replies out; state kept in the database."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.core.messages import IncomingMessage, Reply
from bot.core.payloads import Action, Payload, parse
from bot.core.text import clean_text
from bot.core.turn import Services, State, Turn
from bot.features import faq, menu, onboarding, privacy, staff
from bot.features.intents import Intent, detect_intent, strip_greeting
from bot.storage.db import unit_of_work
from bot.storage.models import User

log = logging.getLogger(__name__)

Step = Callable[[Turn], list[Reply]]

COMMANDS: dict[str, Step] = {
    "start": onboarding.start,
    "menu": menu.show_menu,
    "aide": menu.show_help,
    "help": menu.show_help,
    "mesdonnees": privacy.show_my_data,
    "oublier": privacy.ask_forget,
    "stop": privacy.pause_notifications,
    "reprendre": privacy.resume_notifications,
}
# Commands that work without an account; the others need the person to have gone through /start.
ANONYMOUS_COMMANDS = frozenset({"start", "aide", "help", "mesdonnees", "oublier", "stop", "reprendre"})
STAFF_COMMANDS = frozenset({"test", "recharger", "staff"})


class Conversation:
    """Route each message to the right step, inside one transaction per message."""

    def __init__(self, session_factory: sessionmaker[Session], services: Services) -> None:
        self._session_factory = session_factory
        self.services = services

    def handle(self, message: IncomingMessage) -> list[Reply]:
        """Return the replies to one message; never raise, never lose what was stored."""
        for attempt in (1, 2):
            try:
                return self._handle_once(message)
            except (IntegrityError, OperationalError):
                # Two messages of one newcomer racing to create the account, or a lock timeout:
                # the transaction was rolled back, so trying once more is safe.
                if attempt == 2:
                    log.exception("message not handled after a retry (%s)", message.channel)
            except Exception:
                log.exception("message not handled (%s)", message.channel)
                break
        return [Reply(texts.INTERNAL_ERROR)]

    def _handle_once(self, message: IncomingMessage) -> list[Reply]:
        with unit_of_work(self._session_factory) as session:
            user = session.scalars(
                select(User)
                .where(User.channel == message.channel, User.external_id == message.user_id)
                .with_for_update()
            ).one_or_none()
            now = self.services.clock.now()
            turn = Turn(message, clean_text(message.text), session, user, now, self.services)
            replies = self._route(turn)
            if turn.user is not None and not turn.forgotten:
                turn.user.last_seen_at = now
            return replies

    def _route(self, turn: Turn) -> list[Reply]:
        message = turn.message
        if message.button_id is not None:
            payload = parse(message.button_id)
            if payload is None:
                log.info("stale or forged button payload (%s)", message.channel)
                return [Reply(texts.STALE_BUTTON), *onboarding.resume(turn)]
            return self._on_button(turn, payload)
        if message.attachment and not turn.text:
            reply = texts.ATTACHMENT.get(message.attachment, texts.ATTACHMENT_OTHER)
            return [Reply(reply, (menu.PERSON_BUTTON, menu.MENU_BUTTON))]
        if not turn.text:
            return [Reply(texts.EMPTY_MESSAGE, (menu.MENU_BUTTON,))]
        if turn.text.startswith("/"):
            return self._on_command(turn)
        return self._on_text(turn)

    def _on_button(self, turn: Turn, payload: Payload) -> list[Reply]:
        argument = payload.argument
        if payload.action is Action.CONSENT:
            return onboarding.on_consent(turn, argument)
        if payload.action is Action.FAQ:
            return faq.show_entry(turn, argument)
        if payload.action is Action.GO and argument == "ask":
            return menu.ask_question(turn)
        if payload.action is Action.FORGET:
            return privacy.on_forget(turn, argument)
        if turn.user is None:
            return onboarding.welcome(turn)
        if payload.action is Action.GO:
            return self._go(turn, argument)
        if payload.action is Action.NAME:
            return onboarding.on_name_button(turn, argument)
        if payload.action is Action.FILIERE:
            return onboarding.on_filiere(turn, argument)
        return [Reply(texts.STALE_BUTTON), *onboarding.resume(turn)]

    def _go(self, turn: Turn, target: str) -> list[Reply]:
        if turn.state in (State.ASK_NAME, State.ASK_FILIERE):
            # Onboarding is two taps from done: finish it first.
            return onboarding.resume(turn)
        if target == "menu":
            return menu.show_menu(turn)
        if target == "help":
            return menu.show_help(turn)
        return menu.not_built_yet(turn, target)

    def _on_command(self, turn: Turn) -> list[Reply]:
        word, _, rest = turn.text[1:].partition(" ")
        # Telegram appends the bot's name in groups: /start@cisp_bot.
        name = word.split("@", 1)[0].casefold()
        if name in STAFF_COMMANDS:
            if not turn.is_staff:
                staff.refuse(turn, name)
                return [Reply(texts.UNKNOWN_COMMAND, (menu.MENU_BUTTON,))]
            if name == "test":
                return staff.test_question(turn, rest)
            if name == "recharger":
                return staff.reload_faq(turn)
            return [Reply(staff.STAFF_HELP)]
        step = COMMANDS.get(name)
        if step is None:
            return [Reply(texts.UNKNOWN_COMMAND, (menu.MENU_BUTTON,))]
        if turn.user is None and name not in ANONYMOUS_COMMANDS:
            return onboarding.welcome(turn)
        return step(turn)

    def _on_text(self, turn: Turn) -> list[Reply]:
        state = turn.state
        if state is State.ASK_NAME:
            return onboarding.receive_name(turn)
        if state is State.ASK_FILIERE:
            return onboarding.receive_filiere_text(turn)
        if state is State.CONFIRM_FORGET:
            return [Reply(texts.FORGET_PRESS_BUTTON, privacy.forget_buttons())]
        intent = detect_intent(turn.text)
        if intent is not None:
            return self._on_intent(turn, intent)
        return faq.answer_question(turn, strip_greeting(turn.text))

    def _on_intent(self, turn: Turn, intent: Intent) -> list[Reply]:
        if turn.user is None and intent in (Intent.GREETING, Intent.MENU):
            return onboarding.welcome(turn)
        if intent is Intent.GREETING:
            greeting = texts.GREETING_REPLY.format(name=turn.first_name).replace("  ", " ")
            turn.set_state(State.IDLE)
            return [Reply(greeting), menu.main_menu()]
        if intent is Intent.THANKS:
            return [Reply(texts.THANKS_REPLY, (menu.ASK_BUTTON, menu.MENU_BUTTON))]
        if intent is Intent.HELP:
            return menu.show_help(turn)
        if turn.user is None:
            return [Reply(texts.NEEDS_ACCOUNT)]
        if intent is Intent.MENU:
            return menu.show_menu(turn)
        target = {Intent.PERSON: "person", Intent.BOOK: "book", Intent.SESSIONS: "sessions"}[intent]
        return menu.not_built_yet(turn, target)
