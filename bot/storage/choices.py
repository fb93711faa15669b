"""The choices last shown to a person as numbered text: in the database, so that any process reads them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.db import runs_inline, transaction
from bot.storage.models import ConversationState, NumberedChoice, User

_CHOICES = cast(Table, NumberedChoice.__table__)
_USERS = cast(Table, User.__table__)
_STATES = cast(Table, ConversationState.__table__)


def _person(channel: str, external_id: str) -> Select[tuple[int]]:
    """Return the query of a person's id on a channel."""
    return select(_USERS.c.id).where(_USERS.c.channel == channel, _USERS.c.external_id == external_id)


class NumberedChoices:
    """Remember, per person, the (payload, title) of the choices shown with numbers; recall them."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        # Database calls run on the event loop on SQLite, in threads on PostgreSQL (runs_inline).
        self.inline = runs_inline(session_factory)

    def remember(
        self, channel: str, external_id: str, choices: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        """Keep the choices just shown (none: forget the last ones). Someone without an account: nothing."""
        with transaction(self._factory) as connection:
            user_id = connection.scalar(_person(channel, external_id))
            if user_id is None:
                return
            connection.execute(delete(_CHOICES).where(_CHOICES.c.user_id == user_id))
            if choices:
                buttons = [[payload, title] for payload, title in choices]
                connection.execute(insert(_CHOICES).values(user_id=user_id, buttons=buttons, shown_at=now))

    def forget_shown(self, channel: str, external_id: str) -> None:
        """Forget every button last shown to a person: a message just went without them (a template)."""
        with transaction(self._factory) as connection:
            user_id = connection.scalar(_person(channel, external_id))
            if user_id is None:
                return
            connection.execute(delete(_CHOICES).where(_CHOICES.c.user_id == user_id))
            connection.execute(update(_STATES).where(_STATES.c.user_id == user_id).values(shown=None))

    def recall(self, channel: str, external_id: str) -> list[tuple[str, str]]:
        """Return the choices last shown to a person with numbers, in order; none when there are none."""
        query = (
            select(_CHOICES.c.buttons)
            .join(_USERS, _USERS.c.id == _CHOICES.c.user_id)
            .where(_USERS.c.channel == channel, _USERS.c.external_id == external_id)
        )
        with self._factory() as session:
            buttons = session.execute(query).scalar_one_or_none()
        return [(str(payload), str(title)) for payload, title in buttons or ()]
