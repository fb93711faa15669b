"""The figures as pictures: four weeks of questions, requests, appointments and reminders, numbers beside.

Bars drawn on the server (SVG in the page, no script); every chart has its numbers in a table under it
for screen readers and for those who read figures better than pictures. Nothing identifies a trainee.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.features.figures import figures
from bot.webconsole.agenda_pages import day_title
from bot.webconsole.pages import Pages


class StatsPages:
    """The stats page."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.context = pages.context

    async def overview(self, request: Request) -> Response:
        """Show the last four weeks."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        now = self.context.clock.now()
        found = await self.pages.db(lambda session: figures(session, now))
        entries = {entry.id: entry.question for entry in self.context.faq.base.entries}
        top = [(entries.get(entry_id, entry_id), times) for entry_id, times in found.top_entries]
        return self.pages.render(
            "stats.html",
            "Les chiffres des 4 dernières semaines",
            staff,
            figures=found,
            labels=[day_title(day) for day in found.days],
            top=top,
        )
