"""What a feature declares, and the table the conversation dispatches on.

Each feature module exports one `Feature`: its commands, its button kinds with their steps, its
dialogue states with the step that reads a message in each, its navigation targets and menu entries,
the intents it serves, its periodic jobs and its purges. The composition root gives the list to
`Features`, which checks that no two features claim the same name and builds the tables
`Conversation` dispatches on. The core knows no feature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from bot import texts
from bot.core.messages import Button, Reply
from bot.core.payloads import GO, ButtonKind, Codec, go_button
from bot.core.personal import DataDescriber, DataSection, PersonalTable
from bot.core.turn import IDLE, Services, Turn

# The navigation targets the core relies on: every turn can lead back to the menu and to a person.
MENU = "menu"
PERSON = "person"
REQUIRED_TARGETS = (MENU, PERSON)
MENU_BUTTON = go_button(MENU, texts.BUTTON_MENU)
PERSON_BUTTON = go_button(PERSON, texts.BUTTON_PERSON)


def with_ways_out(buttons: Sequence[Button], *, person: bool = True) -> tuple[Button, ...]:
    """Return buttons with a person (unless told not to) and the menu among them, last."""
    ways = {PERSON_BUTTON.id, MENU_BUTTON.id}
    person = person or any(button.id == PERSON_BUTTON.id for button in buttons)
    others = tuple(button for button in buttons if button.id not in ways)
    return (*others, *((PERSON_BUTTON,) if person else ()), MENU_BUTTON)


Step = Callable[[Turn], list[Reply]]
# A step given the rest of a command line or the argument of a button.
ArgumentStep = Callable[[Turn, str], list[Reply]]
# A state's step may give the message back (None): it is then answered as if no state held it.
StateReader = Callable[[Turn], list[Reply] | None]


class AdminNotices(Protocol):
    """What admins must be told at their next message (a broken FAQ file), once each."""

    def error_notice_for(self, admin_id: int, *, mark_told: bool = True) -> str | None:
        """Return the notice this admin has not been told yet, or None; mark it told unless asked not to."""
        ...

    def notice_told(self, admin_id: int) -> None:
        """Record that this admin was told the current notice."""
        ...


# Work in one transaction at a given time: a periodic job, or the erasure of expired data.
Job = Callable[[Session, Services, datetime], object]


@dataclass(frozen=True)
class Command:
    """A slash command: the step gets the rest of the line."""

    step: ArgumentStep
    # For registered staff only; the only commands served in the staff group.
    staff: bool = False
    # Allowed before the person has finished introducing themselves (looking at their data, help).
    during_onboarding: bool = False


@dataclass(frozen=True)
class ButtonAction:
    """A kind of button and the step a press of it runs (the step checks that it fits the state)."""

    kind: ButtonKind
    step: ArgumentStep
    # Also pressed by staff in the staff group (a ticket alert's "Je prends").
    in_staff_group: bool = False


@dataclass(frozen=True)
class StateStep:
    """How a message is read in a dialogue state, and how /mesdonnees names the state."""

    read: StateReader
    label: str
    # Attachments and empty messages go to the step too (not only text); commands never do.
    every_message: bool = False
    # A state of onboarding: only commands allowed during onboarding are served, navigation waits.
    onboarding: bool = False
    # Offer "Parler à quelqu'un" with the answers in this state (not while a person is being reached).
    person_button: bool = True


@dataclass(frozen=True)
class GoTarget:
    """Where a navigation button leads."""

    step: Step
    # Served during onboarding too (the others first finish it).
    during_onboarding: bool = False
    # For registered staff only.
    staff: bool = False


@dataclass(frozen=True)
class MenuEntry:
    """A button of the main menu: a navigation target, its title, its place."""

    target: str
    title: str
    order: int
    # Offered to someone who has introduced themselves, and to someone who has not (what works without
    # an account).
    known: bool = True
    anonymous: bool = False


@dataclass(frozen=True)
class Erasure:
    """What a feature does when a person asks /oublier."""

    # A sentence for the confirmation question when erasing changes something for the person ("your
    # appointment of Tuesday is cancelled"), else None.
    warning: Callable[[Turn], str | None] | None = None
    # Run in the erasing transaction, before the person's rows go: tell the people concerned.
    before: Callable[[Turn], None] | None = None


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds to the conversation."""

    name: str
    commands: Mapping[str, Command] = field(default_factory=dict)
    buttons: Sequence[ButtonAction] = ()
    states: Mapping[str, StateStep] = field(default_factory=dict)
    go: Mapping[str, GoTarget] = field(default_factory=dict)
    menu: Sequence[MenuEntry] = ()
    # Intent name -> the step that serves it (the intents are recognised by the understanding).
    intents: Mapping[str, Step] = field(default_factory=dict)
    jobs: Mapping[str, Job] = field(default_factory=dict)
    # Erase what this feature keeps past its retention period (run at start and every few hours).
    purges: Sequence[Job] = ()
    # A staff member's answer in the staff group to one of the bot's messages (given its reference).
    group_reply: ArgumentStep | None = None
    # Free text no state claims: the one feature that reads it (the FAQ and the intents).
    free_text: Step | None = None
    # What admins must be told at their next message.
    admin_notices: Callable[[Services], AdminNotices] | None = None
    # Show the step the person is at (after a stale button): the one feature that knows (onboarding).
    resume: Step | None = None
    # The tables this feature keeps about people, and those it keeps that hold nothing about a person.
    personal_tables: Sequence[PersonalTable] = ()
    other_tables: frozenset[str] = frozenset()
    # What it keeps about the person of a turn, for /mesdonnees.
    describe_data: DataDescriber | None = None
    # What erasing a person means for this feature.
    erasure: Erasure | None = None


