"""The staff console in a real browser: Debian's Chromium, driven by Playwright, against a real server.

Skipped when Chromium is not installed (`.ci/run` installs it: `apt-get install chromium`); Playwright's
own browser download is never used. `UPDATE_SCREENSHOTS=1` writes the pages' pictures into docs/.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, ViewportSize, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from bot.app import build_conversation, build_services
from bot.channels.console import ConsoleChannel
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage, Reply
from bot.features import console_access
from bot.features.faq import FaqService
from bot.storage.db import unit_of_work
from bot.storage.models import Role
from bot.storage.staff import add_staff
from bot.webconsole import console_routes
from tests.conftest import ROOT, SHIPPED_FAQ

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)"
)

DOCS = ROOT / "docs"
# A phone's screen: the console is made to be read there too.
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def faq(tmp_path: Path) -> FaqService:
    """The shipped FAQ, in a folder of the test's own: the console writes to it."""
    shutil.copytree(SHIPPED_FAQ, tmp_path / "faq")
    return FaqService(tmp_path / "faq")


@pytest.fixture
def server(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, faq: FaqService
) -> Iterator[tuple[str, Settings]]:
    """Serve the console on a free port of this machine, in a thread; yield its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings.model_copy(update={"port": port})
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "111", "Claire", Role.SOCIAL_WORKER, clock.now())
        add_staff(session, "telegram", "222", "Karim", Role.ADMIN, clock.now())
    app = Starlette(routes=console_routes(settings, session_factory, clock, faq))
    web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not web.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", settings
    web.should_exit = True
    thread.join(10)


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport=PHONE, locale="fr-BE")
        yield context.new_page()
        context.close()
        browser.close()


def picture(page: Page, name: str, tmp_path: Path) -> None:
    """Keep a screenshot of the page: in the test's folder, and in docs/ when asked to update them."""
    folder = DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    page.screenshot(path=str(folder / f"console-{name}.png"), full_page=False)


