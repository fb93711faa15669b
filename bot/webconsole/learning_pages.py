"""What the bot did not understand: the phrasings to learn and the gaps, handled from one page.

A phrasing a trainee chose among suggestions (or a request's subject) is accepted into its entry or
refused; a gap (questions without a good answer, grouped) becomes a phrasing of an entry, a new entry,
or is set aside. A handled gap leaves the list.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.common.text import fold
from bot.features.faq_editing import Saved, add_phrasing, create_entry
from bot.features.gaps import find_gaps, forget_misses, mark_handled
from bot.features.learning import decide, entry_label, pending_groups
from bot.storage.models import User
from bot.webconsole.faq_pages import KINDS, FaqEditing, form_text, form_values, theme_label, version_of
from bot.webconsole.pages import Pages, Staff

log = logging.getLogger(__name__)

GAP_DAYS = 30
MAX_GAPS_SHOWN = 50


def miss_ids(text: str) -> list[int]:
    """Read the stored questions' numbers a form carries ("12,15,20"); anything else is ignored."""
    return [int(part) for part in text.split(",") if part.strip().isdigit()][:500]


def suggested_id(question: str, taken: set[str]) -> str:
    """Return an id made from a question's words ("Comment imprimer ?" -> "comment-imprimer"), unused."""
    words = fold(question).split()[:6] or ["question"]
    base = "-".join(words)[:40].strip("-")
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


