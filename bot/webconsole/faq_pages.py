"""The console's FAQ pages: the list by theme, an entry whole, "Tester une question", editing, history."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.common.text import fold, shorten
from bot.core.personal import show_date_time
from bot.faq.editing import EditError, entry_values, read_file_text
from bot.faq.loader import FaqBase, FaqEntry
from bot.features.faq import FaqService
from bot.features.faq_editing import Changes, Saved, changes, history, restore, save_entry
from bot.features.intents import Intent
from bot.features.understand import DecisionKind, understand
from bot.storage.models import FaqRevision, User
from bot.webconsole.pages import STALE_TOKEN, Pages, Staff

LANGUAGE_NAMES = {"nl": "néerlandais", "en": "anglais"}
INTENT_LABELS = {
    Intent.GREETING: "un bonjour",
    Intent.THANKS: "un merci",
    Intent.MENU: "une demande du menu",
    Intent.HELP: "une demande d'aide (perdu·e)",
    Intent.PERSON: "une demande de parler à quelqu'un",
    Intent.BOOK: "une demande de rendez-vous",
    Intent.SESSIONS: "une question sur ses séances",
    Intent.APPOINTMENTS: "une question sur ses rendez-vous",
}
# A question typed in the test box is read as the bot reads a message: to its first 400 characters.
MAX_TEST_CHARS = 400


class FaqPages:
    """The FAQ's pages, over the console's plumbing."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.context = pages.context
        self._search_cache: tuple[FaqBase, list[str]] | None = None

    def _searchable(self, base: FaqBase) -> list[str]:
        """Return the entries' searchable texts, folded once per FAQ loaded (a reload makes a new base)."""
        cached = self._search_cache
        if cached is None or cached[0] is not base:
            cached = (base, [_searchable_text(entry) for entry in base.entries])
            self._search_cache = cached
        return cached[1]

    # -- pages ------------------------------------------------------------------------------------

    async def faq_list(self, request: Request) -> Response:
        """List the FAQ by theme (its file), filtered by words and theme."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        query = request.query_params.get("q", "")[:200]
        theme = request.query_params.get("theme", "")
        base = self.context.faq.base
        entries = base.entries
        themes = sorted({entry.source for entry in entries})
        # "Wi-Fi" and "wifi" are one word to whoever searches.
        words = fold(query.replace("-", "")).split()
        searched = self._searchable(base)
        shown = [
            entry
            for entry, text in zip(entries, searched, strict=True)
            if (not theme or entry.source == theme) and all(word in text for word in words)
        ]
        groups = [
            (theme_label(name), [_listed(entry) for entry in shown if entry.source == name])
            for name in themes
            if any(entry.source == name for entry in shown)
        ]
        return self.pages.render(
            "faq_list.html",
            "La FAQ",
            staff,
            query=query,
            theme=theme,
            themes=[(name, theme_label(name)) for name in themes],
            shown=shown,
            total=len(entries),
            groups=groups,
        )

    async def faq_entry(self, request: Request) -> Response:
        """Show one entry whole: its phrasings and its answer in every language it has."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        entry = self.context.faq.base.get(request.path_params["entry_id"])
        if entry is None:
            return missing_entry(self.pages, staff)
        answers = [("", entry.steps_in(None))]
        languages = [code for code, _ in entry.translations] + [code for code, _ in entry.translated_steps]
        for code in dict.fromkeys(languages):
            answers.append((LANGUAGE_NAMES.get(code, code), entry.steps_in(code)))
        return self.pages.render(
            "faq_entry.html",
            entry.question,
            staff,
            entry=entry,
            theme=theme_label(entry.source),
            answers=answers,
            saved=request.query_params.get("enregistre") == "1",
        )

    async def faq_test(self, request: Request) -> Response:
        """Show what the bot would answer to a message, with the closest entries and their scores."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        query = request.query_params.get("q", "")[:MAX_TEST_CHARS]
        result = await run_in_threadpool(_tested, self.context.faq, query) if query.strip() else None
        return self.pages.render("test.html", "Tester une question", staff, query=query, result=result)


@dataclass(frozen=True)
class Tested:
    """What the test box shows for one message."""

    verdict: str
    score: float
    entry: FaqEntry | None
    suggestions: tuple[FaqEntry, ...]
    candidates: list[tuple[FaqEntry, float]]


def _tested(faq: FaqService, query: str) -> Tested:
    decision = understand(query, faq)
    if decision.kind is DecisionKind.ANSWER:
        verdict = "répondrait"
    elif decision.kind is DecisionKind.SUGGEST:
        verdict = "n'est pas sûr : il proposerait des questions"
    elif decision.kind is DecisionKind.INTENT and decision.intent is not None:
        verdict = f"y reconnaît {INTENT_LABELS.get(decision.intent, decision.intent.value)}"
    else:
        verdict = "dirait qu'il n'a pas compris (et proposerait une personne)"
    candidates = faq.candidates(query, limit=5)
    return Tested(verdict, decision.score, decision.entry, decision.suggestions, candidates)


def missing_entry(pages: Pages, staff: Staff) -> Response:
    """Say that the entry asked for is no longer in the FAQ."""
    return pages.message(
        "Question introuvable",
        "Cette question n'est plus dans la FAQ (elle a pu être renommée ou retirée).",
        staff=staff,
        status=404,
        error=True,
        back=f"{pages.context.prefix}/faq",
    )


def theme_label(source: str) -> str:
    """Name a theme by its file ("ordinateur.yaml" -> "Ordinateur")."""
    stem = source.rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
    return stem.replace("-", " ").replace("_", " ").capitalize()


def _searchable_text(entry: FaqEntry) -> str:
    """Return what a search looks in: the entry's id, question, phrasings, keywords and answer, folded."""
    return fold(
        " ".join(
            (entry.id, entry.question, *entry.alternatives, *entry.keywords, *entry.steps, entry.answer)
        ).replace("-", "")
    )


