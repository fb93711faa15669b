"""The console's plumbing and first pages: rendering, sessions, CSRF, logging in and out, the home page.

Every page but the login asks for a live session; every form that changes something carries the
session's CSRF token and comes from this site. Database work runs off the event loop (or on it for
SQLite, as the conversation does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.common.clock import Clock
from bot.config import Settings
from bot.features import console_access
from bot.features.faq import FaqService
from bot.features.faq_editing import Reloaded, save_then_reload
from bot.storage.db import runs_inline, unit_of_work
from bot.storage.models import Role, User
from bot.webconsole.security import (
    COOKIE,
    Keys,
    addressed_locally,
    from_this_machine,
    same_origin,
    same_token,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Marks a form of this site sent with an older token (see Pages.acting): shown again, never acted on.
STALE_TOKEN = "_stale_token"

ROLE_LABELS = {Role.ADMIN.value: "admin", Role.SOCIAL_WORKER.value: "assistant·e social·e"}


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


def text_fields(form: FormData) -> dict[str, str]:
    """Return a form's text fields; one sent several times (ticked boxes) as its values, comma-separated."""
    texts = {key: [value for value in form.getlist(key) if isinstance(value, str)] for key in form}
    return {key: ", ".join(values) for key, values in texts.items() if values}


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

    # -- plumbing ---------------------------------------------------------------------------------

    async def db(self, work: Callable[[Session], T], *, slow: bool = False) -> T:
        """Run work in one unit of work, off the event loop unless the database is SQLite.

        slow: the work does more than queries (files written, the FAQ reloaded): always off the loop.
        """

        def run() -> T:
            with unit_of_work(self.context.session_factory) as session:
                return work(session)

        if runs_inline(self.context.session_factory) and not slow:
            return run()
        return await run_in_threadpool(run)

    async def save(self, work: Callable[[Session], T]) -> tuple[T, Reloaded]:
        """Run FAQ saves in one unit of work off the event loop, then reload the bot's FAQ after it."""
        return await run_in_threadpool(save_then_reload, self.context.session_factory, self.context.faq, work)

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
        """Refuse a visitor from another machine when the console is not published (no PUBLIC_URL).

        The address must be this machine's too (Host): a local proxy or tunnel forwarding others, or a
        web page playing DNS tricks, does not make the console public.
        """
        if self.context.settings.public_url or (from_this_machine(request) and addressed_locally(request)):
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

        return await self.db(read)

    async def guarded(self, request: Request) -> Staff | Response:
        """Return the page's staff member, or the answer for a visitor who may not see it."""
        refused = self.refused_here(request)
        if refused is not None:
            return refused
        staff = await self.staff_of(request)
        if staff is None:
            return RedirectResponse(f"{self.context.prefix}/entrer", status_code=303)
        return staff

    async def acting(
        self, request: Request, *, admins_only: str | None = None, keep_typed: bool = False
    ) -> tuple[Staff, dict[str, str]] | Response:
        """Return who sends a form and its fields, or the refusal: no session, not an admin, no CSRF token.

        admins_only: what only admins may do, said to anyone else ("Modifier la FAQ").
        keep_typed: a form of this site whose token is only older than the session (another login since)
        is given back marked STALE_TOKEN, for the page to show the text typed again and save nothing.
        """
        staff = await self.guarded(request)
        if isinstance(staff, Response):
            return staff
        if admins_only is not None and not staff.is_admin:
            return self.admins_only(staff, admins_only)
        if not keep_typed:
            form = await self.checked_form(request, staff)
            return form if isinstance(form, Response) else (staff, form)
        sent = await request.form()
        values = text_fields(sent)
        # Typed text is shown back only to a page that says it is of this site (every browser that
        # keeps a session cookie sends Origin with a form): never to a form from elsewhere.
        named = request.headers.get("origin") is not None
        if (
            named
            and same_origin(request, self.context.settings.public_url)
            and not same_token(values.get("csrf"), staff.csrf)
        ):
            log.warning("console form with an older token: given back, nothing saved")
            return staff, {**values, STALE_TOKEN: "1"}
        refusal = self.csrf_refusal(request, staff, values.get("csrf"))
        return (staff, values) if refusal is None else refusal

    def admins_only(self, staff: Staff, what: str) -> Response:
        """Say that what the staff member asked is for admins."""
        return self.message(
            "Réservé aux admins",
            f"{what} est réservé aux admins : demandez à un·e admin de le faire.",
            staff=staff,
            status=403,
            error=True,
            back=f"{self.context.prefix}/",
        )

    async def checked_form(self, request: Request, staff: Staff) -> dict[str, str] | Response:
        """Return a form sent by this site with the session's CSRF token, or the refusal."""
        form = await request.form()
        values = text_fields(form)
        refusal = self.csrf_refusal(request, staff, values.get("csrf"))
        return values if refusal is None else refusal

    def csrf_refusal(self, request: Request, staff: Staff, token: str | None) -> Response | None:
        """Refuse a form that does not come from this site or lacks the session's CSRF token."""
        if same_origin(request, self.context.settings.public_url) and same_token(token, staff.csrf):
            return None
        log.warning("console form refused: missing or wrong CSRF token")
        return self.message(
            "Formulaire refusé",
            "Ce formulaire est trop ancien ou ne vient pas de la console. Rien n'a été changé.",
            staff=staff,
            status=403,
            error=True,
            back=f"{self.context.prefix}/",
        )

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
            # A valid link always opens (its key cannot be guessed); only refused ones are slowed down,
            # so that one guesser behind the centre's shared address locks out nobody with a link.
            link = console_access.usable_link(session, key, now)
            if link is None:
                return self._refused_link(session, source, now)
            user = session.get(User, link.user_id)
            return user.first_name or "?" if user else "?"

        checked = await self.db(check)
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
        if not isinstance(key, str) or not same_origin(request, self.context.settings.public_url):
            return self._dead_link()
        now, source = self.context.clock.now(), self.context.keys.source(request)

        def redeem(session: Session) -> console_access.OpenedSession | Response:
            opened = console_access.redeem_link(session, key, now)
            return opened if opened is not None else self._refused_link(session, source, now)

        opened = await self.db(redeem)
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

    def _refused_link(self, session: Session, source: str, now: datetime) -> HTMLResponse:
        """Count a refused link; past the limit, say to wait instead of how to get a new link."""
        if console_access.too_many_attempts(session, source, now):
            return self._too_many()
        console_access.note_refused_attempt(session, source, now)
        return self._dead_link()

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
        checked = await self.acting(request)
        if isinstance(checked, Response):
            return checked
        staff, _form = checked
        token = self.context.keys.session_token(request)
        if token is not None:
            await self.db(lambda session: console_access.end_session(session, token))
        log.info("console session ended by staff member %d", staff.user_id)
        response = self.message("Vous êtes sorti·e", "À bientôt ! Pour revenir, demandez un lien au bot.")
        response.delete_cookie(COOKIE, path=self.context.prefix)
        return response

    # -- pages ------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        """Show what the staff member can do here."""
        staff = await self.guarded(request)
        if isinstance(staff, Response):
            return staff
        return self.render("home.html", "Accueil", staff, entries=len(self.context.faq.base))
