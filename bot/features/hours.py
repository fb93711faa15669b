"""The centre's office hours as the features use them: built once from the settings."""

from __future__ import annotations

from bot.core.turn import Part, Services
from bot.files.office_hours import OfficeHours, office_hours_from


def _office_hours(services: Services) -> OfficeHours | None:
    settings = services.settings
    return office_hours_from(settings.office_hours, settings.centre_closures)


# The centre's office hours (holidays and closures included), or None when OFFICE_HOURS is unset.
OFFICE_HOURS: Part[OfficeHours | None] = Part("the office hours", _office_hours)
