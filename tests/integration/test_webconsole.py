"""The staff console through its routes (Starlette's TestClient), on both databases.

Logging in with a one-time link, the session cookie, CSRF, who may come in, and the FAQ pages.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage
from bot.features import console_access
from bot.features.faq import FaqService
from bot.storage.db import unit_of_work
from bot.storage.models import ConsoleSession, Role, User
from bot.storage.staff import add_staff
from bot.webconsole import console_routes
from bot.webconsole.security import COOKIE
from tests.conftest import SHIPPED_FAQ
from tests.dialogue import Chat

HERE = ("127.0.0.1", 50000)
ADDRESS = "http://127.0.0.1:8080"


@pytest.fixture
def web(session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock) -> Starlette:
    """The console over the shipped FAQ; Claire is a social worker, Karim an admin."""
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "111", "Claire", Role.SOCIAL_WORKER, clock.now())
        add_staff(session, "telegram", "222", "Karim", Role.ADMIN, clock.now())
    return Starlette(routes=console_routes(settings, session_factory, clock, FaqService(SHIPPED_FAQ)))


def client(web: Starlette, host: tuple[str, int] = HERE) -> TestClient:
    return TestClient(web, base_url=ADDRESS, client=host, follow_redirects=False)


def link_for(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, name: str
) -> str:
    with unit_of_work(session_factory) as session:
        [user] = console_access.staff_named(session, name)
        return console_access.create_login_link(session, user, clock.now(), settings)


def key_of(link: str) -> str:
    return link.split("cle=", 1)[1]


def logged_in(web: Starlette, link: str) -> TestClient:
    browser = client(web)
    response = browser.post("/console/entrer", data={"cle": key_of(link)})
    assert response.status_code == 303, response.text
    return browser


def sessions(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(ConsoleSession)) or 0


def shown(response: object) -> str:
    """Return a page's text as a reader sees it (entities such as &#39; read back)."""
    return html.unescape(response.text)  # type: ignore[attr-defined]


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_without_a_session_every_page_leads_to_the_login_page(web: Starlette) -> None:
    browser = client(web)
    for path in ["/console/", "/console/faq", "/console/faq/tester?q=wifi", "/console/faq/entree/wifi"]:
        response = browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/console/entrer"
    page = browser.get("/console/entrer")
    assert "écrivez /console au bot en message privé" in page.text
    assert browser.post("/console/sortir", data={"csrf": "x"}).status_code == 303


