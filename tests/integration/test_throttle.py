"""A person flooding the bot gets one "slow down", then silence, then normal answers a minute later."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.messages import IncomingMessage
from bot.core.throttle import Throttle, Verdict
from bot.features.faq import FaqService


def test_flood_gets_one_warning_then_silence(
    session_factory: sessionmaker[Session], settings: Settings, faq_service: FaqService, clock: FrozenClock
) -> None:
    limited = settings.model_copy(update={"throttle_messages_per_minute": 5})
    conversation = build_conversation(session_factory, build_services(limited, faq_service, clock))
    answers = [conversation.handle(IncomingMessage("telegram", "1", text="wifi")) for _ in range(8)]
    assert all(replies for replies in answers[:5])
    assert "Doucement" in answers[5][0].text and len(answers[5]) == 1
    assert answers[6] == answers[7] == []
    # Someone else is not affected.
    assert conversation.handle(IncomingMessage("telegram", "2", text="wifi"))
    clock.advance(timedelta(seconds=61))
    assert "Doucement" not in conversation.handle(IncomingMessage("telegram", "1", text="wifi"))[0].text


def test_throttle_window_slides(clock: FrozenClock) -> None:
    throttle = Throttle(per_minute=2)
    assert throttle.check("c", "u", clock.now()) is Verdict.HANDLE
    clock.advance(timedelta(seconds=30))
    assert throttle.check("c", "u", clock.now()) is Verdict.HANDLE
    assert throttle.check("c", "u", clock.now()) is Verdict.WARN
    clock.advance(timedelta(seconds=31))  # the first message left the window
    assert throttle.check("c", "u", clock.now()) is Verdict.HANDLE
    throttle.forget_idle(clock.now() + timedelta(minutes=2))
    assert not throttle._seen