@dataclass(frozen=True)
class _Listed:
    """An entry as the list shows it."""

    id: str
    question: str
    alternatives: tuple[str, ...]
    steps: tuple[str, ...]
    languages: str


def _listed(entry: FaqEntry) -> _Listed:
    codes = dict.fromkeys([code for code, _ in entry.translations] + [c for c, _ in entry.translated_steps])
    languages = " et ".join(LANGUAGE_NAMES.get(code, code) for code in codes)
    return _Listed(entry.id, entry.question, entry.alternatives, entry.steps, languages)


# The form's fields: (name, label, kind, hint). kind: "line" (one line), "lines" (one per line),
# "commas" (separated by commas), "text" (several lines, one message).
FORM_FIELDS = (
    ("question", "Question", "line", "Comme un·e stagiaire la poserait, en quelques mots."),
    ("button", "Texte court du bouton", "line", "24 caractères au plus. Vide : la question, raccourcie."),
    ("alternatives", "Autres façons de demander", "lines", "Une par ligne."),
    ("keywords", "Mots-clés", "commas", "Séparés par des virgules."),
    ("steps", "Réponse en étapes", "lines", "Une étape par ligne, 200 caractères au plus chacune."),
    ("answer", "Ou réponse en un seul message", "text", "Si la réponse n'est pas en étapes."),
    ("steps_nl", "Étapes en néerlandais", "lines", "Une par ligne."),
    ("answer_nl", "Ou réponse en néerlandais", "text", ""),
    ("steps_en", "Étapes en anglais", "lines", "Une par ligne."),
    ("answer_en", "Ou réponse en anglais", "text", ""),
    (
        "follow_ups",
        "Questions liées",
        "pick",
        "Les deux premières sont proposées en boutons après la réponse, pour la suite.",
    ),
)
KINDS = {name: kind for name, _, kind, _ in FORM_FIELDS}


LABELS = {name: label for name, label, _, _ in FORM_FIELDS}
# Changes said, by revision: the history shows the same saves again and again; reading them costs two YAML
# readings of their file each.
CHANGES_REMEMBERED = 500
# In the history, a change shows this many items of a list and texts cut to this many characters.
CHANGED_ITEMS_SHOWN = 3
CHANGED_TEXT_CHARACTERS = 70