class LearningPages:
    """The page of what the bot did not understand, and its actions."""

    def __init__(self, pages: Pages, editing: FaqEditing) -> None:
        self.pages = pages
        self.editing = editing
        self.context = pages.context

    async def overview(self, request: Request) -> Response:
        """List the phrasings to learn (by entry) and the gaps of the last 30 days, biggest first."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        now, settings, base = self.context.clock.now(), self.context.settings, self.context.faq.base

        def read(session: Session) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            groups = [
                {
                    "entry": base.get(group.entry_id),
                    "label": entry_label(entry) if (entry := base.get(group.entry_id)) else group.entry_id,
                    "phrasings": [(p.number, p.question, len(p.rows)) for p in group.phrasings],
                }
                for group in pending_groups(session, now, settings.faq_miss_retention_days)
            ]
            gaps = [
                {
                    "count": gap.count,
                    "examples": gap.examples,
                    "misses": ",".join(str(number) for number in gap.miss_ids),
                    "suggested": [base.get(entry_id) for entry_id, _ in gap.suggested.most_common(3)],
                }
                for gap in find_gaps(session, now, GAP_DAYS)[:MAX_GAPS_SHOWN]
            ]
            return groups, gaps

        groups, gaps = await self.pages.db(read)
        for gap in gaps:
            gap["suggested"] = [entry for entry in gap["suggested"] if entry is not None]
        return self.pages.render(
            "questions.html",
            "Ce que le bot n'a pas compris",
            staff,
            groups=groups,
            gaps=gaps,
            days=GAP_DAYS,
            entries=sorted(base.entries, key=lambda entry: fold(entry.question)),
            done=request.query_params.get("fait", ""),
            added_to=base.get(request.query_params.get("entree", "")),
        )

    async def _admin_form(self, request: Request) -> tuple[Staff, dict[str, str]] | Response:
        return await self.pages.acting(request, admins_only="Modifier la FAQ")

    def _back(self, done: str) -> Response:
        return RedirectResponse(f"{self.context.prefix}/questions?fait={done}", status_code=303)

    async def decide_phrasing(self, request: Request) -> Response:
        """Accept a phrasing into its entry (checked, kept in the history, the bot reloaded) or refuse it."""
        verdict = request.path_params["verdict"]
        if verdict not in ("accepter", "refuser"):
            return Response(status_code=404)
        checked = await self._admin_form(request)
        if isinstance(checked, Response):
            return checked
        staff, _form = checked
        number = request.path_params["number"]

        def work(session: Session) -> str | None:
            return self._decide(session, staff, number, accept=verdict == "accepter")

        problem, _reloaded = await self.pages.save(work)
        if problem is not None:
            return self._refused(staff, problem)
        log.info("console: phrasing %d %s by staff member %d", number, verdict, staff.user_id)
        return self._back("ajoutee" if verdict == "accepter" else "refusee")

    def _decide(self, session: Session, staff: Staff, number: int, *, accept: bool) -> str | None:
        """Decide on one phrasing; return what stopped it, or None."""
        faq, now = self.context.faq, self.context.clock.now()
        retention = self.context.settings.faq_miss_retention_days
        if accept:
            phrasing = next(
                (
                    phrasing
                    for group in pending_groups(session, now, retention)
                    for phrasing in group.phrasings
                    if any(row.id == number for row in phrasing.rows)
                ),
                None,
            )
            if phrasing is None:
                return "cette phrase n'est plus dans la liste"
            # Written like any save (checked with the whole FAQ, in the history, the bot reloaded) ...
            saved = add_phrasing(
                session,
                faq,
                self._author(session, staff),
                phrasing.entry_id,
                [phrasing.question],
                languages=self.context.settings.faq_language_codes,
                now=now,
            )
            if saved.refusal or saved.errors:
                return saved.refusal or "; ".join(problem.message for problem in saved.errors)
        # ... then taken off the list (the file has it now: nothing more is written).
        decision = decide(
            session, faq.base, faq.directory, number, accept=accept, now=now, retention_days=retention
        )
        return decision.problem or None

    async def add_to_entry(self, request: Request) -> Response:
        """Add a gap's question to an entry's phrasings; the gap leaves the list."""
        checked = await self._admin_form(request)
        if isinstance(checked, Response):
            return checked
        staff, form = checked
        entry_id = form.get("entree", "")
        questions = [text for text in form.get("questions", "").split("\n") if text.strip()]
        entry = self.context.faq.base.get(entry_id)
        if not questions or entry is None:
            return self._refused(staff, "choisissez d'abord, dans la liste, la question de la FAQ qui répond")
        misses = miss_ids(form.get("misses", ""))

        def work(session: Session) -> Saved:
            saved = add_phrasing(
                session,
                self.context.faq,
                self._author(session, staff),
                entry_id,
                questions,
                languages=self.context.settings.faq_language_codes,
                now=self.context.clock.now(),
            )
            if saved.revision is not None:
                mark_handled(session, misses, saved.revision.id)  # undoing the save brings them back
            elif not (saved.refusal or saved.errors):
                forget_misses(session, misses)  # the entry had them all already
            return saved

        saved, reloaded = await self.pages.save(work)
        saved = saved.after(reloaded)
        if saved.refusal or saved.errors:
            reason = saved.refusal or "; ".join(problem.message for problem in saved.errors)
            return self._refused(staff, reason)
        return RedirectResponse(
            f"{self.context.prefix}/questions?{urlencode({'fait': 'ajoutee', 'entree': entry.id})}",
            status_code=303,
        )

    async def set_aside(self, request: Request) -> Response:
        """Take a gap off the list without changing the FAQ (not a question for it)."""
        checked = await self._admin_form(request)
        if isinstance(checked, Response):
            return checked
        misses = miss_ids(checked[1].get("misses", ""))
        await self.pages.db(lambda session: forget_misses(session, misses))
        return self._back("ecartee")

    def _author(self, session: Session, staff: Staff) -> User:
        author = session.get(User, staff.user_id)
        assert author is not None  # the session was live a moment ago
        return author

    def _refused(self, staff: Staff, reason: str) -> Response:
        return self.pages.message(
            "Pas fait",
            f"Rien n'a changé : {reason}.",
            staff=staff,
            status=409,
            error=True,
            back=f"{self.context.prefix}/questions",
        )

    async def new_entry_form(self, request: Request) -> Response:
        """Show the form of a new entry, filled from a gap's questions when it comes from one."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        if not staff.is_admin:
            return self.editing.admins_only(staff)
        examples = request.query_params.getlist("exemple")
        question = examples[0] if examples else ""
        shown = {name: "" for name in KINDS} | {"question": question, "alternatives": "\n".join(examples[1:])}
        taken = {entry.id for entry in self.context.faq.base.entries}
        return self._new_form(
            staff, shown, suggested_id(question, taken), "", request.query_params.get("misses", "")
        )

    def _new_form(
        self,
        staff: Staff,
        shown: dict[str, str],
        entry_id: str,
        file_name: str,
        misses: str,
        saved: Saved | None = None,
    ) -> Response:
        files = sorted({entry.source for entry in self.context.faq.base.entries})
        return self.editing.form(
            staff,
            None,
            shown,
            "",
            saved=saved,
            status=422 if saved else 200,
            new={
                "id": entry_id,
                "file": file_name or (files[0] if files else ""),
                "files": [(name, theme_label(name)) for name in files],
                "misses": misses,
            },
        )

    async def create(self, request: Request) -> Response:
        """Add the new entry to the chosen file; the gap it came from leaves the list."""
        checked = await self._admin_form(request)
        if isinstance(checked, Response):
            return checked
        staff, form = checked
        entry_id, file_name = form.get("id", "").strip(), form.get("fichier", "")
        shown = {name: form.get(name, "") for name in KINDS}
        files = {entry.source for entry in self.context.faq.base.entries}
        if file_name not in files:
            refusal = Saved(refusal="choisissez un thème (le fichier de la nouvelle question)")
            return self._new_form(staff, shown, entry_id, file_name, form.get("misses", ""), refusal)
        values = {"id": entry_id, **form_values(form)}
        misses = miss_ids(form.get("misses", ""))

        def work(session: Session) -> Saved:
            saved = create_entry(
                session,
                self.context.faq,
                self._author(session, staff),
                file_name,
                values,
                languages=self.context.settings.faq_language_codes,
                now=self.context.clock.now(),
            )
            if saved.revision is not None:
                mark_handled(session, misses, saved.revision.id)
            return saved

        saved, reloaded = await self.pages.save(work)
        saved = saved.after(reloaded)
        if saved.revision is None:
            return self._new_form(staff, shown, entry_id, file_name, form.get("misses", ""), saved)
        created = self.editing.current(entry_id)
        if created is not None and (saved.warnings or saved.reload_problem):
            # Saved, with things to look at (a language missing, a long step): its form, with them listed.
            entry, values = created
            return self.editing.form(staff, entry, form_text(values), version_of(values), saved=saved)
        query = urlencode({"enregistre": "1"})
        return RedirectResponse(f"{self.context.prefix}/faq/entree/{entry_id}?{query}", status_code=303)
