"""A bare python-telegram-bot echo bot, the yardstick of bench/telegram_throughput.py.

python bench/echo_bot.py BASE_URL TOKEN
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


def main() -> None:
    base_url, token = sys.argv[1], sys.argv[2]
    application = ApplicationBuilder().token(token).base_url(base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(poll_interval=0, timeout=1)


if __name__ == "__main__":
    main()