def say_changes(found: Changes) -> list[str]:
    """Say what a save did to its entry, one short line per field, in the form's words."""
    if found.created:
        return ["Nouvelle question"]
    if found.taken_out:
        return ["Question retirée de la FAQ"]
    lines = []
    for change in found.fields:
        label = LABELS.get(change.field, change.field)
        kind = KINDS.get(change.field)
        if kind == "text" and change.added and change.removed:
            # A message of several lines: its two versions, cut short, would say little here.
            lines.append(f"{label} : modifiée")
            continue
        if kind == "line" and change.added and change.removed:
            old, new = (shorten(text, CHANGED_TEXT_CHARACTERS) for text in (*change.removed, *change.added))
            lines.append(f"{label} : « {old} » devient « {new} »")
            continue
        parts = []
        if change.added:
            parts.append("ajouté " + _quoted_items(change.added))
        if change.removed:
            parts.append("retiré " + _quoted_items(change.removed))
        lines.append(f"{label} : " + " ; ".join(parts or ["ordre changé"]))
    return lines or ["Rien de changé"]


def _quoted_items(items: Sequence[str]) -> str:
    shown = ", ".join(f"« {shorten(item, CHANGED_TEXT_CHARACTERS)} »" for item in items[:CHANGED_ITEMS_SHOWN])
    rest = len(items) - CHANGED_ITEMS_SHOWN
    return shown + (f" et {rest} autre{'s' if rest > 1 else ''}" if rest > 0 else "")


def beside_field(message: str, field_name: str) -> str:
    """Say a check's message beside its field, without the file's name for it ("champ 'question' ...")."""
    for prefix in (f"champ '{field_name}' : ", f"champ '{field_name}' "):
        if message.startswith(prefix):
            rest = message.removeprefix(prefix)
            return rest[:1].upper() + rest[1:]
    return message


def form_text(values: Mapping[str, Any]) -> dict[str, str]:
    """Return an entry's fields as the form shows them."""
    shown = {}
    for name, kind in KINDS.items():
        value = values.get(name)
        if isinstance(value, list):
            shown[name] = ("\n" if kind == "lines" else ", ").join(str(item) for item in value)
        else:
            shown[name] = "" if value is None else str(value)
    return shown


def form_values(form: Mapping[str, str]) -> dict[str, Any]:
    """Return the entry's fields from the form: lists split, blanks dropped."""
    values: dict[str, Any] = {}
    for name, kind in KINDS.items():
        raw = form.get(name, "").replace("\r\n", "\n")
        if kind == "lines":
            values[name] = [line.strip() for line in raw.split("\n") if line.strip()]
        elif kind in ("commas", "pick"):
            values[name] = [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]
        elif kind == "line":
            values[name] = " ".join(raw.split()) or None
        else:
            values[name] = raw.strip() or None
    return values


def version_of(values: Mapping[str, Any] | None) -> str:
    """Return a short fingerprint of an entry's fields: a form saved over a newer version is refused."""
    shown = {name: values.get(name) for name in KINDS} if values else {}
    return hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


