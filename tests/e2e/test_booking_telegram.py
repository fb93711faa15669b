"""Files through Telegram end to end: the .ics of a booking, the /mesdonnees export."""

from __future__ import annotations

from bot.config import Settings
from tests.e2e.test_telegram import SAMIRA, Bot, button, next_messages, onboard, shown
from tests.integration.test_booking import AVAILABILITY


async def test_booking_by_buttons_sends_the_calendar_file(bot: Bot, settings: Settings) -> None:
    settings.availability_file.write_text(AVAILABILITY, encoding="utf-8")
    api = bot.api
    await onboard(api)
    api.user_sends(SAMIRA, "je voudrais prendre un rendez-vous")
    [reasons] = await next_messages(api, SAMIRA, 1)
    assert shown(reasons) == "📅 C'est pour quoi ?"
    api.user_presses(SAMIRA, *button([reasons], "Recherche d'emploi"))
    [workers] = await next_messages(api, SAMIRA, 1)
    api.user_presses(SAMIRA, *button([workers], "Claire"))
    [slots] = await next_messages(api, SAMIRA, 1)
    assert [b["text"] for b in slots.buttons][:3] == [
        "Aujourd'hui à 11 h",
        "Aujourd'hui à 11 h 30",
        "Demain à 9 h",
    ]
    api.user_presses(SAMIRA, *button([slots], "Demain à 9 h"))
    [confirm] = await next_messages(api, SAMIRA, 1)
    assert shown(confirm) == "Rendez-vous avec Claire, demain à 9 h, Bureau 2. Je réserve ?"
    api.user_presses(SAMIRA, *button([confirm], "Oui, je réserve"))
    done = await next_messages(api, SAMIRA, 3)
    assert shown(done[0]) == "✅ C'est réservé : demain à 9 h, avec Claire, Bureau 2."
    [sent] = [message for message in done if message.method == "sendDocument"]
    assert sent.document is not None and sent.document.filename == "rendez-vous.ics"
    assert sent.document.content is not None and b"DTSTART:20261125T080000Z" in sent.document.content


async def test_my_data_arrives_as_a_file(bot: Bot) -> None:
    api = bot.api
    await onboard(api)
    api.user_sends(SAMIRA, "/mesdonnees")
    messages = await next_messages(api, SAMIRA, 4)
    assert "Samira" in shown(messages[0])
    [sent] = [message for message in messages if message.method == "sendDocument"]
    assert sent.document is not None and sent.document.filename == "mes-donnees.txt"
    assert sent.document.content is not None
    assert "Application : Telegram" in sent.document.content.decode()
