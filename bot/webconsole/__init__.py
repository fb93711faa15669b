"""The staff console: web pages for admins and social workers, mounted at /console.

Served by `cisp-bot run` beside the webhooks, and by `cisp-bot console` alone. Pages are rendered on the
server (Jinja2) and work without JavaScript.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.common.clock import Clock
from bot.config import Settings
from bot.core.turn import Services
from bot.features import console_access
from bot.features.faq import FAQ, FaqService
from bot.webconsole.agenda_pages import AgendaPages
from bot.webconsole.faq_pages import FaqEditing, FaqPages
from bot.webconsole.hours_pages import HoursPages
from bot.webconsole.learning_pages import LearningPages
from bot.webconsole.pages import ConsoleContext, Pages
from bot.webconsole.request_pages import RequestPages
from bot.webconsole.security import Keys, console_secret
from bot.webconsole.session_pages import SessionPages
from bot.webconsole.stats_pages import StatsPages

STATIC_DIR = Path(__file__).parent / "static"


def console_routes(
    settings: Settings,
    session_factory: sessionmaker[Session],
    clock: Clock,
    faq: FaqService,
    services: Services | None = None,
) -> list[BaseRoute]:
    """Return the console's routes, under /console (services: the running bot's, shared)."""
    services = services or Services(settings, clock, {FAQ: faq})
    max_age = console_access.SESSION_HOURS * 3600
    context = ConsoleContext(settings, session_factory, clock, faq, Keys(console_secret(settings), max_age))
    pages = Pages(context)
    faq_pages = FaqPages(pages)
    editing = FaqEditing(pages)
    learning = LearningPages(pages, editing)
    sessions = SessionPages(pages)
    requests = RequestPages(pages)
    agenda = AgendaPages(pages, services)
    hours = HoursPages(pages, services)
    stats = StatsPages(pages)
    routes: list[BaseRoute] = [
        Route("/", pages.home, methods=["GET"]),
        Route("/entrer", pages.login_page, methods=["GET"]),
        Route("/entrer", pages.login, methods=["POST"]),
        Route("/sortir", pages.logout, methods=["POST"]),
        Route("/faq", faq_pages.faq_list, methods=["GET"]),
        Route("/faq/tester", faq_pages.faq_test, methods=["GET"]),
        Route("/faq/entree/{entry_id}", faq_pages.faq_entry, methods=["GET"]),
        Route("/faq/entree/{entry_id}/modifier", editing.edit_form, methods=["GET"]),
        Route("/faq/entree/{entry_id}/modifier", editing.edit, methods=["POST"]),
        Route("/faq/historique", editing.history_page, methods=["GET"]),
        Route("/faq/nouvelle", learning.new_entry_form, methods=["GET"]),
        Route("/faq/nouvelle", learning.create, methods=["POST"]),
        Route("/questions", learning.overview, methods=["GET"]),
        Route("/questions/phrase/{number:int}/{verdict:str}", learning.decide_phrasing, methods=["POST"]),
        Route("/questions/ajouter", learning.add_to_entry, methods=["POST"]),
        Route("/questions/ecarter", learning.set_aside, methods=["POST"]),
        Route("/demandes", requests.overview, methods=["GET"]),
        Route("/demandes/{ticket_id:int}", requests.detail, methods=["GET"]),
        Route("/demandes/{ticket_id:int}/prendre", requests.take, methods=["POST"]),
        Route("/demandes/{ticket_id:int}/repondre", requests.answer, methods=["POST"]),
        Route("/demandes/{ticket_id:int}/terminer", requests.close, methods=["POST"]),
        Route("/agenda", agenda.overview, methods=["GET"]),
        Route("/agenda/{appointment_id:int}/{verb:str}", agenda.act, methods=["POST"]),
        Route("/horaires", hours.overview, methods=["GET"]),
        Route("/horaires/{worker_id:str}", hours.form, methods=["GET"]),
        Route("/horaires/{worker_id:str}", hours.save, methods=["POST"]),
        Route("/chiffres", stats.overview, methods=["GET"]),
        Route("/seances", sessions.overview, methods=["GET"]),
        Route("/seances/apercu", sessions.preview, methods=["POST"]),
        Route("/seances/importer", sessions.do_import, methods=["POST"]),
        Route("/faq/historique/{revision_id:int}/restaurer", editing.restore, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return [Mount(context.prefix, routes=routes)]
