"""Talking to a person through Telegram end to end: `serve()` with its outbox dispatcher, the fake Bot API.

The trainee writes in a private chat; the social workers are in the staff group and in their own
private chats with the bot. Everything goes through python-telegram-bot's real HTTP layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import App, build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.inbox import Inbox
from bot.core.outbox import Outbox
from bot.faq import FaqError
from bot.features.faq import FAQ, FaqService
from bot.features.faq_watch import FaqWatcher
from bot.runner import serve
from bot.storage.db import make_session_factory, unit_of_work
from bot.storage.models import OutboxMessage, Role, Ticket, User
from bot.storage.staff import add_staff
from tests.e2e.test_telegram import SAMIRA, STAFF_GROUP, TOKEN, button, onboard, shown
from tests.fakes.telegram_api import FakeBotApi, SentMessage

CLAIRE = 501
KARIM = 502


@dataclass
class Centre:
    api: FakeBotApi
    settings: Settings
    engine: Engine
    clock: FrozenClock
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def restart(self) -> None:
        """Stop `serve()` as SIGTERM would, and start a new one on the same database."""
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=20)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(serve(make_app(self.settings, self.engine, self.clock), self.stop))
        await asyncio.sleep(0.2)


def make_app(settings: Settings, engine: Engine, clock: FrozenClock) -> App:
    faq = FaqService(settings.faq_dir)
    session_factory = make_session_factory(engine)
    conversation = build_conversation(session_factory, build_services(settings, faq, clock))
    outbox = Outbox(session_factory, clock)
    inbox = Inbox(session_factory, clock)
    return App(settings, engine, session_factory, conversation, FaqWatcher(faq, 0), outbox, inbox)


@pytest.fixture
async def centre(
    engine: Engine, settings: Settings, clock: FrozenClock, session_factory: sessionmaker[Session]
) -> AsyncIterator[Centre]:
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", str(CLAIRE), "Claire", Role.SOCIAL_WORKER, clock.now())
        add_staff(session, "telegram", str(KARIM), "Karim", Role.SOCIAL_WORKER, clock.now())
    async with FakeBotApi(token=TOKEN) as api:
        api.add_group(STAFF_GROUP, chat_type="supergroup", title="Équipe sociale")
        for worker, name in ((CLAIRE, "Claire"), (KARIM, "Karim")):
            api.add_user(worker, first_name=name)
        configured = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(TOKEN),
                "telegram_api_url": api.base_url,
                "telegram_staff_chat_id": STAFF_GROUP,
            }
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(make_app(configured, engine, clock), stop))
        running = Centre(api, configured, engine, clock, stop, task)
        try:
            yield running
        finally:
            running.stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(running.task, timeout=20)


async def wait_for(api: FakeBotApi, chat_id: int, predicate: Callable[[SentMessage], bool]) -> SentMessage:
    """Wait for a message to chat_id (sent at any time) that satisfies predicate."""
    found: list[SentMessage] = []

    def seen() -> bool:
        found[:] = [message for message in api.sent_messages(chat_id) if predicate(message)]
        return bool(found)

    await api.wait_until(seen, timeout=15, what=f"a message to {chat_id}")
    return found[-1]


def text_has(fragment: str) -> Callable[[SentMessage], bool]:
    return lambda message: fragment in (message.rendered_text or "")


async def open_ticket(api: FakeBotApi) -> SentMessage:
    """Onboard Samira, ask for a person with a subject; return the alert posted in the staff group."""
    await onboard(api)
    api.user_sends(SAMIRA, "je veux parler à l'assistante sociale")
    await wait_for(api, SAMIRA, text_has("c'est à quel sujet"))
    api.user_sends(SAMIRA, "mon ordi ne démarre plus")
    await wait_for(api, SAMIRA, text_has("Le bureau est ouvert"))
    return await wait_for(api, STAFF_GROUP, text_has("Demande n°1 : Samira (Horticulture), sur Telegram"))


async def test_claim_relay_voice_reply_in_group_restart_and_close(centre: Centre) -> None:
    api = centre.api
    alert = await open_ticket(api)
    assert "Sujet : « mon ordi ne démarre plus »" in shown(alert)
    # In the group, answering the alert itself reaches the trainee: the alert says so (only there).
    assert "ou répondez à ce message" in shown(alert)
    _, claim = button([alert], "✋ Je prends")

    # Two social workers tap "Je prends" at the same moment: exactly one takes it.
    api.user_presses(CLAIRE, alert, claim, chat_id=STAFF_GROUP, first_name="Claire")
    api.user_presses(KARIM, alert, claim, chat_id=STAFF_GROUP, first_name="Karim")
    taken = await wait_for(api, STAFF_GROUP, text_has("prend la demande n°1 (Samira)"))
    refused = await wait_for(api, STAFF_GROUP, text_has("La demande n°1 est déjà suivie par"))
    winner, loser = (CLAIRE, KARIM) if "Claire prend" in shown(taken) else (KARIM, CLAIRE)
    winner_name = "Claire" if winner == CLAIRE else "Karim"
    assert winner_name in shown(refused)
    # The alert shows who took it, and lost its button.

    def alert_now() -> SentMessage:
        return api.message(STAFF_GROUP, alert.message_id)

    await api.wait_until(lambda: "Prise par" in (alert_now().rendered_text or ""))
    assert not alert_now().reply_markup
    assert len(api.answered_callbacks) >= 2  # no spinner left on either phone
    await wait_for(api, winner, text_has("Vous suivez la demande n°1 de Samira"))
    assert not [m for m in api.sent_messages(loser) if "Vous suivez" in (m.rendered_text or "")]
    await wait_for(api, SAMIRA, text_has(f"{winner_name} a pris votre demande"))

    # The trainee's voice note reaches the worker, as the same file.
    update_id = api.user_sends_voice(SAMIRA)
    original = api.update(update_id)["message"]["voice"]["file_id"]
    await wait_for(api, SAMIRA, text_has("✓ Transmis."))
    await wait_for(api, winner, text_has("Samira (n°1) envoie ceci"))
    await wait_for(api, winner, lambda message: message.voice is not None)
    assert api.calls_to("sendVoice")[-1]["voice"] == original

    # The worker answers by replying to the alert in the group; the trainee sees the first name only.
    api.user_sends(
        winner,
        "Apportez-le demain à 9 h, on regarde ensemble.",
        first_name=winner_name,
        chat_id=STAFF_GROUP,
        chat_type="supergroup",
        reply_to=alert,
    )
    relayed = await wait_for(api, SAMIRA, text_has("Apportez-le demain"))
    assert shown(relayed) == f"💬 {winner_name} : Apportez-le demain à 9 h, on regarde ensemble."
    assert str(winner) not in shown(relayed)

    # A restart in the middle: the ticket is still open and routable.
    await centre.restart()
    api.user_sends(SAMIRA, "d'accord merci, à demain")
    await wait_for(api, winner, text_has("d'accord merci, à demain"))
    api.user_sends(winner, "Parfait, à demain !", first_name=winner_name)
    await wait_for(api, SAMIRA, text_has(f"💬 {winner_name} : Parfait, à demain !"))

    # The trainee cannot use staff actions.
    api.user_sends(SAMIRA, "/tickets")
    await wait_for(api, SAMIRA, text_has("Je ne connais pas cette commande"))

    # "Terminé" in the worker's private chat closes it; the trainee is asked whether it helped.
    private = [m for m in api.sent_messages(winner) if m.buttons]
    message, close = button(private[-1:], "✔️ Terminé")
    api.user_presses(winner, message, close, first_name=winner_name)
    await wait_for(api, winner, text_has("Demande n°1 terminée."))
    question = await wait_for(api, SAMIRA, text_has("Est-ce que cette aide vous a servi ?"))
    message, helped = button([question], "👍 Oui")
    api.user_presses(SAMIRA, message, helped)
    await wait_for(api, SAMIRA, text_has("Merci pour votre avis"))
    await wait_for(api, STAFF_GROUP, text_has(f"Demande n°1 (Samira) terminée par {winner_name}"))
    factory = make_session_factory(centre.engine)
    with factory() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.status, ticket.feedback) == ("closed", "up")


async def test_a_trainee_in_the_staff_group_is_refused(centre: Centre) -> None:
    api = centre.api
    alert = await open_ticket(api)
    _, claim = button([alert], "✋ Je prends")
    api.user_presses(SAMIRA, alert, claim, chat_id=STAFF_GROUP)
    await wait_for(api, STAFF_GROUP, text_has("Réservé à l'équipe du centre."))
    # The button is still there for the staff.
    assert api.message(STAFF_GROUP, alert.message_id).reply_markup
    factory = make_session_factory(centre.engine)
    with factory() as session:
        assert session.scalars(select(Ticket.claimed_by_id)).one() is None


async def test_the_scheduler_escalates_an_unclaimed_ticket(centre: Centre) -> None:
    api = centre.api
    await open_ticket(api)
    # 31 minutes of office hours later; the restarted bot's scheduler runs the jobs at once.
    centre.clock.advance(timedelta(minutes=31))
    await centre.restart()
    escalated = await wait_for(api, STAFF_GROUP, text_has("attend depuis 30 minutes de bureau"))
    assert [b["text"] for b in escalated.buttons] == ["✋ Je prends"]


async def test_a_trainee_who_blocked_the_bot_is_marked_unreachable_not_retried(centre: Centre) -> None:
    api = centre.api
    alert = await open_ticket(api)
    _, claim = button([alert], "✋ Je prends")
    api.user_presses(CLAIRE, alert, claim, chat_id=STAFF_GROUP, first_name="Claire")
    await wait_for(api, CLAIRE, text_has("Vous suivez la demande n°1"))
    await wait_for(api, SAMIRA, text_has("Claire a pris votre demande"))
    api.block_bot(SAMIRA)
    api.user_sends(CLAIRE, "Vous êtes toujours là ?", first_name="Claire")
    await wait_for(api, CLAIRE, text_has("✓ Envoyé à Samira."))
    factory = make_session_factory(centre.engine)

    def unreachable() -> bool:
        with factory() as session:
            user = session.scalars(select(User).where(User.external_id == str(SAMIRA))).one()
            return user.unreachable_at is not None

    await api.wait_until(unreachable, timeout=15, what="Samira marked unreachable")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # not retried forever
    # She unblocks the bot and writes: reachable again.
    api.block_bot(SAMIRA, blocked=False)
    api.user_sends(SAMIRA, "oui pardon")
    await wait_for(api, CLAIRE, text_has("oui pardon"))
    assert not unreachable()


async def test_a_broken_faq_edit_is_posted_in_the_staff_group(
    engine: Engine, settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    faq_dir = tmp_path / "faq"
    shutil.copytree(settings.faq_dir, faq_dir)
    async with FakeBotApi(token=TOKEN) as api:
        api.add_group(STAFF_GROUP, chat_type="supergroup", title="Équipe sociale")
        configured = settings.model_copy(
            update={
                "faq_dir": faq_dir,
                "telegram_bot_token": SecretStr(TOKEN),
                "telegram_api_url": api.base_url,
                "telegram_staff_chat_id": STAFF_GROUP,
            }
        )
        app = make_app(configured, engine, clock)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(app, stop))
        try:
            await asyncio.sleep(0.3)
            (faq_dir / "casse.yaml").write_text("- id: casse\n  question: [pas fermé\n", encoding="utf-8")
            # What the watcher does when a file changes: reload, and tell whoever listens if it fails.
            with contextlib.suppress(FaqError):
                await asyncio.to_thread(app.conversation.services.get(FAQ).reload)
            alert = await wait_for(api, STAFF_GROUP, text_has("casse.yaml"))
            assert "casse.yaml" in (alert.rendered_text or "")
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=20)