def test_a_link_opens_one_session_with_a_safe_cookie(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    link = link_for(session_factory, settings, clock, "claire")
    assert link.startswith(f"{ADDRESS}/console/entrer?cle=")
    browser = client(web)
    # Opening the link (a link preview does the same) shows a button; it does not use the link.
    page = browser.get(link.removeprefix(ADDRESS))
    assert page.status_code == 200
    assert "Ce lien est pour Claire" in page.text
    assert sessions(session_factory) == 0
    response = browser.post("/console/entrer", data={"cle": key_of(link)})
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ["HttpOnly", "SameSite=lax", "Path=/console", "Max-Age=36000"]:
        assert flag in cookie, cookie
    assert key_of(link) not in cookie
    home = browser.get("/console/")
    assert home.status_code == 200
    assert "Bonjour Claire" in home.text and "assistant·e social·e" in home.text
    assert home.headers["cache-control"] == "no-store"
    assert sessions(session_factory) == 1


def test_a_used_or_expired_link_is_refused_and_opens_nothing(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    link = link_for(session_factory, settings, clock, "claire")
    logged_in(web, link)
    again = client(web).post("/console/entrer", data={"cle": key_of(link)})
    assert again.status_code == 400
    assert "Ce lien a déjà servi, ou il a plus de 10 minutes." in again.text
    late = link_for(session_factory, settings, clock, "claire")
    clock.advance(timedelta(minutes=10, seconds=1))
    assert client(web).get(late.removeprefix(ADDRESS)).status_code == 400
    assert client(web).post("/console/entrer", data={"cle": key_of(late)}).status_code == 400
    assert client(web).post("/console/entrer", data={"cle": "invented"}).status_code == 400
    assert client(web).post("/console/entrer", data={}).status_code == 400
    assert sessions(session_factory) == 1


def test_a_forged_or_old_cookie_is_not_a_session(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    forged = client(web)
    forged.cookies.set(COOKIE, "made-up.value.abc", domain="127.0.0.1", path="/console")
    assert forged.get("/console/").status_code == 303
    browser = logged_in(web, link_for(session_factory, settings, clock, "karim"))
    assert browser.get("/console/").status_code == 200
    clock.advance(timedelta(hours=console_access.SESSION_HOURS, seconds=1))
    assert browser.get("/console/").status_code == 303


def test_someone_no_longer_staff_is_shown_out(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    link = link_for(session_factory, settings, clock, "claire")
    browser = logged_in(web, link_for(session_factory, settings, clock, "claire"))
    with unit_of_work(session_factory) as session:
        claire = session.scalars(select(User).where(User.first_name == "Claire")).one()
        claire.role = Role.TRAINEE.value
        with pytest.raises(ValueError):
            console_access.create_login_link(session, claire, clock.now(), settings)
    assert browser.get("/console/faq").status_code == 303
    assert client(web).post("/console/entrer", data={"cle": key_of(link)}).status_code == 400


def test_logging_out_needs_the_forms_token_and_ends_the_session(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    browser = logged_in(web, link_for(session_factory, settings, clock, "claire"))
    token = csrf_of(browser.get("/console/").text)
    for form, headers in [
        ({}, {}),
        ({"csrf": "forged"}, {}),
        ({"csrf": token}, {"origin": "https://evil.example"}),
    ]:
        refused = browser.post("/console/sortir", data=form, headers=headers)
        assert refused.status_code == 403, form
        assert "Rien n'a été changé" in shown(refused)
        assert sessions(session_factory) == 1
    out = browser.post("/console/sortir", data={"csrf": token}, headers={"origin": ADDRESS})
    assert out.status_code == 200 and "Vous êtes sorti·e" in out.text
    assert sessions(session_factory) == 0
    assert browser.get("/console/").status_code == 303


def test_guessing_links_is_slowed_down_without_locking_out_a_real_link(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    guesser = client(web)
    for attempt in range(console_access.MAX_ATTEMPTS):
        assert guesser.post("/console/entrer", data={"cle": f"guess-{attempt}"}).status_code == 400
    blocked = guesser.post("/console/entrer", data={"cle": "one-more-guess"})
    assert blocked.status_code == 429 and "Réessayez dans 10 minutes" in blocked.text
    # Behind the centre's one address, a colleague with a real link still gets in.
    good = link_for(session_factory, settings, clock, "claire")
    assert guesser.get(good.removeprefix(ADDRESS)).status_code == 200
    assert guesser.post("/console/entrer", data={"cle": key_of(good)}).status_code == 303
    clock.advance(console_access.ATTEMPT_WINDOW)
    assert guesser.post("/console/entrer", data={"cle": "later-guess"}).status_code == 400
    with session_factory() as session:
        stored = session.scalars(select(console_access.ConsoleAttempt.source_hash)).all()
    assert stored and all("127.0.0.1" not in source for source in stored)


def test_one_link_opens_one_session_even_when_used_twice_at_once(
    engine: Engine,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite takes its write lock at BEGIN: two redeems cannot even overlap")
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "111", "Claire", Role.SOCIAL_WORKER, clock.now())
    key = key_of(link_for(session_factory, settings, clock, "claire"))
    both_read = threading.Barrier(2, timeout=10)
    read = console_access.usable_link

    def read_then_wait(session: Session, token: str, now: datetime) -> object:
        found = read(session, token, now)
        both_read.wait()  # both requests have seen the link unused
        return found

    monkeypatch.setattr(console_access, "usable_link", read_then_wait)

    def redeem() -> bool:
        with unit_of_work(session_factory) as session:
            return console_access.redeem_link(session, key, clock.now()) is not None

    with ThreadPoolExecutor(2) as pool:
        opened = list(pool.map(lambda _: redeem(), range(2)))
    assert sorted(opened) == [False, True]
    assert sessions(session_factory) == 1


def test_a_request_to_another_host_is_refused_without_public_url(web: Starlette) -> None:
    # A tunnel or a page of another site (DNS rebinding) reaching the console by another name.
    response = client(web).get("/console/entrer", headers={"host": "evil.example:8080"})
    assert response.status_code == 403


def test_without_public_url_only_this_machine_gets_in(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, web: Starlette
) -> None:
    link = link_for(session_factory, settings, clock, "claire")
    outsider = client(web, ("192.168.1.20", 40000))
    refused = outsider.get(link.removeprefix(ADDRESS))
    assert refused.status_code == 403 and "PUBLIC_URL" in refused.text
    published = settings.model_copy(update={"public_url": "https://bot.example.be"})
    app = Starlette(routes=console_routes(published, session_factory, clock, FaqService(SHIPPED_FAQ)))
    # Behind the proxy: its Host may be rewritten, the Origin is the public site's.
    behind = client(app, ("192.168.1.20", 40000))
    headers = {"origin": "https://bot.example.be", "host": "127.0.0.1:8080"}
    response = behind.post("/console/entrer", data={"cle": key_of(link)}, headers=headers)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]
    assert link_for(session_factory, published, clock, "karim").startswith("https://bot.example.be/console/")


def test_the_faq_by_theme_and_by_words(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    browser = logged_in(web, link_for(session_factory, settings, clock, "claire"))
    everything = browser.get("/console/faq").text
    assert "62 questions sur 62." in everything
    for theme in ["Comptes", "Emploi", "Formation", "Ordinateur"]:
        assert f"<h2>{theme}</h2>" in everything
    wifi = browser.get("/console/faq", params={"q": "wi-fi"}).text
    assert "Comment me connecter au Wi-Fi" in wifi and "Comment créer une adresse e-mail" not in wifi
    one_theme = browser.get("/console/faq", params={"theme": "emploi.yaml"}).text
    assert "<h2>Emploi</h2>" in one_theme and "<h2>Ordinateur</h2>" not in one_theme
    nothing = browser.get("/console/faq", params={"q": "zzzqqq"}).text
    assert "Aucune question ne correspond" in nothing
    escaped = browser.get("/console/faq", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert" not in escaped and "&lt;script&gt;" in escaped


def test_an_entry_whole_and_a_missing_one(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    browser = logged_in(web, link_for(session_factory, settings, clock, "claire"))
    entry = browser.get("/console/faq/entree/creer-adresse-email").text
    assert "Comment créer une adresse e-mail ?" in entry
    assert "<li>Je n&#39;ai pas encore de boîte mail.</li>" in entry
    assert "<li>Allez sur www.gmail.com ou sur www.outlook.com.</li>" in entry
    assert "Réponse (néerlandais)" in entry and "Ga naar www.gmail.com" in entry
    assert "Réponse (anglais)" in entry
    missing = browser.get("/console/faq/entree/plus-la")
    assert missing.status_code == 404 and "n'est plus dans la FAQ" in shown(missing)


def test_testing_a_question_shows_the_decision_and_the_closest_entries(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    browser = logged_in(web, link_for(session_factory, settings, clock, "claire"))
    assert "<section" not in browser.get("/console/faq/tester").text
    page = browser.get("/console/faq/tester", params={"q": "mon ordi demare plu"}).text
    assert "Le bot répondrait" in page
    assert 'href="/console/faq/entree/ordinateur-ne-demarre-pas"' in page
    assert page.count("<tr><td>") == 5
    booking = browser.get("/console/faq/tester", params={"q": "je veux un rdv"}).text
    assert "une demande de rendez-vous" in booking
    huge = browser.get("/console/faq/tester", params={"q": "wifi " * 2000})
    assert huge.status_code == 200


def test_the_bot_gives_a_link_in_private_never_in_the_staff_group(
    web: Starlette,
    conversation: Conversation,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
) -> None:
    with unit_of_work(session_factory) as session:
        add_staff(session, "console", "lea", "Léa", Role.SOCIAL_WORKER, clock.now())
    lea = Chat(conversation, "lea")
    lea.script("""
        > /console
        < Votre lien vers la console : http://127.0.0.1:8080/console/entrer?cle=
        < Il marche une seule fois, pendant 10 minutes.
    """)
    link = lea.text.split("console : ", 1)[1].split()[0]
    assert logged_in(web, link).get("/console/").text.count("Bonjour Léa") == 1
    [in_group] = conversation.handle(IncomingMessage("console", "lea", text="/console", chat_id="-100"))
    assert "message privé" in in_group.text and "cle=" not in in_group.text
    trainee = Chat(conversation, "samira")
    trainee.script("""
        > /console
    """)
    assert "cle=" not in trainee.text


def test_no_key_of_a_link_or_a_session_is_ever_logged(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    link = link_for(session_factory, settings, clock, "claire")
    browser = client(web)
    browser.get(link.removeprefix(ADDRESS))
    response = browser.post("/console/entrer", data={"cle": key_of(link)})
    browser.get("/console/faq")
    browser.post("/console/entrer", data={"cle": key_of(link)})  # refused, logged
    token = csrf_of(browser.get("/console/").text)
    browser.post("/console/sortir", data={"csrf": token})
    secrets = [key_of(link), token, response.cookies.get(COOKIE) or "cookie?"]
    # The bot's own log lines; httpx's are the test client's (the bot keeps them at WARNING).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "console session opened" in logged and "console login refused" in logged
    for secret in secrets:
        assert secret not in logged


def test_the_secret_is_made_once_and_kept_private(settings: Settings) -> None:
    from bot.webconsole.security import SECRET_FILE, console_secret

    first = console_secret(settings)
    path = Path(settings.state_dir) / SECRET_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert console_secret(settings) == first and len(first) == 64
    given = settings.model_copy(update={"console_secret": SecretStr("from-the-environment")})
    assert console_secret(given) == "from-the-environment"
