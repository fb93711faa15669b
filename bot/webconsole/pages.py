"""The console's pages: logging in and out, the home page, the FAQ read and tested.

Every page but the login asks for a live session; every form that changes something carries the
session's CSRF token and comes from this site. Database work runs off the event loop (or on it for
SQLite, as the conversation does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.common.clock import Clock
from bot.common.text import fold
from bot.config import Settings
from bot.faq.loader import FaqBase, FaqEntry
from bot.features import console_access
from bot.features.faq import FaqService
from bot.features.intents import Intent
from bot.features.understand import DecisionKind, understand
from bot.storage.db import runs_inline, unit_of_work
from bot.storage.models import Role, User
from bot.webconsole.security import COOKIE, Keys, from_this_machine, same_origin, same_token

log = logging.getLogger(__name__)

T = TypeVar("T")

ROLE_LABELS = {Role.ADMIN.value: "admin", Role.SOCIAL_WORKER.value: "assistant·e social·e"}
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


@dataclass(frozen=True)
class ConsoleContext:
    """What the console needs from the running bot."""

    settings: Settings
    session_factory: sessionmaker[Session]
    clock: Clock
    faq: FaqService
    keys: Keys
    # The path the console is mounted at ("/console").
    prefix: str = console_access.CONSOLE_PATH


@dataclass(frozen=True)
class Staff:
    """The staff member of a page's session."""

    user_id: int
    name: str
    role: str
    csrf: str

    @property
    def role_label(self) -> str:
        """Return the role in plain words."""
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_admin(self) -> bool:
        """Say whether this staff member may change everything."""
        return self.role == Role.ADMIN.value