class FaqEditing:
    """The FAQ's editing pages (admins) and its history (every staff member reads it)."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.context = pages.context
        self._changes_said: dict[int, list[str]] = {}
        self._changes_lock = threading.Lock()  # pages are built in threads too

    def current(self, entry_id: str) -> tuple[FaqEntry, dict[str, Any]] | None:
        """Return an entry in use and its fields as its file has them, or None."""
        faq = self.context.faq
        entry = faq.base.get(entry_id)
        if entry is None:
            return None
        try:
            values = entry_values(read_file_text(faq.directory, entry.source), entry_id)
        except EditError:
            return None
        return (entry, values) if values is not None else None

    def admins_only(self, staff: Staff) -> Response:
        """Say that changing the FAQ is for admins."""
        return self.pages.admins_only(staff, "Modifier la FAQ")

    def _missing(self, staff: Staff) -> Response:
        return missing_entry(self.pages, staff)

    def form(
        self,
        staff: Staff,
        entry: FaqEntry | None,
        shown: Mapping[str, str],
        version: str,
        *,
        saved: Saved | None = None,
        status: int = 200,
        new: Mapping[str, Any] | None = None,
    ) -> Response:
        """Render an entry's form (new: a new entry, with its id and file), with a save's outcome."""
        errors: dict[str, list[str]] = {}
        general: list[str] = []
        fields = set(KINDS) | ({"id"} if new is not None else set())
        for problem in saved.errors if saved else []:
            if problem.field in fields:
                errors.setdefault(problem.field, []).append(beside_field(problem.message, problem.field))
            else:
                general.append(str(problem))
        if saved and saved.refusal:
            general.append(saved.refusal)
        picked = form_values(shown)["follow_ups"]
        return self.pages.render(
            "faq_edit.html",
            f"Modifier : {entry.question}" if entry else "Nouvelle question",
            staff,
            status=status,
            entry=entry,
            new=new,
            fields=FORM_FIELDS,
            shown=shown,
            version=version,
            errors=errors,
            general=general,
            warnings=[problem.message for problem in saved.warnings] if saved else [],
            saved=saved is not None and saved.revision is not None,
            reload_problem=saved.reload_problem if saved else None,
            in_use=saved.in_use if saved else True,
            picked=picked,
            choices=self._choices(entry, picked),
        )

    def _choices(
        self, entry: FaqEntry | None, picked: Sequence[str]
    ) -> list[tuple[str, list[tuple[str, str]]]]:
        """Return the questions a follow-up may be: the ticked ones first, in their order, then by theme.

        A browser sends ticked boxes in the page's order: listed first, the ticked ones keep theirs (the
        first two are the buttons shown), and a newly ticked one goes after them.
        """
        base = self.context.faq.base

        def question(entry_id: str) -> str:
            found = base.get(entry_id)
            return found.question if found is not None else f"{entry_id} (plus dans la FAQ : décochez-la)"

        ticked = [(entry_id, question(entry_id)) for entry_id in dict.fromkeys(picked)]
        themes: dict[str, list[tuple[str, str]]] = {}
        for other in base.entries:
            if (entry is None or other.id != entry.id) and other.id not in picked:
                themes.setdefault(theme_label(other.source), []).append((other.id, other.question))
        return ([("Cochées, dans l'ordre", ticked)] if ticked else []) + list(themes.items())

    async def edit_form(self, request: Request) -> Response:
        """Show an entry's form, filled with its file's fields (admins only)."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        if not staff.is_admin:
            return self.admins_only(staff)
        current = self.current(request.path_params["entry_id"])
        if current is None:
            return self._missing(staff)
        entry, values = current
        return self.form(staff, entry, form_text(values), version_of(values))

    async def edit(self, request: Request) -> Response:
        """Check and save the form: errors beside their fields, or saved and the bot answering with it."""
        checked = await self.pages.acting(request, admins_only="Modifier la FAQ", keep_typed=True)
        if isinstance(checked, Response):
            return checked
        staff, form = checked
        current = self.current(request.path_params["entry_id"])
        if current is None:
            return self._missing(staff)
        entry, values = current
        shown = {name: form.get(name, "") for name in KINDS}
        if form.get(STALE_TOKEN):
            # From this site, with a live session, but an older page (another login since): the text typed
            # comes back with this session's token, nothing saved.
            stale = Saved(
                refusal="Cette page venait d'une connexion plus ancienne : vérifiez, puis enregistrez."
            )
            return self.form(staff, entry, shown, form.get("version", ""), saved=stale, status=403)
        if form.get("version") != version_of(values):
            stale = Saved(
                refusal="Quelqu'un a modifié cette question entre-temps : rouvrez-la, puis refaites "
                "la modification."
            )
            # The form keeps its old stamp: saving it again is refused again, until the entry is reopened.
            return self.form(staff, entry, shown, form.get("version", ""), saved=stale, status=409)
        saved, reloaded = await self.pages.save(
            lambda session: self._save(session, staff, entry.id, form_values(form))
        )
        saved = saved.after(reloaded)
        if saved.errors or saved.refusal:
            return self.form(staff, entry, shown, version_of(values), saved=saved, status=422)
        address = f"{self.context.prefix}/faq/entree/{entry.id}?enregistre=1"
        if saved.warnings or saved.reload_problem:
            # Saved, with things to look at: the form again, with the saved text and what to review.
            fresh = self.current(entry.id)
            fields = form_text(fresh[1]) if fresh else shown
            return self.form(
                staff,
                fresh[0] if fresh else entry,
                fields,
                version_of(fresh[1] if fresh else None),
                saved=saved,
            )
        return RedirectResponse(address, status_code=303)

    def _save(self, session: Session, staff: Staff, entry_id: str, values: Mapping[str, Any]) -> Saved:
        author = session.get(User, staff.user_id)
        assert author is not None  # the session was live a moment ago
        languages = self.context.settings.faq_language_codes
        return save_entry(
            session,
            self.context.faq,
            author,
            entry_id,
            values,
            languages=languages,
            now=self.context.clock.now(),
        )

    async def history_page(self, request: Request) -> Response:
        """List the latest saves: who, when, which question; admins can restore the version before."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        entry_id = request.query_params.get("entree") or None

        found = await self.pages.db(lambda session: history(session, entry_id))
        # What each save changed is read from its texts, off the database: the chats need it meanwhile.
        said = await run_in_threadpool(lambda: [self._changes_of(revision) for revision in found])
        revisions = [
            {
                "id": revision.id,
                "entry_id": revision.entry_id,
                "question": self._question_of(revision.entry_id),
                "author": revision.author_name,
                "when": show_date_time(revision.saved_at),
                "restore": revision.restored_from_id,
                "changes": lines,
            }
            for revision, lines in zip(found, said, strict=True)
        ]
        return self.pages.render(
            "faq_history.html", "Historique de la FAQ", staff, revisions=revisions, entry_id=entry_id
        )

    def _changes_of(self, revision: FaqRevision) -> list[str]:
        """Say what a save changed, a short line per field (kept: a revision never changes)."""
        with self._changes_lock:
            said = self._changes_said.get(revision.id)
        if said is None:
            said = say_changes(changes(revision))
            with self._changes_lock:
                if len(self._changes_said) >= CHANGES_REMEMBERED:
                    self._changes_said.pop(next(iter(self._changes_said)), None)
                self._changes_said[revision.id] = said
        return said

    def _question_of(self, entry_id: str) -> str:
        entry = self.context.faq.base.get(entry_id)
        return entry.question if entry else entry_id

    async def restore(self, request: Request) -> Response:
        """Bring a question back to what it was before a save (admins; the restore is itself a save)."""
        checked = await self.pages.acting(request, admins_only="Modifier la FAQ")
        if isinstance(checked, Response):
            return checked
        staff, _form = checked
        revision_id = request.path_params["revision_id"]

        def work(session: Session) -> tuple[Saved, str | None]:
            author = session.get(User, staff.user_id)
            assert author is not None
            revision = session.get(FaqRevision, revision_id)
            saved = restore(
                session,
                self.context.faq,
                author,
                revision_id,
                languages=self.context.settings.faq_language_codes,
                now=self.context.clock.now(),
            )
            return saved, revision.entry_id if revision else None

        (saved, entry_id), _reloaded = await self.pages.save(work)
        if saved.refusal or saved.errors:
            reason = saved.refusal or "; ".join(problem.message for problem in saved.errors)
            return self.pages.message(
                "Pas restauré",
                f"Cette version n'a pas été remise : {reason}.",
                staff=staff,
                status=409,
                error=True,
                back=f"{self.context.prefix}/faq/historique",
            )
        return RedirectResponse(f"{self.context.prefix}/faq/entree/{entry_id}?enregistre=1", status_code=303)
