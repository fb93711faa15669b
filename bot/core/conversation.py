"""The conversation core: one incoming message in, the replies out; state kept in the database."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Select, Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload, sessionmaker
from sqlalchemy.sql.expression import Executable

from bot import texts
from bot.common.text import clean_text, fold
from bot.core.feature import MENU_BUTTON, PERSON_BUTTON, Features, with_ways_out
from bot.core.messages import Button, IncomingMessage, Reply
from bot.core.outbox import PUSHED, Push, enqueue
from bot.core.payloads import GO, Payload
from bot.core.throttle import Throttle, Verdict
from bot.core.turn import Services, Turn
from bot.storage.db import unit_of_work
from bot.storage.models import ProcessedDelivery, Role, User

log = logging.getLogger(__name__)

# Key of Session.info: the answers leased for sending as soon as the transaction commits.
LEASED = "outbox_leased"
# Called in the transaction that handles a message (the inbox deletes the stored message there).
InTransaction = Callable[[Session], None]

# Retention counts in days: the last message's time needs no more precision than this, which spares an
# UPDATE on most messages.
LAST_SEEN_PRECISION = timedelta(hours=1)
# Platforms redeliver within minutes or hours; a week of memory is plenty.
DELIVERY_MEMORY = timedelta(days=7)
# How often expired data is erased while the bot runs (also once at start).
PURGE_INTERVAL = timedelta(hours=6)


# A number typed instead of a tap ("2"): one or two digits (a phone number is longer).
_TYPED_NUMBER = re.compile(r"\d{1,2}")


def _command_name(text: str) -> str:
    """Return the command of a text starting with "/" ("/Stats@cisp_bot now" -> "stats")."""
    word = text[1:].partition(" ")[0]
    # Telegram appends the bot's name in groups: /start@cisp_bot.
    return word.split("@", 1)[0].casefold()


@functools.cache
def _record_delivery(dialect: str) -> Executable:
    """Return the statement that records a delivery unless it is there: built once, executed often.

    One statement, and the database decides: of two handlers of the same delivery, racing in two
    processes, exactly one inserts the row. On the table, not the mapped class: the ORM's bulk-insert
    layer would double the statement's cost, for a row that is never loaded as an object.
    """
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    table = cast(Table, ProcessedDelivery.__table__)
    return (
        insert(table)
        .values(
            channel=bindparam("channel"),
            delivery_id=bindparam("delivery_id"),
            processed_at=bindparam("processed_at"),
        )
        .on_conflict_do_nothing()
        .returning(table.c.delivery_id)
    )


@functools.cache
def _load_user(dialect: str) -> Select[User]:
    """Return the statement that loads the sender (and locks them): built once, executed often."""
    query = select(User).where(
        User.channel == bindparam("channel"), User.external_id == bindparam("external_id")
    )
    if dialect == "sqlite":
        # The transaction holds SQLite's write lock: loading the state in the same query is safe.
        return query.options(joinedload(User.conversation))
    # Lock the person's row; the state is read after the lock is granted, so it is the latest (a joined
    # row would come from before the wait).
    return query.with_for_update()


class Conversation:
    """Route each message to the right step, inside one transaction per message."""

    def __init__(
        self, session_factory: sessionmaker[Session], services: Services, features: Features
    ) -> None:
        self._session_factory = session_factory
        self.services = services
        self.features = features
        # Called after a commit that wrote answers (leased for sending at once) or pushes to take.
        self.on_push: Callable[[Sequence[Push], bool], None] | None = None
        self._purge_lock = threading.Lock()
        self._next_purge: datetime | None = None
        self._throttle = Throttle(services.settings.throttle_messages_per_minute)

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """Return the factory of the sessions this conversation works in."""
        return self._session_factory

    def handle(self, message: IncomingMessage, *, in_transaction: InTransaction | None = None) -> list[Reply]:
        """Return the replies to one message; never raise, never lose what was stored.

        With in_transaction (the inbox's "delete this stored message"), the replies are also written
        to the outbox, and in_transaction is called, in the transaction that handles the message: the
        caller must not send them itself. An empty list means: say nothing (a redelivered update, or a
        flood already warned).
        """
        self.purge_expired_data()
        verdict = self._throttle.check(message.channel, message.user_id, self.services.clock.now())
        if verdict is Verdict.DROP:
            return self._answer_apart(message, [], in_transaction)
        if verdict is Verdict.WARN:
            log.info("throttled a %s user sending too fast", message.channel)
            return self._answer_apart(message, [Reply(texts.SLOW_DOWN)], in_transaction)
        for attempt in (1, 2):
            try:
                return self._handle_once(message, in_transaction)
            except (IntegrityError, OperationalError):
                # Two messages of one newcomer racing to create the account, or a lock timeout:
                # the transaction was rolled back, so trying once more is safe.
                if attempt == 2:
                    log.exception("message not handled after a retry (%s)", message.channel)
            except Exception:
                log.exception("message not handled (%s)", message.channel)
                break
        contact = self.services.settings.centre_contact
        failure = [Reply(texts.INTERNAL_ERROR.format(contact=contact), (MENU_BUTTON,))]
        return self._answer_apart(message, failure, in_transaction)

    def _answer_apart(
        self, message: IncomingMessage, replies: list[Reply], in_transaction: InTransaction | None
    ) -> list[Reply]:
        """Send replies decided without a turn (a flood, a failure): in their own transaction, if durable."""
        if in_transaction is None:
            return replies
        with unit_of_work(self._session_factory) as session:
            if replies:
                self._enqueue(session, message, replies, None)
            in_transaction(session)
        self._pushed(session)
        return replies

    def _enqueue(
        self, session: Session, message: IncomingMessage, replies: list[Reply], user_id: int | None
    ) -> None:
        """Write the answer to a message in the outbox, for the chat it came from."""
        recipient = message.chat_id or message.user_id
        now = self.services.clock.now()
        leased = enqueue(session, now, message.channel, recipient, replies, user_id=user_id, reply=True)
        if leased is not None:
            session.info.setdefault(LEASED, []).append(leased)

    def _pushed(self, session: Session) -> None:
        """After the commit: have the answers and pushes written sent (those leased, at once)."""
        leased, waiting = session.info.get(LEASED, ()), bool(session.info.get(PUSHED))
        if (leased or waiting) and self.on_push is not None:
            self.on_push(leased, waiting)

    def purge_expired_data(self) -> None:
        """Erase trainees past the retention period, at most once per PURGE_INTERVAL."""
        now = self.services.clock.now()
        if self._next_purge is not None and now < self._next_purge:
            return
        if not self._purge_lock.acquire(blocking=False):
            return
        try:
            with unit_of_work(self._session_factory) as session:
                for purge in self.features.purges:
                    purge(session, self.services, now)
                session.execute(
                    delete(ProcessedDelivery).where(ProcessedDelivery.processed_at < now - DELIVERY_MEMORY)
                )
            self._next_purge = now + PURGE_INTERVAL
            self._throttle.forget_idle(now)
        except Exception:
            log.exception("retention purge failed; trying again with the next message")
        finally:
            self._purge_lock.release()

    def _handle_once(self, message: IncomingMessage, in_transaction: InTransaction | None) -> list[Reply]:
        notice: str | None = None
        with unit_of_work(self._session_factory) as session:
            if message.delivery_id is not None and not self._first_delivery(session, message):
                log.info("delivery %s:%s already handled, skipped", message.channel, message.delivery_id)
                if in_transaction is not None:
                    in_transaction(session)
                return []
            query = _load_user(session.get_bind().dialect.name)
            user = session.scalars(
                query, {"channel": message.channel, "external_id": message.user_id}
            ).one_or_none()
            now = self.services.clock.now()
            if user is not None and user.unreachable_at is not None:
                user.unreachable_at = None  # they write: they can be reached again
            turn = Turn(message, clean_text(message.text), session, user, now, self.services, self.features)
            replies = self._route(turn)
            if message.chat_id is None:
                replies = self._with_ways_out(turn, replies)
                turn.remember_shown(replies)
            if (
                turn.user is not None
                and not turn.forgotten
                and now - turn.user.last_seen_at >= LAST_SEEN_PRECISION
            ):
                turn.user.last_seen_at = now
            admin_id = user.id if user is not None and user.role == Role.ADMIN.value else None
            if in_transaction is not None:
                if admin_id is not None:
                    notice = self._admin_notice(admin_id, mark_told=False)
                replies = [Reply(notice), *replies] if notice else replies
                if replies:
                    person = turn.user.id if turn.user is not None and not turn.forgotten else None
                    self._enqueue(session, message, replies, person)
                in_transaction(session)
        self._pushed(session)
        if in_transaction is not None:
            if notice and admin_id is not None:
                for notices in self.features.admin_notices:
                    notices(self.services).notice_told(admin_id)
            return replies
        # After the commit: a notice must not be counted as told for a message that was rolled back.
        notice = self._admin_notice(admin_id) if admin_id is not None else None
        return [Reply(notice), *replies] if notice else replies

    def _admin_notice(self, admin_id: int, *, mark_told: bool = True) -> str | None:
        """Return what an admin must be told before their answer (a broken FAQ file), if anything."""
        found = [
            notices(self.services).error_notice_for(admin_id, mark_told=mark_told)
            for notices in self.features.admin_notices
        ]
        return "\n\n".join(notice for notice in found if notice) or None

    def _first_delivery(self, session: Session, message: IncomingMessage) -> bool:
        """Record the delivery; say whether it is the first time (same transaction as the handling)."""
        assert message.delivery_id is not None
        values = {
            "channel": message.channel,
            "delivery_id": message.delivery_id,
            "processed_at": self.services.clock.now(),
        }
        inserted = session.execute(_record_delivery(session.get_bind().dialect.name), values).first()
        return inserted is not None

    def _route(self, turn: Turn) -> list[Reply]:
        message = turn.message
        if message.chat_id is not None:
            return self._in_staff_group(turn)
        if message.button_id is not None:
            payload = self.features.codec.parse(message.button_id)
            if payload is None:
                log.info("stale or forged button payload (%s)", message.channel)
                return [Reply(texts.STALE_BUTTON), *self.features.resume(turn)]
            return self._on_button(turn, payload)
        is_command = turn.text.startswith("/")
        state = self.features.states.get(turn.state or "")
        if state is not None and state.every_message and not is_command:
            replies = state.read(turn)
            if replies is not None:
                return replies  # else the state no longer holds (a request closed meanwhile)
        if message.attachment and not turn.text:
            reply = texts.ATTACHMENT.get(message.attachment, texts.ATTACHMENT_OTHER)
            return [Reply(reply, (PERSON_BUTTON, MENU_BUTTON))]
        if not turn.text:
            return [Reply(texts.EMPTY_MESSAGE, (MENU_BUTTON,))]
        if is_command:
            return self._on_command(turn)
        typed = self._typed_choice(turn)
        if typed is not None:
            return typed
        return self.features.read_text(turn)

    def _with_ways_out(self, turn: Turn, replies: list[Reply]) -> list[Reply]:
        """Let a trainee's every turn end with a way back to the menu and a way to a person.

        During onboarding (first name, formation) and while a person is being reached (a state that
        says so), only the menu; not to staff, nor after an erasure, nor before consent (its question
        has "Je refuse", which leads to what works without an account).
        """
        if not replies or turn.user is None or turn.is_staff or turn.forgotten:
            return replies
        last = replies[-1]
        ids = {button.id for button in last.buttons}
        menus = (self.features.menu_buttons(), self.features.menu_buttons(anonymous=True))
        if any(menu and {button.id for button in menu} <= ids for menu in menus):
            return replies  # the menu itself: every way is on it
        state = self.features.states.get(turn.state or "")
        if turn.onboarding and not last.buttons:
            return replies  # "Écrivez votre prénom": a question typed, not tapped
        person = not turn.onboarding and (state is None or state.person_button)
        buttons = with_ways_out(last.buttons, person=person)
        if buttons == last.buttons:
            return replies
        return [*replies[:-1], Reply(last.text, buttons, last.document)]

    def _typed_choice(self, turn: Turn) -> list[Reply] | None:
        """Press the button a typed number or title names; a number that names none shows them again."""
        shown = turn.shown_buttons
        if _TYPED_NUMBER.fullmatch(turn.text):
            number = int(turn.text)
            if 1 <= number <= len(shown):
                return self._press(turn, shown[number - 1])
            if not shown:
                return [Reply(texts.PRESS_A_BUTTON), *self.features.resume(turn)]
            return [Reply(texts.PRESS_A_BUTTON, shown)]
        typed = fold(turn.text)
        for button in shown:
            if typed and fold(button.title) == typed:
                return self._press(turn, button)
        return None

    def _press(self, turn: Turn, button: Button) -> list[Reply]:
        payload = self.features.codec.parse(button.id)
        if payload is None:  # shown by an older version of the bot
            return [Reply(texts.STALE_BUTTON), *self.features.resume(turn)]
        return self._on_button(turn, payload)

    def _in_staff_group(self, turn: Turn) -> list[Reply]:
        """Serve the staff group: staff commands, "Je prends", and replies to ticket alerts. Nothing else."""
        message = turn.message
        if turn.text.startswith("/"):
            # Only staff commands: a dialogue started here would be read by everyone.
            if _command_name(turn.text) not in self.features.staff_commands:
                return []
            return self._on_command(turn)  # refused and logged there for anyone but staff
        if not turn.is_staff:
            # A trainee in the staff group, pressing a staff button or replying to an alert.
            _refuse(turn, "group")
            return [Reply(texts.STAFF_ONLY)] if message.button_id else []
        if message.button_id is not None:
            payload = self.features.codec.parse(message.button_id)
            action = self.features.buttons.get(payload.kind.prefix) if payload is not None else None
            if payload is None or action is None or not action.in_staff_group:
                return []
            return action.step(turn, payload.argument)
        if message.reply_to is not None and self.features.group_reply is not None:
            return self.features.group_reply(turn, message.reply_to)
        return []

    def _on_button(self, turn: Turn, payload: Payload) -> list[Reply]:
        if payload.kind is GO:
            return self._go(turn, payload.argument)
        return self.features.buttons[payload.kind.prefix].step(turn, payload.argument)

    def _go(self, turn: Turn, name: str) -> list[Reply]:
        """Follow a navigation button."""
        target = self.features.go.get(name)
        if target is None:
            return [Reply(texts.STALE_BUTTON), *self.features.resume(turn)]
        if turn.onboarding and not target.during_onboarding:
            # Onboarding is a tap or two from done: finish it first.
            return [Reply(texts.ONBOARDING_FIRST), *self.features.resume(turn)]
        if target.staff and not turn.is_staff:
            _refuse(turn, name)
            return [Reply(texts.STALE_BUTTON), *self.features.go_to(turn, "menu")]
        return target.step(turn)

    def _on_command(self, turn: Turn) -> list[Reply]:
        name = _command_name(turn.text)
        rest = turn.text[1:].partition(" ")[2]
        command = self.features.commands.get(name)
        if command is None:
            return [Reply(texts.UNKNOWN_COMMAND, (MENU_BUTTON,))]
        if command.staff:
            if not turn.is_staff:
                _refuse(turn, name)
                return [Reply(texts.UNKNOWN_COMMAND, (MENU_BUTTON,))]
            return command.step(turn, rest)
        if turn.onboarding and not command.during_onboarding:
            return [Reply(texts.ONBOARDING_FIRST), *self.features.resume(turn)]
        return command.step(turn, rest)


def _refuse(turn: Turn, what: str) -> None:
    """Log a staff command or button tried by someone who is not staff."""
    user_ref = turn.user.id if turn.user else "anonymous"
    log.warning("staff command /%s refused for %s user %s", what, turn.message.channel, user_ref)