class Pages:
    """The console's request handlers, over one context."""

    def __init__(self, context: ConsoleContext) -> None:
        self.context = context
        self.templates = Environment(
            loader=PackageLoader("bot.webconsole", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._search_cache: tuple[FaqBase, list[str]] | None = None

    # -- plumbing ---------------------------------------------------------------------------------

    async def _db(self, work: Callable[[Session], T]) -> T:
        """Run work in one unit of work, off the event loop unless the database is SQLite."""

        def run() -> T:
            with unit_of_work(self.context.session_factory) as session:
                return work(session)

        if runs_inline(self.context.session_factory):
            return run()
        return await run_in_threadpool(run)

    def render(
        self, template_name: str, title: str, staff: Staff | None = None, status: int = 200, **values: Any
    ) -> HTMLResponse:
        """Render a page of the console."""
        template = self.templates.get_template(template_name)
        html = template.render(
            title=title,
            centre=self.context.settings.centre_name,
            prefix=self.context.prefix,
            staff=staff,
            csrf=staff.csrf if staff else "",
            **values,
        )
        response = HTMLResponse(html, status_code=status)
        # Pages hold staff data: never kept by a shared cache, never framed by another site.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        # A login page's address holds its key: never sent to another site ("no-referrer" would make
        # the browser send "Origin: null" with this site's own forms).
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
        return response

    def message(
        self, title: str, message: str, *, status: int = 200, error: bool = False, **values: Any
    ) -> HTMLResponse:
        """Render a page that says one thing."""
        return self.render("message.html", title, status=status, message=message, error=error, **values)

    def refused_here(self, request: Request) -> Response | None:
        """Refuse a visitor from another machine when the console is not published (no PUBLIC_URL)."""
        if self.context.settings.public_url or from_this_machine(request):
            return None
        return self.message(
            "Console fermée",
            "La console ne s'ouvre que sur la machine du bot tant que PUBLIC_URL n'est pas réglé.",
            status=403,
            error=True,
        )

    async def staff_of(self, request: Request) -> Staff | None:
        """Return the staff member of the request's session cookie, or None."""
        token = self.context.keys.session_token(request)
        if token is None:
            return None
        now = self.context.clock.now()

        def read(session: Session) -> Staff | None:
            found = console_access.session_of(session, token, now)
            if found is None:
                return None
            console_session, user = found
            return Staff(user.id, user.first_name or "?", user.role, console_session.csrf_token)

        return await self._db(read)

    async def guarded(self, request: Request) -> Staff | Response:
        """Return the page's staff member, or the answer for a visitor who may not see it."""
        refused = self.refused_here(request)
        if refused is not None:
            return refused
        staff = await self.staff_of(request)
        if staff is None:
            return RedirectResponse(f"{self.context.prefix}/entrer", status_code=303)
        return staff

    async def checked_form(self, request: Request, staff: Staff) -> dict[str, str] | Response:
        """Return a form sent by this site with the session's CSRF token, or the refusal."""
        form = await request.form()
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        if not same_origin(request) or not same_token(values.get("csrf"), staff.csrf):
            log.warning("console form refused: missing or wrong CSRF token")
            return self.message(
                "Formulaire refusé",
                "Ce formulaire est trop ancien ou ne vient pas de la console. Rien n'a été changé.",
                staff=staff,
                status=403,
                error=True,
                back=f"{self.context.prefix}/",
            )
        return values

    # -- logging in and out -----------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        """Show the "Entrer" button for a valid link; explain how to get one otherwise."""
        refused = self.refused_here(request)
        if refused is not None:
            return refused
        key = request.query_params.get("cle", "")
        if not key:
            return self.message(
                "Entrer dans la console",
                "Pour entrer, demandez un lien au bot : écrivez /console au bot en message privé.",
                hint="Le lien marche une seule fois, pendant 10 minutes.",
            )
        now, source = self.context.clock.now(), self.context.keys.source(request)

        def check(session: Session) -> str | Response:
            if console_access.too_many_attempts(session, source, now):
                return self._too_many()
            link = console_access.usable_link(session, key, now)
            if link is None:
                console_access.note_refused_attempt(session, source, now)
                return self._dead_link()
            user = session.get(User, link.user_id)
            return user.first_name or "?" if user else "?"

        checked = await self._db(check)
        if isinstance(checked, Response):
            return checked
        return self.render("login.html", "Entrer dans la console", person=checked, key=key)

    async def login(self, request: Request) -> Response:
        """Use the link: open the session, set its cookie and go to the home page."""
        refused = self.refused_here(request)
        if refused is not None:
            return refused
        form = await request.form()
        key = form.get("cle")
        if not isinstance(key, str) or not same_origin(request):
            return self._dead_link()
        now, source = self.context.clock.now(), self.context.keys.source(request)

        def redeem(session: Session) -> console_access.OpenedSession | Response:
            if console_access.too_many_attempts(session, source, now):
                return self._too_many()
            opened = console_access.redeem_link(session, key, now)
            if opened is None:
                console_access.note_refused_attempt(session, source, now)
                return self._dead_link()
            return opened

        opened = await self._db(redeem)
        if isinstance(opened, Response):
            return opened
        response = RedirectResponse(f"{self.context.prefix}/", status_code=303)
        response.set_cookie(
            COOKIE,
            self.context.keys.cookie_value(opened.token),
            max_age=int(timedelta(hours=console_access.SESSION_HOURS).total_seconds()),
            path=self.context.prefix,
            httponly=True,
            samesite="lax",
            secure=(self.context.settings.public_url or "").startswith("https://"),
        )
        return response

    def _dead_link(self) -> HTMLResponse:
        return self.message(
            "Ce lien ne marche plus",
            "Ce lien a déjà servi, ou il a plus de 10 minutes.",
            hint="Demandez-en un nouveau : écrivez /console au bot en message privé.",
            status=400,
            error=True,
        )

    def _too_many(self) -> HTMLResponse:
        return self.message(
            "Trop d'essais",
            "Trop de liens refusés depuis cette adresse. Réessayez dans 10 minutes.",
            status=429,
            error=True,
        )

    async def logout(self, request: Request) -> Response:
        """End the session everywhere and forget the cookie."""
        staff = await self.guarded(request)
        if isinstance(staff, Response):
            return staff
        form = await self.checked_form(request, staff)
        if isinstance(form, Response):
            return form
        token = self.context.keys.session_token(request)
        if token is not None:
            await self._db(lambda session: console_access.end_session(session, token))
        log.info("console session ended by staff member %d", staff.user_id)
        response = self.message("Vous êtes sorti·e", "À bientôt ! Pour revenir, demandez un lien au bot.")
        response.delete_cookie(COOKIE, path=self.context.prefix)
        return response

    def _searchable(self, base: FaqBase) -> list[str]:
        """Return the entries' searchable texts, folded once per FAQ loaded (a reload makes a new base)."""
        cached = self._search_cache
        if cached is None or cached[0] is not base:
            cached = (base, [_searchable_text(entry) for entry in base.entries])
            self._search_cache = cached
        return cached[1]

    # -- pages ------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        """Show what the staff member can do here."""
        staff = await self.guarded(request)
        if isinstance(staff, Response):
            return staff
        return self.render("home.html", "Accueil", staff, entries=len(self.context.faq.base))

    async def faq_list(self, request: Request) -> Response:
        """List the FAQ by theme (its file), filtered by words and theme."""
        staff = await self.guarded(request)
        if isinstance(staff, Response):
            return staff
        query = request.query_params.get("q", "")[:200]
        theme = request.query_params.get("theme", "")
        base = self.context.faq.base
        entries = base.entries
        themes = sorted({entry.source for entry in entries})
        words = fold(query).split()
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
        return self.render(
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
        staff = await self.guarded(request)
        if isinstance(staff, Response):
            return staff
        entry = self.context.faq.base.get(request.path_params["entry_id"])
        if entry is None:
            return self.message(
                "Question introuvable",
                "Cette question n'est plus dans la FAQ (elle a pu être renommée ou retirée).",
                staff=staff,
                status=404,
                error=True,
                back=f"{self.context.prefix}/faq",
            )
        answers = [("", entry.steps_in(None))]
        languages = [code for code, _ in entry.translations] + [code for code, _ in entry.translated_steps]
        for code in dict.fromkeys(languages):
            answers.append((LANGUAGE_NAMES.get(code, code), entry.steps_in(code)))
        return self.render(
            "faq_entry.html",
            entry.question,
            staff,
            entry=entry,
            theme=theme_label(entry.source),
            answers=answers,
        )

    async def faq_test(self, request: Request) -> Response:
        """Show what the bot would answer to a message, with the closest entries and their scores."""
        staff = await self.guarded(request)
        if isinstance(staff, Response):
            return staff
        query = request.query_params.get("q", "")[:MAX_TEST_CHARS]
        result = await run_in_threadpool(_tested, self.context.faq, query) if query.strip() else None
        return self.render("test.html", "Tester une question", staff, query=query, result=result)


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


def theme_label(source: str) -> str:
    """Name a theme by its file ("ordinateur.yaml" -> "Ordinateur")."""
    stem = source.rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
    return stem.replace("-", " ").replace("_", " ").capitalize()


def _searchable_text(entry: FaqEntry) -> str:
    """Return what a search looks in: the entry's id, question, phrasings, keywords and answer, folded."""
    return fold(
        " ".join((entry.id, entry.question, *entry.alternatives, *entry.keywords, *entry.steps, entry.answer))
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
