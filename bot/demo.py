"""Demo data for trying the bot: idempotent, written into whatever DATABASE_URL names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.storage.models import Role
from bot.storage.staff import add_staff

# (channel, id, first name, role): console accounts, so `cisp-bot chat --user admin` shows staff tools.
DEMO_STAFF = (
    ("console", "admin", "Admin", Role.ADMIN),
    ("console", "claire", "Claire", Role.SOCIAL_WORKER),
    ("console", "karim", "Karim", Role.SOCIAL_WORKER),
)


def load_demo(session: Session, now: datetime, settings: Settings) -> list[str]:
    """Create or refresh the demo records; return one line per record."""
    lines = []
    for channel, external_id, name, role in DEMO_STAFF:
        _, created = add_staff(session, channel, external_id, name, role, now)
        lines.append(f"{'ajouté' if created else 'déjà là'} : {name} ({role.value}, {channel} {external_id})")
    lines += _demo_sessions(session, now, settings)
    return lines


# (days from today, Brussels hour, minutes, module, place): a few sessions in the coming days.
DEMO_SESSIONS = (
    (1, 9, 180, "Utiliser l'ordinateur", "Salle informatique (1er étage)"),
    (2, 13, 120, "Créer son adresse e-mail", "https://visio.example.org/cisp-email"),
    (4, 9, 180, "Écrire son CV", "Salle informatique (1er étage)"),
    (7, 9, 120, "Chercher un emploi en ligne (Forem)", "Salle informatique (1er étage)"),
)


def _demo_sessions(session: Session, now: datetime, settings: Settings) -> list[str]:
    """Create a few sessions for every filière in the coming days (keys by date: a rerun changes nothing)."""
    from datetime import time, timedelta

    from bot.common.clock import BRUSSELS
    from bot.features.sessions import import_sessions
    from bot.files.office_hours import brussels_instant
    from bot.files.session_file import SessionRow

    today = now.astimezone(BRUSSELS).date()
    rows = []
    for days, hour, minutes, module, place in DEMO_SESSIONS:
        day = today + timedelta(days=days)
        while day.weekday() >= 5:  # the centre is closed at the weekend
            day += timedelta(days=1)
        starts_at = brussels_instant(day, time(hour, 0))
        rows.append(
            SessionRow(
                key=f"demo-{module}-{day.isoformat()}",
                module=module,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                place=place,
                is_video=place.startswith("https://"),
                filieres=tuple(settings.filiere_names),
                trainer="Nadia",
                cancelled=False,
                line=0,
            )
        )
    report = import_sessions(session, rows, settings, now)
    return [f"séances de démonstration : {report.created} ajoutée(s), {report.unchanged} déjà là"]
