"""What every step of a dialogue receives: the message, the person, the open session, the services."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from sqlalchemy import Table, bindparam, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot import texts
from bot.common.clock import Clock
from bot.config import Settings
from bot.core.messages import Button, IncomingMessage, Reply
from bot.storage.models import ConversationState, User

if TYPE_CHECKING:
    from bot.core.feature import Features

# The one state the core knows: nothing pending. Each feature names its own states.
IDLE = "idle"

T = TypeVar("T")

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


@dataclass(frozen=True, eq=False)
class Part(Generic[T]):
    """A long-lived part that steps use (the FAQ, the office hours), declared by the feature that owns it.

    A part with `build` is made from the services at its first use; one without is given by the
    composition root.
    """

    name: str
    build: Callable[[Services], T] | None = None


class Services:
    """The long-lived parts a step may use, built once by the composition root."""

    def __init__(
        self, settings: Settings, clock: Clock, parts: Mapping[Part[Any], object] | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._parts: dict[Part[Any], object] = dict(parts or {})
        self._building = threading.Lock()

    def get(self, part: Part[T]) -> T:
        """Return a part, building it at its first use."""
        if part in self._parts:
            return cast(T, self._parts[part])
        with self._building:
            if part not in self._parts:
                if part.build is None:
                    raise LookupError(f"the composition root did not give {part.name}")
                self._parts[part] = part.build(self)
            return cast(T, self._parts[part])


@dataclass
class Turn:
    """One incoming message being handled inside one database transaction."""

    message: IncomingMessage
    text: str
    session: Session
    user: User | None
    now: datetime
    services: Services
    features: Features
    forgotten: bool = field(default=False)

    @property
    def state(self) -> str | None:
        """Return the user's dialogue state, or None for someone the bot does not know."""
        if self.user is None:
            return None
        if self.user.conversation is None:
            return IDLE
        state = self.user.conversation.state
        # A state written by a newer or older version: start again from the menu.
        return state if self.features.knows_state(state) else IDLE

    def set_state(self, state: str, **data: Any) -> None:
        """Move the user to state, with optional data for the next step."""
        if self.user is None:
            return
        current = self.user.conversation
        if current is None:
            self.user.conversation = ConversationState(state=state, data=data, updated_at=self.now)
        elif current.state != state or current.data != data:
            # Unchanged, it is not written again: most messages leave the state as it was.
            # One cached UPDATE, at once: the ORM's flush of the same change would cost more than all the
            # other statements of the message. The object is told that it holds what is stored. Inside a
            # savepoint the ORM writes it, so that rolling back to the savepoint also restores the object.
            if inspect(current).persistent and not self.session.in_nested_transaction():
                self.session.execute(
                    _WRITE_STATE,
                    {
                        "row_user_id": current.user_id,
                        "new_state": state,
                        "new_data": data,
                        "new_at": self.now,
                    },
                )
                set_committed_value(current, "state", state)
                set_committed_value(current, "data", data)
                set_committed_value(current, "updated_at", self.now)
            else:
                current.state = state
                current.data = data
                current.updated_at = self.now

    @property
    def shown_buttons(self) -> tuple[Button, ...]:
        """Return the buttons of the bot's last message to this person (none if unknown)."""
        state = self.user.conversation if self.user is not None else None
        if state is None or not state.shown:
            return ()
        return tuple(Button(payload, title) for payload, title in state.shown)

    def remember_shown(self, replies: list[Reply]) -> None:
        """Keep the buttons of the last reply that has some: a typed number or title presses one."""
        state = self.user.conversation if self.user is not None and not self.forgotten else None
        if state is None:
            return
        buttons = next((reply.buttons for reply in reversed(replies) if reply.buttons), ())
        shown = [[button.id, button.title] for button in buttons] or None
        if state.shown != shown:
            state.shown = shown

    @property
    def onboarding(self) -> bool:
        """Say whether the user still has to give a first name or a filière."""
        return self.state in self.features.onboarding_states

    @property
    def first_name(self) -> str:
        """Return the user's first name, or an empty string."""
        return (self.user.first_name or "") if self.user else ""

    @property
    def display_name(self) -> str:
        """Return the name the staff see for the user ("Stagiaire" without a first name)."""
        return display_name(self.user)

    @property
    def is_staff(self) -> bool:
        """Say whether the sender is a registered staff member."""
        return self.user is not None and self.user.role_enum.is_staff


def display_name(user: User | None) -> str:
    """Return the name the staff see for a person ("Stagiaire" without a first name)."""
    return (user.first_name if user is not None else None) or texts.UNNAMED_TRAINEE
