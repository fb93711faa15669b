"""The bot learns from its staff: questions an FAQ entry answered become its alternatives, once accepted.

Like the active learning of Azure's question answering: the question a trainee asked, and the entry
that answered it, become a candidate alternative that an admin accepts or rejects. Two sources:

- a trainee taps one of the "did you mean" suggestions: their (masked) question and the entry tapped;
- a social worker closes a request to talk to a person and says which entry answered its subject.

Candidates are kept only under the consent that covers unanswered questions, never for staff, and
erased with the trainee (/oublier) or after FAQ_MISS_RETENTION_DAYS. Admins see them grouped by entry
and by phrasing (`cisp-bot faq suggestions`, `/apprendre`), never who asked. Accepting writes the
phrasing into the entry's YAML file (bot.faq.alternatives) and removes the candidates of that phrasing
(for every entry: it now belongs to one); rejecting keeps them as rejected until their retention ends,
so that the same phrasing is not proposed again for that entry.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot import texts
from bot.common.text import shorten
from bot.core.feature import ButtonAction, Command, Feature
from bot.core.messages import Reply
from bot.core.payloads import ButtonKind, checked_index
from bot.core.personal import DataSection, PersonalTable, show_date, show_named, show_quoted
from bot.core.turn import Services, Turn
from bot.faq import FaqBase, FaqEntry, FaqError, MatchResult, Outcome, tokens
from bot.faq.alternatives import AddResult, AlternativeError, add_alternative, same_phrasing
from bot.features.faq import FAQ, MISSES_CONSENT_VERSION, mask_personal_details
from bot.features.faq import entry_label as seen_entry_label
from bot.features.menu import main_menu
from bot.storage.models import (
    CandidateSource,
    CandidateStatus,
    FaqCandidate,
    Role,
    Ticket,
    TicketStatus,
    User,
)

log = logging.getLogger(__name__)

# FAQ learning: t.<ticket>.<index>.<check> (closing a request), ok.<n>, no.<n>, p.<offset>.
LEARN = ButtonKind("lr", r"t\.\d{1,10}\.\d\.[0-9a-f]{4}|(?:ok|no)\.\d{1,10}|p\.\d{1,4}")
MAX_QUESTION_CHARS = 500
TICKET_BUTTONS = 3
EXAMPLES = 3
SHOWN_PER_PAGE = 3
SHOWN_QUESTION_CHARS = 80
ENTRY_LABEL_CHARS = 28
# The request subjects the bot writes itself ("Demande à être appelé·e ..."): not a trainee's question.
_BOT_SUBJECT = texts.CALL_REQUEST_SUBJECT_ONLY


@dataclass
class Phrasing:
    """The pending candidates of one phrasing for one entry: accepted or rejected together."""

    entry_id: str
    question: str
    rows: list[FaqCandidate] = field(default_factory=list)

    @property
    def number(self) -> int:
        """Return the number admins use for this phrasing (its oldest candidate's)."""
        return min(row.id for row in self.rows)

    @property
    def sources(self) -> Counter[str]:
        """Count the candidates by source."""
        return Counter(row.source for row in self.rows)

    def as_dict(self) -> dict[str, Any]:
        """Return the phrasing as JSON-ready data."""
        return {
            "number": self.number,
            "question": self.question,
            "count": len(self.rows),
            "numbers": sorted(row.id for row in self.rows),
            "sources": dict(self.sources),
            "last_proposed_at": max(row.proposed_at for row in self.rows).isoformat(),
        }


@dataclass
class EntryGroup:
    """The pending phrasings of one entry, most frequent first."""

    entry_id: str
    phrasings: list[Phrasing] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Return how many candidates the entry has."""
        return sum(len(phrasing.rows) for phrasing in self.phrasings)

    def as_dict(self, base: FaqBase | None) -> dict[str, Any]:
        """Return the group as JSON-ready data (the entry's question and file from base, when there)."""
        entry = base.get(self.entry_id) if base is not None else None
        return {
            "entry": self.entry_id,
            "entry_question": entry.question if entry else None,
            "file": entry.source if entry else None,
            "count": self.count,
            "examples": [phrasing.question for phrasing in self.phrasings[:EXAMPLES]],
            "candidates": [phrasing.as_dict() for phrasing in self.phrasings],
        }


# ----------------------------------------------------------------------------------------- recording


def record_candidate(
    session: Session,
    user: User,
    entry: FaqEntry,
    question: str,
    source: CandidateSource,
    now: datetime,
    *,
    ticket_id: int | None = None,
) -> FaqCandidate | None:
    """Keep a question an entry answered, if the trainee's consent covers it and it teaches something.

    The consent is the one that covers the unanswered questions: kept for the team to improve the answers.
    """
    if user.role != Role.TRAINEE.value or (user.consent_version or 0) < MISSES_CONSENT_VERSION:
        return None
    # Masked already (unanswered questions, request subjects); again here, for any future caller.
    question = mask_personal_details(" ".join(question.split()))[:MAX_QUESTION_CHARS]
    if not tokens(question):
        return None  # "???", "ok": nothing for the matcher to learn
    key = same_phrasing(question)
    if _knows(entry, question):
        return None  # already in the FAQ
    for other in session.scalars(select(FaqCandidate).where(FaqCandidate.entry_id == entry.id)):
        # Refused once: not proposed again. The same person asking twice counts once.
        same_person = other.user_id == user.id and other.status == CandidateStatus.PENDING.value
        if same_phrasing(other.question) == key and (
            other.status == CandidateStatus.REJECTED.value or same_person
        ):
            return None
    if user.id is None:
        session.flush()  # a person added in this very transaction: their id first
    candidate = FaqCandidate(
        user_id=user.id,
        entry_id=entry.id,
        question=question,
        source=source.value,
        status=CandidateStatus.PENDING.value,
        proposed_at=now,
        ticket_id=ticket_id,
    )
    session.add(candidate)
    session.flush()
    log.info("FAQ candidate %d recorded for %s (%s)", candidate.id, entry.id, source.value)
    return candidate


def _knows(entry: FaqEntry, question: str) -> bool:
    """Say whether the entry's question or one of its alternatives already says this."""
    key = same_phrasing(question)
    return any(same_phrasing(known) == key for known in (entry.question, *entry.alternatives))


def _ticket_subject(ticket: Ticket) -> str | None:
    """Return the trainee's subject of a request, or None (none given, or one the bot wrote)."""
    subject = ticket.subject
    if not subject or subject.startswith(_BOT_SUBJECT):
        return None
    return subject


def _answering_entries(result: MatchResult) -> list[FaqEntry]:
    if result.outcome is Outcome.ANSWER and result.entry is not None:
        return [result.entry]
    if result.outcome is Outcome.SUGGEST:
        return list(result.suggestions[:TICKET_BUTTONS])
    return []


def _ticket_entries(turn: Turn, ticket: Ticket) -> list[FaqEntry]:
    """Return the entries that may have answered a request's subject ([] when nothing may be kept)."""
    trainee, subject = ticket.trainee, _ticket_subject(ticket)
    if subject is None or trainee.role != Role.TRAINEE.value:
        return []
    if (trainee.consent_version or 0) < MISSES_CONSENT_VERSION:
        return []
    # An entry that knows the subject's words already has nothing to learn from it.
    return [
        entry
        for entry in _answering_entries(turn.services.get(FAQ).match(subject))
        if not _knows(entry, subject)
    ]


def entry_label(entry: FaqEntry) -> str:
    """Return the short name of an entry that staff see on buttons and lists."""
    return entry.button or shorten(entry.question, ENTRY_LABEL_CHARS)


def ticket_offer(turn: Turn, ticket: Ticket) -> Reply | None:
    """Offer the worker who closes a request the entries that match its subject, or None."""
    entries = _ticket_entries(turn, ticket)
    if not entries:
        return None
    buttons = tuple(
        LEARN.button(
            f"t.{ticket.id}.{index}.{checked_index(index, entry.id).partition('.')[2]}",
            texts.BUTTON_LEARN_TICKET.format(entry=entry_label(entry)),
        )
        for index, entry in enumerate(entries)
    )
    subject = shorten(_ticket_subject(ticket) or "", SHOWN_QUESTION_CHARS)
    return Reply(texts.LEARN_TICKET_OFFER.format(subject=subject), buttons)


def _on_ticket_button(turn: Turn, ticket_id: int, index: int, check: str) -> list[Reply]:
    """Record that an entry answered a closed request's subject, once per request."""
    ticket = turn.session.get(Ticket, ticket_id)
    if ticket is not None and ticket.status != TicketStatus.CLOSED.value:
        ticket = None  # offered when the request is closed, not before
    entries = _ticket_entries(turn, ticket) if ticket is not None else []
    # The FAQ is matched again: a button shown before a reload that changed the entries is refused.
    if (
        ticket is None
        or index >= len(entries)
        or checked_index(index, entries[index].id) != f"{index}.{check}"
    ):
        return [Reply(texts.LEARN_STALE)]
    entry = entries[index]
    if turn.session.scalars(select(FaqCandidate.id).where(FaqCandidate.ticket_id == ticket.id)).first():
        return [Reply(texts.LEARN_TICKET_ALREADY)]
    question = _ticket_subject(ticket) or ""
    candidate = record_candidate(
        turn.session, ticket.trainee, entry, question, CandidateSource.TICKET, turn.now, ticket_id=ticket.id
    )
    if candidate is None:
        return [Reply(texts.LEARN_TICKET_NOT_KEPT)]
    shown = shorten(question, SHOWN_QUESTION_CHARS)
    return [Reply(texts.LEARN_TICKET_NOTED.format(question=shown, entry=entry_label(entry)))]


# ----------------------------------------------------------------------------------------- reviewing


def pending_groups(session: Session, now: datetime, retention_days: int) -> list[EntryGroup]:
    """Return the pending candidates still within their retention, by entry, most frequent first."""
    rows = session.scalars(
        select(FaqCandidate)
        .where(
            FaqCandidate.status == CandidateStatus.PENDING.value,
            FaqCandidate.proposed_at >= now - timedelta(days=retention_days),
        )
        .order_by(FaqCandidate.id)
    )
    groups: dict[str, EntryGroup] = {}
    phrasings: dict[tuple[str, str], Phrasing] = {}
    for row in rows:
        key = (row.entry_id, same_phrasing(row.question))
        if key not in phrasings:
            phrasings[key] = Phrasing(row.entry_id, row.question)
            groups.setdefault(row.entry_id, EntryGroup(row.entry_id)).phrasings.append(phrasings[key])
        phrasings[key].rows.append(row)
    for group in groups.values():
        group.phrasings.sort(key=lambda phrasing: (-len(phrasing.rows), phrasing.number))
    return sorted(groups.values(), key=lambda group: (-group.count, group.phrasings[0].number))


def _find(session: Session, number: int, now: datetime, retention_days: int) -> Phrasing | None:
    """Return the pending phrasing a number belongs to (any of its candidates' numbers), or None."""
    for group in pending_groups(session, now, retention_days):
        for phrasing in group.phrasings:
            if any(row.id == number for row in phrasing.rows):
                return phrasing
    return None


class Verdict(StrEnum):
    """What deciding on a phrasing did."""

    ACCEPTED = "accepted"
    ALREADY_THERE = "already_there"  # accepted: the file had it already (by hand, or a second tap)
    REJECTED = "rejected"
    GONE = "gone"  # no pending candidate with that number
    ENTRY_GONE = "entry_gone"  # the entry is not in the FAQ any more
    FILE_ERROR = "file_error"  # the file could not be written as it should: nothing written


@dataclass(frozen=True)
class Decision:
    """The result of accepting or rejecting one phrasing."""

    verdict: Verdict
    number: int
    entry_id: str = ""
    entry: str = ""  # the entry's short name
    file: str = ""
    question: str = ""
    problem: str = ""
    removed: int = 0  # candidates taken off the list

    @property
    def accepted(self) -> bool:
        """Say whether the phrasing is now in the entry's file."""
        return self.verdict in (Verdict.ACCEPTED, Verdict.ALREADY_THERE)


def decide(
    session: Session,
    base: FaqBase,
    directory: Path,
    number: int,
    *,
    accept: bool,
    now: datetime,
    retention_days: int,
) -> Decision:
    """Accept (write into the entry's file in directory) or reject the phrasing of candidate `number`.

    directory is FAQ_DIR itself: the FAQ in use may have been loaded from the last valid copy.
    """
    phrasing = _find(session, number, now, retention_days)
    if phrasing is None:
        return Decision(Verdict.GONE, number)
    ids = [row.id for row in phrasing.rows]
    if not accept:
        session.execute(
            update(FaqCandidate)
            .where(FaqCandidate.id.in_(ids))
            .values(status=CandidateStatus.REJECTED.value)
            .execution_options(synchronize_session=False)
        )
        log.info("FAQ candidates %s rejected for %s", ids, phrasing.entry_id)
        return Decision(Verdict.REJECTED, number, phrasing.entry_id, question=phrasing.question)
    entry = base.get(phrasing.entry_id)
    if entry is None:
        return Decision(Verdict.ENTRY_GONE, number, phrasing.entry_id, phrasing.entry_id)
    label = entry_label(entry)
    try:
        added = add_alternative(directory, entry.source, entry.id, phrasing.question)
    except AlternativeError as error:
        log.warning("FAQ candidate %d not written: %s", number, error)
        return Decision(Verdict.FILE_ERROR, number, entry.id, label, entry.source, problem=str(error))
    # The phrasing now belongs to this entry: the same words proposed for other entries go too.
    key = same_phrasing(phrasing.question)
    others = session.execute(
        select(FaqCandidate.id, FaqCandidate.question).where(
            FaqCandidate.status == CandidateStatus.PENDING.value, FaqCandidate.entry_id != entry.id
        )
    )
    ids += [row_id for row_id, question in others if same_phrasing(question) == key]
    session.execute(
        delete(FaqCandidate).where(FaqCandidate.id.in_(ids)).execution_options(synchronize_session=False)
    )
    log.info("FAQ candidate %d accepted into %s (%s)", number, entry.id, entry.source)
    verdict = Verdict.ACCEPTED if added is AddResult.ADDED else Verdict.ALREADY_THERE
    return Decision(verdict, number, entry.id, label, entry.source, phrasing.question, removed=len(ids))


def purge_old_candidates(session: Session, now: datetime, retention_days: int) -> int:
    """Erase candidates older than their retention period, pending or rejected; return how many."""
    result = session.execute(
        delete(FaqCandidate)
        .where(FaqCandidate.proposed_at < now - timedelta(days=retention_days))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ----------------------------------------------------------------------------------------- in the chat


def _is_admin(turn: Turn) -> bool:
    return turn.user is not None and turn.user.role == Role.ADMIN.value


def show_pending(turn: Turn, offset: int = 0) -> list[Reply]:
    """List the pending phrasings for an admin (`/apprendre`), each with its accept and reject buttons."""
    retention = turn.services.settings.faq_miss_retention_days
    phrasings = [
        phrasing
        for group in pending_groups(turn.session, turn.now, retention)
        for phrasing in group.phrasings
    ]
    if not _is_admin(turn):
        return [Reply(texts.LEARN_ADMINS_ONLY.format(count=len(phrasings)))]
    if not phrasings:
        return [Reply(texts.LEARN_NONE)]
    offset = offset if offset < len(phrasings) else 0
    shown = phrasings[offset : offset + SHOWN_PER_PAGE]
    replies = [Reply(texts.LEARN_TITLE.format(count=len(phrasings)))]
    replies += [_phrasing_reply(turn.services.get(FAQ).base, phrasing) for phrasing in shown]
    rest = len(phrasings) - offset - len(shown)
    if rest > 0:
        more = LEARN.button(f"p.{offset + len(shown)}", texts.BUTTON_LEARN_MORE)
        replies.append(Reply(texts.LEARN_MORE.format(count=rest), (more,)))
    return replies


def _phrasing_reply(base: FaqBase, phrasing: Phrasing) -> Reply:
    entry = base.get(phrasing.entry_id)
    label = entry_label(entry) if entry else texts.LEARN_ITEM_ENTRY_GONE.format(entry=phrasing.entry_id)
    by_staff = phrasing.sources[CandidateSource.TICKET.value]
    text = texts.LEARN_ITEM.format(
        number=phrasing.number,
        question=shorten(phrasing.question, SHOWN_QUESTION_CHARS),
        entry=label,
        times=f"{len(phrasing.rows)} fois",
        staff=texts.LEARN_ITEM_STAFF.format(count=by_staff) if by_staff else "",
    )
    buttons = [
        LEARN.button(
            f"no.{phrasing.number}",
            texts.BUTTON_LEARN_REJECT.format(number=phrasing.number),
        )
    ]
    if entry is not None:
        accept = LEARN.button(
            f"ok.{phrasing.number}",
            texts.BUTTON_LEARN_ACCEPT.format(number=phrasing.number),
        )
        buttons.insert(0, accept)
    return Reply(text, tuple(buttons))


def _decide_in_chat(turn: Turn, number: int, *, accept: bool) -> list[Reply]:
    """Accept or reject from a button; after writing, reload the FAQ at once and say if that failed."""
    faq = turn.services.get(FAQ)
    decision = decide(
        turn.session,
        faq.base,
        faq.directory,
        number,
        accept=accept,
        now=turn.now,
        retention_days=turn.services.settings.faq_miss_retention_days,
    )
    replies = [Reply(_decision_text(decision))]
    if decision.accepted:
        try:
            faq.reload()
            replies[0] = Reply(f"{replies[0].text}\n{texts.LEARN_RELOADED}")
            if faq.partial_error is not None:
                # Another file is broken: the phrasing is served, that file's last valid version too.
                if turn.user is not None:
                    faq.error_notice_for(turn.user.id)  # told here: no second notice
                replies.append(Reply(faq.problem_notice(faq.partial_error)))
        except FaqError as error:
            # The file is written; the FAQ in use stays the previous one until the problems are fixed.
            if turn.user is not None:
                faq.error_notice_for(turn.user.id)  # told here: no second notice
            replies.append(Reply(faq.problem_notice(error)))
    return replies + show_pending(turn)


def _decision_text(decision: Decision) -> str:
    number = decision.number
    if decision.verdict is Verdict.ACCEPTED:
        return texts.LEARN_ACCEPTED.format(number=number, entry=decision.entry, file=decision.file)
    if decision.verdict is Verdict.ALREADY_THERE:
        return texts.LEARN_ALREADY_THERE.format(number=number, entry=decision.entry)
    if decision.verdict is Verdict.REJECTED:
        return texts.LEARN_REJECTED.format(number=number)
    if decision.verdict is Verdict.ENTRY_GONE:
        return texts.LEARN_ENTRY_GONE.format(number=number, entry=decision.entry_id)
    if decision.verdict is Verdict.FILE_ERROR:
        return texts.LEARN_FILE_ERROR.format(number=number, problem=decision.problem)
    return texts.LEARN_GONE.format(number=number)


def on_button(turn: Turn, argument: str) -> list[Reply]:
    """Handle the learning buttons: staff only; accepting and rejecting, admins only."""
    if not turn.is_staff:
        log.warning("FAQ learning button refused to a non-staff user (%s)", turn.message.channel)
        return [Reply(texts.STALE_BUTTON), main_menu(turn)]
    verb, _, rest = argument.partition(".")
    if verb == "t":
        ticket_id, index, check = rest.split(".")
        return _on_ticket_button(turn, int(ticket_id), int(index), check)
    if verb == "p":
        return show_pending(turn, int(rest))
    if not _is_admin(turn):
        log.warning("FAQ learning decision refused to a social worker (%s)", turn.message.channel)
        return show_pending(turn)  # says that an admin decides
    return _decide_in_chat(turn, int(rest), accept=verb == "ok")


def _purge_old_candidates(session: Session, services: Services, now: datetime) -> None:
    purge_old_candidates(session, now, services.settings.faq_miss_retention_days)


_CANDIDATE_SOURCES = {"suggestion": "vous, parmi mes propositions", "ticket": "l'équipe, après votre demande"}
_CANDIDATE_STATUS = {"pending": "l'équipe va la lire", "rejected": "pas retenue"}
# One line per question an FAQ entry answered, waiting for an admin to add it to the entry.
FAQ_CANDIDATES = PersonalTable(
    "faq_candidates",
    {
        "proposed_at": ("Question reliée à une fiche, le", show_date),
        "question": ("Texte", show_quoted),
        "entry_id": ("Fiche", str),
        "source": ("Reliée par", show_named(_CANDIDATE_SOURCES)),
        "status": ("État", show_named(_CANDIDATE_STATUS)),
    },
    # The request it came from: only makes one candidate per request.
    internal=frozenset({"id", "user_id", "ticket_id"}),
)


def describe_candidates(turn: Turn) -> DataSection | None:
    """Return the questions of the turn's person waiting to become phrasings of an FAQ entry."""
    rows = sorted(turn.user.faq_candidates, key=lambda row: row.proposed_at) if turn.user else []
    if not rows:
        return None
    lines = []
    for row in rows:
        lines += FAQ_CANDIDATES.block(row, entry_id=seen_entry_label(turn, row.entry_id))
    summary = texts.counted(texts.MY_DATA_CANDIDATES, len(rows))
    return DataSection(summary, texts.MY_DATA_CANDIDATES_TITLE, lines)


FEATURE = Feature(
    name="learning",
    commands={"apprendre": Command(lambda turn, _rest: show_pending(turn), staff=True)},
    buttons=[ButtonAction(LEARN, on_button, in_staff_group=True)],
    purges=[_purge_old_candidates],
    personal_tables=[FAQ_CANDIDATES],
    describe_data=describe_candidates,
)
