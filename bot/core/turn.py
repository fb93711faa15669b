"""What every step of a dialogue receives: the message, the person, the open session, the services."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.messages import IncomingMessage
from bot.storage.models import ConversationState, User

if TYPE_CHECKING:
    from bot.features.booking import AvailabilityService
    from bot.features.faq import FaqService
    from bot.features.office_hours import OfficeHours


class State(StrEnum):
    """Named dialogue states, stored per user."""

    ASK_NAME = "ask_name"
    ASK_FILIERE = "ask_filiere"
    IDLE = "idle"
    ASKING = "asking"
    CONFIRM_FORGET = "confirm_forget"
    # Talking to a person: the trainee gives a subject, then writes to the ticket; the worker answers.
    HANDOFF_SUBJECT = "handoff_subject"
    IN_TICKET = "in_ticket"
    STAFF_TICKET = "staff_ticket"
    # Appointments: the trainee types the number to call back; the worker types a cancellation message.
    BOOK_PHONE = "book_phone"
    STAFF_CANCEL = "staff_cancel"
    # Module sessions: the trainee may say why they will be absent.
    SESSION_ABSENCE = "session_absence"


_STATES = cast(Table, ConversationState.__table__)
_WRITE_STATE = (
    update(_STATES)
    .where(_STATES.c.user_id == bindparam("row_user_id"))
    .values(
        state=bindparam("new_state"),
        data=bindparam("new_data", type_=_STATES.c.data.type),
        updated_at=bindparam("new_at", type_=_STATES.c.updated_at.type),
    )
)


@dataclass(frozen=True)
class Services:
    """The long-lived parts a step may use, built once by the composition root."""

    settings: Settings
    faq: FaqService
    clock: Clock

    @functools.cached_property
    def office_hours(self) -> OfficeHours | None:
        """Return the centre's office hours (holidays and closures included), or None when unset."""
        from bot.features.office_hours import office_hours_from_settings

        return office_hours_from_settings(self.settings)

    @functools.cached_property
    def availability(self) -> AvailabilityService:
        """Return the social workers' availability (the file, reloaded when it changes)."""
        from bot.features.booking import AvailabilityService

        return AvailabilityService(self.settings.availability_file)


@dataclass
class Turn:
    """One incoming message being handled inside one database transaction."""

    message: IncomingMessage
    text: str
    session: Session
    user: User | None
    now: datetime
    services: Services
    forgotten: bool = field(default=False)

    @property
    def state(self) -> State | None:
        """Return the user's dialogue state, or None for someone the bot does not know."""
        if self.user is None:
            return None
        if self.user.conversation is None:
            return State.IDLE
        try:
            return State(self.user.conversation.state)
        except ValueError:
            # A state written by a newer or older version: start again from the menu.
            return State.IDLE

    def set_state(self, state: State, **data: Any) -> None:
        """Move the user to state, with optional data for the next step."""
        if self.user is None:
            return
        current = self.user.conversation
        if current is None:
            self.user.conversation = ConversationState(state=state.value, data=data, updated_at=self.now)
        elif current.state != state.value or current.data != data:
            # Unchanged, it is not written again: most messages leave the state as it was.
            # One cached UPDATE, at once: the ORM's flush of the same change would cost more than all the
            # other statements of the message. The object is told that it holds what is stored. Inside a
            # savepoint the ORM writes it, so that rolling back to the savepoint also restores the object.
            if inspect(current).persistent and not self.session.in_nested_transaction():
                self.session.execute(
                    _WRITE_STATE,
                    {
                        "row_user_id": current.user_id,
                        "new_state": state.value,
                        "new_data": data,
                        "new_at": self.now,
                    },
                )
                set_committed_value(current, "state", state.value)
                set_committed_value(current, "data", data)
                set_committed_value(current, "updated_at", self.now)
            else:
                current.state = state.value
                current.data = data
                current.updated_at = self.now

    @property
    def onboarding(self) -> bool:
        """Say whether the user still has to give a first name or a filière."""
        return self.state in (State.ASK_NAME, State.ASK_FILIERE)

    @property
    def first_name(self) -> str:
        """Return the user's first name, or an empty string."""
        return (self.user.first_name or "") if self.user else ""

    @property
    def is_staff(self) -> bool:
        """Say whether the sender is a registered staff member."""
        return self.user is not None and self.user.role_enum.is_staff
