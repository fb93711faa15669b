"""Requests to talk to a person, answered from the console: the trainee reads it as from Telegram."""

from __future__ import annotations

import html

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.features.faq import FaqService
from bot.storage.db import unit_of_work
from bot.storage.models import Role, Ticket
from bot.storage.staff import add_staff
from tests.dialogue import Chat
from tests.integration.test_onboarding import onboarded
from tests.integration.test_webconsole_faq_edit import browser_of, faq, faq_dir, form_of, web

__all__ = ["faq", "faq_dir", "web"]  # fixtures shared with the edit tests


def a_request(
    session_factory: sessionmaker[Session], settings: Settings, faq: FaqService, clock: FrozenClock
) -> Chat:
    conversation = build_conversation(session_factory, build_services(settings, faq, clock))
    samira = onboarded(conversation, "samira")
    samira.script("""
        > Parler à quelqu'un
        > mon contrat
        > je dois signer lundi
    """)
    return samira


def test_a_social_worker_takes_answers_and_closes_a_request_from_the_console(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    faq: FaqService,
    clock: FrozenClock,
) -> None:
    samira = a_request(session_factory, settings, faq, clock)
    samira.received()  # what the bot said while opening it
    claire = browser_of(web, session_factory, settings, clock, "claire")
    listed = html.unescape(claire.get("/console/demandes").text)
    assert "n°1 · Samira</strong> (Horticulture)" in listed and "« mon contrat »" in listed
    assert "personne ne l'a encore prise" in listed
    page = html.unescape(claire.get("/console/demandes/1").text)
    assert "je dois signer lundi" in page and "Prendre la demande" in page and "Votre réponse" not in page
    token = form_of(page)["csrf"]
    taken = claire.post("/console/demandes/1/prendre", data={"csrf": token})
    assert taken.status_code == 303 and taken.headers["location"] == "/console/demandes/1?fait=prise"
    samira.script("""
        > (received)
        < Claire a pris votre demande.
    """)
    page = html.unescape(claire.get("/console/demandes/1?fait=prise").text)
    assert "C'est vous qui suivez cette demande" in page and "Votre réponse" in page
    sent = claire.post(
        "/console/demandes/1/repondre", data={"csrf": token, "message": "Venez avec le contrat lundi à 9 h."}
    )
    assert sent.headers["location"] == "/console/demandes/1?fait=envoye"
    samira.script("""
        > (received)
        < 💬 Claire : Venez avec le contrat lundi à 9 h.
        [Retour au robot]
        > merci, j'arrive
    """)
    page = html.unescape(claire.get("/console/demandes/1").text)
    assert "Venez avec le contrat lundi à 9 h." in page and "merci, j'arrive" in page
    empty = claire.post("/console/demandes/1/repondre", data={"csrf": token, "message": "   "})
    assert empty.headers["location"].endswith("fait=vide")
    closed = claire.post("/console/demandes/1/terminer", data={"csrf": token})
    assert closed.headers["location"] == "/console/demandes/1?fait=terminee"
    samira.script("""
        > (received)
        < Claire a terminé la conversation.
        < Est-ce que cette aide vous a servi ?
    """)
    with session_factory() as session:
        assert session.scalars(select(Ticket.status)).one() == "closed"
    assert "Aucune demande en cours" in html.unescape(claire.get("/console/demandes").text)


def test_a_request_someone_else_follows_cannot_be_answered_or_closed_by_a_colleague(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    faq: FaqService,
    clock: FrozenClock,
) -> None:
    samira = a_request(session_factory, settings, faq, clock)
    claire = browser_of(web, session_factory, settings, clock, "claire")
    token = form_of(claire.get("/console/").text)["csrf"]
    assert claire.post("/console/demandes/1/prendre", data={"csrf": token}).status_code == 303
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "333", "Léa", Role.SOCIAL_WORKER, clock.now())
    lea = browser_of(web, session_factory, settings, clock, "léa")
    lea_token = form_of(lea.get("/console/").text)["csrf"]
    page = html.unescape(lea.get("/console/demandes/1").text)
    assert "Suivie par Claire" in page and "Votre réponse" not in page and "Terminer" not in page
    taken = lea.post("/console/demandes/1/prendre", data={"csrf": lea_token})
    assert taken.headers["location"].endswith("fait=taken_by_other")
    assert "Quelqu'un d'autre suit déjà" in html.unescape(lea.get(taken.headers["location"]).text)
    answered = lea.post("/console/demandes/1/repondre", data={"csrf": lea_token, "message": "Bonjour"})
    assert answered.status_code == 409
    refused = html.unescape(answered.text)
    assert "Quelqu'un d'autre suit déjà" in refused and "Votre message n'est pas parti" in refused
    assert '<p class="typed">Bonjour</p>' in refused, "shown again, to copy"
    assert (
        lea.post("/console/demandes/1/terminer", data={"csrf": lea_token})
        .headers["location"]
        .endswith("fait=taken_by_other")
    )
    # An admin may close it (a colleague away); nobody answers in Claire's name.
    karim = browser_of(web, session_factory, settings, clock, "karim")
    karim_token = form_of(karim.get("/console/").text)["csrf"]
    assert (
        karim.post("/console/demandes/1/terminer", data={"csrf": karim_token})
        .headers["location"]
        .endswith("fait=terminee")
    )
    assert "💬" not in " ".join(reply.text for reply in samira.received())
    assert lea.post("/console/demandes/1/prendre", data={}).status_code == 403  # no token
    assert lea.get("/console/demandes/99").status_code == 404


def test_an_answer_from_a_page_of_an_older_login_comes_back_as_typed(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    faq: FaqService,
    clock: FrozenClock,
) -> None:
    samira = a_request(session_factory, settings, faq, clock)
    samira.received()
    claire = browser_of(web, session_factory, settings, clock, "claire")
    old_token = form_of(claire.get("/console/").text)["csrf"]
    assert claire.post("/console/demandes/1/prendre", data={"csrf": old_token}).status_code == 303
    samira.received()
    # Claire logs in again on the same browser (a new session, a new token) before sending the old page.
    claire.cookies.update(browser_of(web, session_factory, settings, clock, "claire").cookies)
    message = "Bonjour Samira,\nvenez lundi à 9 h avec le contrat."
    sent = claire.post(
        "/console/demandes/1/repondre",
        data={"csrf": old_token, "message": message},
        headers={"Origin": "http://127.0.0.1:8080"},  # as a browser sends it
    )
    assert sent.status_code == 403
    page = html.unescape(sent.text)
    assert "votre message n'est pas parti" in page
    assert f'aria-describedby="message-hint">{message}</textarea>' in page
    assert samira.received() == [], "nothing was sent"
    again = claire.post("/console/demandes/1/repondre", data={**form_of(sent.text), "message": message})
    assert again.headers["location"].endswith("fait=envoye")
    assert "venez lundi à 9 h" in " ".join(reply.text for reply in samira.received())
