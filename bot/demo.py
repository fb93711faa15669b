"""Demo data for trying the bot: idempotent, written into whatever DATABASE_URL names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.storage.models import Role
from bot.storage.staff import add_staff

# (channel, id, first name, role): console accounts, so `cisp-bot chat --user admin` shows staff tools.
DEMO_STAFF = (
    ("console", "admin", "Admin", Role.ADMIN),
    ("console", "claire", "Claire", Role.SOCIAL_WORKER),
    ("console", "karim", "Karim", Role.SOCIAL_WORKER),
)


def load_demo(session: Session, now: datetime) -> list[str]:
    """Create or refresh the demo records; return one line per record."""
    lines = []
    for channel, external_id, name, role in DEMO_STAFF:
        _, created = add_staff(session, channel, external_id, name, role, now)
        lines.append(f"{'ajouté' if created else 'déjà là'} : {name} ({role.value}, {channel} {external_id})")
    return lines