def test_a_social_worker_logs_in_with_a_link_reads_the_faq_tests_a_question_and_logs_out(
    server: tuple[str, Settings],
    page: Page,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    address, settings = server
    with unit_of_work(session_factory) as session:
        [claire] = console_access.staff_named(session, "claire")
        link = console_access.create_login_link(session, claire, clock.now(), settings)
    page.goto(link)
    expect(page.get_by_text("Ce lien est pour Claire")).to_be_visible()
    picture(page, "entrer", tmp_path)
    page.get_by_role("button", name="Entrer dans la console").click()
    expect(page.get_by_text("Bonjour Claire. Que voulez-vous faire ?")).to_be_visible()
    picture(page, "accueil", tmp_path)

    page.get_by_role("link", name="La FAQ", exact=True).click()
    page.get_by_label("Chercher").fill("mot de passe")
    page.get_by_label("Chercher").press("Enter")
    results = page.get_by_role("status")
    expect(results).to_contain_text("sur 62")
    picture(page, "faq", tmp_path)
    page.get_by_role("link", name="J'ai oublié le mot de passe de mon adresse e-mail").first.click()
    expect(page.get_by_role("heading", name="Autres façons de demander")).to_be_visible()

    page.get_by_role("link", name="Tester une question").first.click()
    page.get_by_label("Un message, écrit comme").fill("mon ordi demare plu")
    page.get_by_role("button", name="Tester").click()
    expect(page.get_by_role("heading", name="Le bot répondrait")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("ordinateur.yaml")
    picture(page, "tester", tmp_path)

    # Keyboard only: the way out is reachable with Tab and Enter.
    page.get_by_role("button", name="Sortir").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Vous êtes sorti·e")).to_be_visible()
    page.goto(f"{address}/console/faq")
    expect(page.get_by_text("demandez un lien au bot")).to_be_visible()
    page.goto(link)
    expect(page.get_by_text("Ce lien a déjà servi")).to_be_visible()


def in_the_terminal(conversation: Conversation, lines: list[str]) -> str:
    """Type lines into the terminal chat (in a thread of its own) and return what it printed."""
    out = io.StringIO()
    channel = ConsoleChannel("samira", stdin=io.StringIO("".join(f"{line}\n" for line in lines)), stdout=out)

    async def on_message(message: IncomingMessage) -> list[Reply]:
        return conversation.handle(message)

    thread = threading.Thread(target=lambda: asyncio.run(channel.start(on_message)))
    thread.start()
    thread.join(30)
    return out.getvalue()


def test_an_admin_adds_a_phrasing_and_the_terminal_chat_answers_it(
    server: tuple[str, Settings],
    page: Page,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    faq: FaqService,
    tmp_path: Path,
) -> None:
    _, settings = server
    conversation = build_conversation(session_factory, build_services(settings, faq, clock))
    phrasing = "g pa dadresse electronique perso"
    before = in_the_terminal(conversation, ["/start", "1", "Samira", "Horticulture", phrasing])
    assert "Allez sur www.gmail.com" not in before
    with unit_of_work(session_factory) as session:
        [karim] = console_access.staff_named(session, "karim")
        link = console_access.create_login_link(session, karim, clock.now(), settings)
    page.goto(link)
    page.get_by_role("button", name="Entrer dans la console").click()
    page.get_by_role("link", name="La FAQ", exact=True).click()
    page.get_by_label("Chercher").fill("adresse e-mail")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("link", name="Comment créer une adresse e-mail ?").click()
    page.get_by_role("link", name="Modifier").click()
    alternatives = page.get_by_label("Autres façons de demander")
    alternatives.fill(alternatives.input_value() + "\n" + phrasing)
    page.get_by_label("Question", exact=True).fill("")
    page.get_by_role("button", name="Enregistrer").click()
    # A mistake first: said beside its field, nothing saved, what was typed kept.
    expect(page.locator("#question-error")).to_contain_text("Manquant ou vide")
    expect(page.get_by_label("Autres façons de demander")).to_have_value(re.compile(phrasing))
    picture(page, "modifier-erreur", tmp_path)
    page.get_by_label("Question", exact=True).fill("Comment créer une adresse e-mail ?")
    # Related questions: ticked by their question in a folded list, not typed as ids.
    page.get_by_text("2 cochées : choisir").click()
    spam = page.get_by_label("Je n'ai pas reçu un e-mail qu'on m'a envoyé, où est-il ?")
    spam.check()
    spam.scroll_into_view_if_needed()
    picture(page, "questions-liees", tmp_path)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Le bot répond déjà avec cette version.")).to_be_visible()
    related = faq.base.get("creer-adresse-email")
    assert related is not None and "email-non-recu-spam" in related.follow_ups
    after = in_the_terminal(conversation, [phrasing])
    assert "Allez sur www.gmail.com ou sur www.outlook.com." in after, after
    page.get_by_role("link", name="Historique").first.click()
    expect(page.get_by_role("table")).to_contain_text("Karim")
    picture(page, "historique", tmp_path)


def test_an_admin_previews_and_imports_the_sessions_and_a_worker_answers_a_request(
    server: tuple[str, Settings],
    page: Page,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    faq: FaqService,
    tmp_path: Path,
) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    from tests.integration.test_onboarding import onboarded

    _, settings = server
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["module", "début", "durée", "lieu", "filières", "formateur"])
    sheet.append(["Écrire son CV", datetime(2026, 11, 26, 9, 0), 120, "Salle 3", "Horticulture", "Nadia"])
    sheet.append(["Fête de fin d'année", datetime(2026, 12, 25, 14, 0), 60, "Cafétéria", "toutes", None])
    spreadsheet = tmp_path / "séances décembre.xlsx"
    book.save(spreadsheet)
    with unit_of_work(session_factory) as session:
        [karim] = console_access.staff_named(session, "karim")
        link = console_access.create_login_link(session, karim, clock.now(), settings)
    page.goto(link)
    page.get_by_role("button", name="Entrer dans la console").click()
    page.get_by_role("link", name="Séances", exact=True).click()
    page.get_by_label("Le tableau des séances").set_input_files(str(spreadsheet))
    page.get_by_role("button", name="Voir ce qui changera").click()
    expect(page.get_by_role("status")).to_contain_text("Si c'est bien ça : 2 nouvelle(s)")
    expect(page.get_by_role("alert")).to_contain_text("un jour où le centre est fermé")
    picture(page, "seances-apercu", tmp_path)
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("status")).to_contain_text("Importé.")
    expect(page.get_by_role("table")).to_contain_text("Écrire son CV")

    conversation = build_conversation(session_factory, build_services(settings, faq, clock))
    samira = onboarded(conversation, "samira")
    samira.script("""
        > Parler à quelqu'un
        > mon contrat
        > je dois signer lundi
    """)
    samira.received()
    page.get_by_role("button", name="Sortir").click()
    with unit_of_work(session_factory) as session:
        [claire] = console_access.staff_named(session, "claire")
        link = console_access.create_login_link(session, claire, clock.now(), settings)
    page.goto(link)
    page.get_by_role("button", name="Entrer dans la console").click()
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Demandes").click()
    page.get_by_role("link", name="n°1 · Samira").click()
    page.get_by_role("button", name="Prendre la demande").click()
    page.get_by_label("Votre réponse").fill("Venez avec le contrat lundi à 9 h.")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("status")).to_contain_text("signé de votre prénom")
    picture(page, "demande", tmp_path)
    relayed = " ".join(reply.text for reply in samira.received())
    assert "💬 Claire : Venez avec le contrat lundi à 9 h." in relayed, relayed
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Chiffres").click()
    expect(page.get_by_role("heading", name="Questions au bot")).to_be_visible()
    picture(page, "chiffres", tmp_path)