V = TypeVar("V")


def _claim(owners: dict[str, str], name: str, feature: str, what: str) -> None:
    """Record that a feature declares a name; refuse a name two features declare."""
    if name in owners:
        raise ValueError(f"{what} {name!r} declared by both {owners[name]} and {feature}")
    owners[name] = feature


def _merge(
    target: dict[str, V], declared: Mapping[str, V], feature: str, what: str, owners: dict[str, str]
) -> None:
    """Add one feature's declarations to a table."""
    for name, value in declared.items():
        _claim(owners, name, feature, what)
        target[name] = value


class Features:
    """The features of one bot, merged into the tables the conversation dispatches on."""

    def __init__(self, features: Iterable[Feature]) -> None:
        self.all = tuple(features)
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, ButtonAction] = {}
        self.states: dict[str, StateStep] = {}
        self.go: dict[str, GoTarget] = {}
        self.intents: dict[str, Step] = {}
        self.jobs: dict[str, Job] = {}
        self.purges: list[Job] = []
        self.admin_notices: list[Callable[[Services], AdminNotices]] = []
        self.group_reply: ArgumentStep | None = None
        self.free_text: Step | None = None
        self.resume_step: Step | None = None
        self.personal_tables: dict[str, PersonalTable] = {}
        self.other_tables: set[str] = set()
        self._describers: list[DataDescriber] = []
        self.erasures: list[Erasure] = []
        self._merge()
        self.codec = Codec([GO, *(action.kind for action in self.buttons.values())])
        self.staff_commands = frozenset(name for name, command in self.commands.items() if command.staff)
        self.onboarding_states = frozenset(name for name, state in self.states.items() if state.onboarding)
        entries = sorted((entry for feature in self.all for entry in feature.menu), key=lambda e: e.order)
        for entry in entries:
            if entry.target not in self.go:
                raise ValueError(f"menu entry {entry.title!r} leads to no target ({entry.target!r})")
        self._menu = tuple(go_button(entry.target, entry.title) for entry in entries if entry.known)
        self._anonymous_menu = tuple(
            go_button(entry.target, entry.title) for entry in entries if entry.anonymous
        )

    def _merge(self) -> None:
        owners: dict[str, dict[str, str]] = {
            what: {} for what in ("command", "state", "target", "intent", "job", "reader", "table")
        }
        prefixes = {GO.prefix: "the core"}
        for feature in self.all:
            name = feature.name
            _merge(self.commands, feature.commands, name, "command", owners["command"])
            _merge(self.states, feature.states, name, "state", owners["state"])
            _merge(self.go, feature.go, name, "navigation target", owners["target"])
            _merge(self.intents, feature.intents, name, "intent", owners["intent"])
            _merge(self.jobs, feature.jobs, name, "job", owners["job"])
            for action in feature.buttons:
                _claim(prefixes, action.kind.prefix, name, "button prefix")
                self.buttons[action.kind.prefix] = action
            self.purges.extend(feature.purges)
            tables = {table.name: table for table in feature.personal_tables}
            _merge(self.personal_tables, tables, name, "table", owners["table"])
            for table_name in feature.other_tables:
                _claim(owners["table"], table_name, name, "table")
            self.other_tables |= feature.other_tables
            if feature.describe_data is not None:
                self._describers.append(feature.describe_data)
            if feature.erasure is not None:
                self.erasures.append(feature.erasure)
            if feature.admin_notices is not None:
                self.admin_notices.append(feature.admin_notices)
            if feature.group_reply is not None:
                _claim(owners["reader"], "group replies", name, "the reader of")
                self.group_reply = feature.group_reply
            if feature.free_text is not None:
                _claim(owners["reader"], "free text", name, "the reader of")
                self.free_text = feature.free_text
            if feature.resume is not None:
                _claim(owners["reader"], "resume", name, "the step of")
                self.resume_step = feature.resume
        if IDLE not in self.states:
            raise ValueError(f"no feature declares the state {IDLE!r}")
        for target in REQUIRED_TARGETS:
            if target not in self.go:
                raise ValueError(f"no feature declares the navigation target {target!r}")
        if self.free_text is None or self.resume_step is None:
            raise ValueError("no feature reads free text, or none shows where a person is")

    def knows_state(self, state: str) -> bool:
        """Say whether a stored state is one of this bot's."""
        return state in self.states

    def state_label(self, state: str) -> str:
        """Return how /mesdonnees names a state."""
        step = self.states.get(state)
        return step.label if step is not None else state

    def describe_person(self, turn: Turn) -> list[DataSection]:
        """Return what each feature keeps about the person of the turn, in the features' order."""
        return [section for describe in self._describers if (section := describe(turn)) is not None]

    def menu_buttons(self, *, anonymous: bool = False) -> tuple[Button, ...]:
        """Return the main menu's buttons, in order (for someone without an account: those that work)."""
        return self._anonymous_menu if anonymous else self._menu

    def go_to(self, turn: Turn, target: str) -> list[Reply]:
        """Run a navigation target's step, as its button would once onboarding is done."""
        return self.go[target].step(turn)

    def serve_intent(self, turn: Turn, intent: str) -> list[Reply]:
        """Run the step of an intent the understanding recognised (the menu if no feature serves it)."""
        step = self.intents.get(intent)
        return step(turn) if step is not None else self.go_to(turn, MENU)

    def resume(self, turn: Turn) -> list[Reply]:
        """Show the step the person is at: consent, a pending onboarding question, or the menu."""
        assert self.resume_step is not None
        return self.resume_step(turn)

    def read_text(self, turn: Turn) -> list[Reply]:
        """Answer a text: by the step of the person's state, else as free text."""
        state = self.states.get(turn.state or "")
        if state is not None and not state.every_message:
            replies = state.read(turn)
            if replies is not None:
                return replies
        assert self.free_text is not None
        return self.free_text(turn)
