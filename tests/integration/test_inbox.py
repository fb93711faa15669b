"""The inbox and the outbox as queues: stored once, one chat at a time in order, taken again after a crash."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.common.clock import FrozenClock, SystemClock
from bot.core.conversation import Conversation
from bot.core.inbox import INBOX, LEASE, MAX_ATTEMPTS, Delivery, Inbox, InboxWorker, Received
from bot.core.messages import IncomingMessage, Reply
from bot.core.outbox import Dispatcher, Outbox, Push, enqueue
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage, ProcessedDelivery
from tests.integration.test_onboarding import onboarded


def stored(sender: str, number: int, channel: str = "console") -> Delivery:
    return Delivery(channel, sender, f"{sender}-{number}", {"text": f"message {number}"})


def test_a_delivery_sent_twice_is_stored_once(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    inbox = Inbox(session_factory, clock)
    # Stored and leased at once for this process: the oldest of its sender.
    [first] = inbox.store([stored("samira", 1)])
    assert first.payload["text"] == "message 1"
    # The platform sent the first one again: stored once; the second waits for the first.
    assert inbox.store([stored("samira", 1), stored("samira", 2)]) == []
    assert inbox.pending() == 2


def test_one_message_per_sender_at_a_time_oldest_first(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    inbox = Inbox(session_factory, clock)
    first = inbox.store([stored("samira", 1), stored("karim", 1), stored("samira", 2), stored("karim", 2)])
    assert [(item.sender, item.payload["text"]) for item in first] == [
        ("samira", "message 1"),
        ("karim", "message 1"),
    ]
    # Their second messages wait until the first ones are done, whoever holds them.
    assert inbox.take(["console"], limit=10) == []
    samira_second = inbox.discard(first[0])  # done with it: her next one comes with it, leased
    assert samira_second is not None
    assert (samira_second.sender, samira_second.payload["text"]) == ("samira", "message 2")
    assert inbox.take(["console"], limit=10) == []


def test_a_crashed_workers_message_is_taken_again_after_its_lease_then_given_up(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    inbox = Inbox(session_factory, clock)
    [taken] = inbox.store([stored("samira", 1)])
    assert taken.attempts == 1
    clock.advance(LEASE - timedelta(seconds=1))
    assert inbox.take(["console"], limit=1) == []  # still held
    inbox.renew([taken.id])  # the worker is alive and still working
    clock.advance(LEASE - timedelta(seconds=1))
    assert inbox.take(["console"], limit=1) == []
    clock.advance(timedelta(seconds=2))  # the worker died: no more renewals
    [again] = inbox.take(["console"], limit=1)
    assert (again.id, again.attempts) == (taken.id, 2)


async def test_a_message_that_always_fails_is_given_up_and_the_next_one_goes(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    inbox = Inbox(session_factory, clock)
    clock.advance(LEASE + timedelta(seconds=1))
    inbox.store([stored("samira", 1), stored("samira", 2)])
    clock.advance(LEASE + timedelta(seconds=1))  # as after a crash: found by the worker's take
    handled: list[str] = []
    failures = 0

    async def handle(item: Received) -> Received | None:
        nonlocal failures
        if item.payload["text"] == "message 1":
            failures += 1
            clock.advance(LEASE + timedelta(seconds=1))  # its lease lapses: it is taken again
            raise RuntimeError("a bug, not a person")
        handled.append(item.payload["text"])
        return inbox.discard(item)

    worker = InboxWorker(inbox, {"console": handle}, poll_seconds=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(500):
        if handled:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    # Leased when stored, by a process that died before handling it: that was its first try.
    assert (failures, handled) == (MAX_ATTEMPTS - 1, ["message 2"])
    assert inbox.pending() == 0


def test_two_workers_never_hold_two_messages_of_one_sender(session_factory: sessionmaker[Session]) -> None:
    """Two processes on one database (threads here, with their own connections): order kept per sender."""
    clock = SystemClock()
    senders = [f"person{number}" for number in range(6)]
    Inbox(session_factory, clock).store([stored(sender, n) for n in range(15) for sender in senders])
    with unit_of_work(session_factory) as session:  # as after a crash: nothing held, all to take
        session.execute(INBOX.update().values(leased_until=None))
    holding: set[str] = set()
    lock = threading.Lock()
    seen: defaultdict[str, list[int]] = defaultdict(list)
    problems: list[str] = []

    def work() -> None:
        inbox = Inbox(session_factory, clock)
        while taken := inbox.take(["console"], limit=3):
            for first in taken:
                item: Received | None = first
                while item is not None:  # a lane: each message done leases the sender's next
                    with lock:
                        if item.sender in holding:
                            problems.append(f"{item.sender} held twice")
                        holding.add(item.sender)
                        seen[item.sender].append(int(item.payload["text"].split()[-1]))
                    with lock:
                        holding.discard(item.sender)  # just before its next message may be taken
                    following = inbox.discard(item)
                    if following is not None:
                        with lock:
                            if following.sender in holding:
                                problems.append(f"{following.sender} held twice")
                    item = following

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert problems == []
    assert {sender: numbers for sender, numbers in seen.items()} == {
        sender: list(range(15)) for sender in senders
    }


def test_a_failed_push_holds_back_its_chat_only(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    outbox = Outbox(session_factory, clock)
    with unit_of_work(session_factory) as session:
        for recipient, text in (("samira", "un"), ("samira", "deux"), ("karim", "un")):
            enqueue(session, clock.now(), "console", recipient, [Reply(text)])
    taken = outbox.take(["console"])
    assert [(item.recipient, item.replies[0].text) for item in taken] == [("samira", "un"), ("karim", "un")]
    samira_first = taken[0]
    outbox.failed(samira_first)
    outbox.sent(taken[1], [])
    # "deux" never overtakes "un": it waits until "un" is sent (after the retry's wait).
    assert outbox.take(["console"]) == []
    clock.advance(timedelta(minutes=1))
    [retry] = outbox.take(["console"])
    assert retry.id == samira_first.id
    second = outbox.sent(retry, [])  # sent: the chat's next row comes with it, leased
    assert second is not None and second.replies[0].text == "deux"


def test_the_answers_go_to_the_outbox_with_the_handling(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    onboarded(conversation, "samira")
    inbox = Inbox(session_factory, conversation.services.clock)

    def done(item: Received) -> Callable[[Session], None]:
        def delete_stored(session: Session) -> None:
            inbox.done(session.connection(), item)

        return delete_stored

    [item] = inbox.store([Delivery("console", "samira", "d-1", {})])
    message = IncomingMessage("console", "samira", text="le wifi marche pas", delivery_id="d-1")
    replies = conversation.handle(message, in_transaction=done(item))
    assert replies and replies[0].text.startswith("Cliquez sur l'icône du Wi-Fi")
    assert inbox.pending() == 0
    with session_factory() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        assert row.recipient == "samira" and row.payload["reply"] is True
        assert row.payload["replies"][0]["text"] == replies[0].text
        assert session.get(ProcessedDelivery, ("console", "d-1")) is not None
    # Handled again (a worker that died after the commit, before knowing it): skipped, nothing more sent.
    [again] = inbox.store([Delivery("console", "samira", "d-1", {})])
    assert conversation.handle(message, in_transaction=done(again)) == []
    assert inbox.pending() == 0
    with session_factory() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_a_handling_that_fails_is_rolled_back_and_the_person_told(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    onboarded(conversation, "samira")
    inbox = Inbox(session_factory, conversation.services.clock)
    [item] = inbox.store([Delivery("console", "samira", "d-2", {})])
    calls = 0

    def fails_once(session: Session) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("the disk was full for a moment")
        inbox.done(session.connection(), item)

    message = IncomingMessage("console", "samira", text="le wifi marche pas", delivery_id="d-2")
    [reply] = conversation.handle(message, in_transaction=fails_once)
    assert reply.text.startswith("😓 Oups, j'ai eu un problème.")
    assert inbox.pending() == 0
    with session_factory() as session:
        # The answer of the rolled-back handling is not there; the apology is, alone.
        [row] = session.scalars(select(OutboxMessage)).all()
        assert row.payload["replies"][0]["text"] == reply.text
        assert session.get(ProcessedDelivery, ("console", "d-2")) is None


async def test_the_dispatcher_refills_as_soon_as_a_chat_is_done(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    """More chats than lanes: each lane that ends makes room at once, not at the next poll."""
    outbox = Outbox(session_factory, clock)
    with unit_of_work(session_factory) as session:
        for number in range(7):
            enqueue(session, clock.now(), "console", f"person{number}", [Reply("rappel")])
    sent: list[str] = []

    class Target:
        name = "console"

        async def push(self, item: Push) -> list[str]:
            await asyncio.sleep(0.01)
            sent.append(item.recipient)
            return []

    dispatcher = Dispatcher(outbox, {"console": Target()}, concurrency=2, poll_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    for _ in range(200):
        if len(sent) == 7:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert sorted(sent) == [f"person{number}" for number in range(7)]
