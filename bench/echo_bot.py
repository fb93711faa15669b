"""A bare python-telegram-bot echo bot, the yardstick of bench/telegram_throughput.py.

python bench/echo_bot.py BASE_URL TOKEN

It answers a text with the same text, /menu with a message carrying one button, and a press of that
button as cisp-bot answers a menu button: it stops the spinner and sends a message with the button again.
"""

from __future__ import annotations

import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

MENU = InlineKeyboardMarkup([[InlineKeyboardButton("Menu", callback_data="go:menu")]])


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a message with one button."""
    message = update.effective_message
    assert message is not None
    await message.reply_text("Menu", reply_markup=MENU)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop the button's spinner and send a message with the button again."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    await query.answer()
    await context.bot.send_message(chat.id, f"Menu ({query.data})", reply_markup=MENU)


def main() -> None:
    """Poll the Bot API at BASE_URL until stopped."""
    base_url, token = sys.argv[1], sys.argv[2]
    application = ApplicationBuilder().token(token).base_url(base_url).build()
    application.add_handler(CommandHandler("menu", menu))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(press))
    application.run_polling(poll_interval=0, timeout=1)


if __name__ == "__main__":
    main()
