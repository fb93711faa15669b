"""Module sessions in the console: the coming ones by filière, and a file imported after a preview.

The file is the secretary's spreadsheet as it is (.xlsx) or saved as CSV (or the YAML format); its
problems are `cisp-bot sessions import`'s, named by row. The preview shows every line and what it will
do (new, moved, cancelled...), changing nothing; "Importer" then imports the same text, all or nothing.
"""

from __future__ import annotations

import base64
import binascii
import logging
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.config import Settings
from bot.features.sessions import (
    EVERY_FILIERE,
    ImportReport,
    import_sessions,
    listed_sessions,
    preview_import,
)
from bot.files.office_hours import (
    belgian_public_holidays,
    brussels_date,
    french_day_and_time,
    parse_closed_dates,
)
from bot.files.session_file import MAX_FILE_BYTES, SessionFileError, SessionProblem, SessionRow, read_sessions
from bot.webconsole.pages import Pages, Staff

log = logging.getLogger(__name__)

SUFFIXES = (".xlsx", ".csv", ".yaml", ".yml", ".txt")
CHANGE_LABELS = {
    "new": "nouvelle",
    "moved": "déplacée (les stagiaires sont prévenus)",
    "cancelled": "annulée (les stagiaires sont prévenus)",
    "updated": "modifiée",
    "unchanged": "inchangée",
}


def closed_reason(day: date, settings: Settings) -> str | None:
    """Say why the centre is closed that day (a public holiday, a closure), or None."""
    if day in belgian_public_holidays(day.year):
        return "jour férié"
    if day in parse_closed_dates(settings.centre_closures):
        return "le centre est fermé (CENTRE_CLOSURES)"
    return None


@dataclass(frozen=True)
class Upload:
    """A file sent from the form: its name and bytes (kept in the preview's form for "Importer")."""

    name: str
    data: bytes

    @property
    def encoded(self) -> str:
        """Return the bytes as the preview's hidden field carries them."""
        return base64.b64encode(self.data).decode("ascii")


class SessionPages:
    """The sessions' list, the file's preview and its import."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.context = pages.context

    async def overview(self, request: Request) -> Response:
        """List the coming sessions by filière, closed days flagged; the upload form for admins."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        now, settings = self.context.clock.now(), self.context.settings
        chosen = request.query_params.get("formation", "")

        def shown(training: Any) -> bool:
            names = training.filieres.split(";")
            return not chosen or training.filieres == EVERY_FILIERE or chosen in names

        def read(session: Session) -> list[dict[str, Any]]:
            return [
                {
                    "module": training.module,
                    "when": french_day_and_time(training.starts_at, now),
                    "place": training.place,
                    "trainer": training.trainer,
                    "filieres": "toutes"
                    if training.filieres == EVERY_FILIERE
                    else training.filieres.replace(";", ", "),
                    "cancelled": training.cancelled,
                    "closed": closed_reason(brussels_date(training.starts_at), settings),
                }
                for training in listed_sessions(session, now)
                if shown(training)
            ]

        sessions = await self.pages.db(read)
        return self.pages.render(
            "sessions.html",
            "Séances des modules",
            staff,
            sessions=sessions,
            done=request.query_params.get("importe"),
            filieres=settings.filiere_names,
            chosen=chosen,
        )

    async def _admin_form(self, request: Request) -> tuple[Staff, Any] | Response:
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        if not staff.is_admin:
            return self.pages.admins_only(staff, "Importer les séances")
        if int(request.headers.get("content-length", "0") or 0) > 2 * MAX_FILE_BYTES:
            return self.pages.message(
                "Fichier trop gros",
                "Ce fichier est trop gros pour des séances.",
                staff=staff,
                status=413,
                error=True,
            )
        form = await request.form(max_part_size=2 * MAX_FILE_BYTES)
        token = form.get("csrf")
        refusal = self.pages.csrf_refusal(request, staff, token if isinstance(token, str) else None)
        return (staff, form) if refusal is None else refusal

    async def preview(self, request: Request) -> Response:
        """Read the sent file; show its problems, or every line and what importing it will do."""
        checked = await self._admin_form(request)
        if isinstance(checked, Response):
            return checked
        staff, form = checked
        sent = form.get("fichier")
        if not isinstance(sent, UploadFile) or not sent.filename:
            return self._problems(
                staff, "", [SessionProblem("", "choisissez d'abord le fichier des séances")]
            )
        upload = Upload(Path(sent.filename).name, await sent.read(MAX_FILE_BYTES + 1))
        return await self._previewed(staff, upload)

    async def _previewed(self, staff: Staff, upload: Upload) -> Response:
        rows, problems = self._rows(upload)
        if problems:
            return self._problems(staff, upload.name, problems)
        now, settings = self.context.clock.now(), self.context.settings
        report = await self.pages.db(lambda session: preview_import(session, rows, settings, now))
        return self.pages.render(
            "sessions_preview.html",
            f"Aperçu : {upload.name}",
            staff,
            upload=upload,
            report=report,
            lines=self._lines(report),
        )

    def _rows(self, upload: Upload) -> tuple[list[SessionRow], list[SessionProblem]]:
        """Read the file as `sessions import` would; return its sessions, or its problems."""
        suffix = Path(upload.name).suffix.lower()
        if suffix not in SUFFIXES:
            return [], [
                SessionProblem(upload.name, "envoyez un classeur Excel (.xlsx), un fichier CSV ou YAML")
            ]
        with tempfile.TemporaryDirectory(prefix="cisp-sessions-") as folder:
            path = Path(folder) / f"séances{suffix}"
            path.write_bytes(upload.data)
            try:
                rows = read_sessions(path, self.context.settings.filiere_names)
            except SessionFileError as error:
                return [], [
                    SessionProblem(upload.name, problem.message, problem.line) for problem in error.problems
                ]
        return rows, []

    def _lines(self, report: ImportReport) -> list[dict[str, Any]]:
        now, settings = self.context.clock.now(), self.context.settings
        return [
            {
                "line": row.line,
                "module": row.module,
                "when": french_day_and_time(row.starts_at, now),
                "place": row.place,
                "change": CHANGE_LABELS[change],
                "closed": closed_reason(brussels_date(row.starts_at), settings),
                "past": row.starts_at < now,
                "minutes": int((row.ends_at - row.starts_at).total_seconds() // 60),
                "filieres": "toutes"
                if set(row.filieres) >= set(settings.filiere_names)
                else ", ".join(row.filieres),
            }
            for row, change in report.changes
        ]

    def _problems(self, staff: Staff, name: str, problems: list[SessionProblem]) -> Response:
        return self.pages.render(
            "sessions_problems.html",
            "Rien n'a été importé",
            staff,
            status=422,
            name=name,
            problems=problems,
        )

    async def do_import(self, request: Request) -> Response:
        """Import the previewed file, all or nothing; its moved and cancelled sessions are told."""
        checked = await self._admin_form(request)
        if isinstance(checked, Response):
            return checked
        staff, form = checked
        name, encoded = form.get("nom"), form.get("contenu")
        try:
            upload = Upload(str(name), base64.b64decode(str(encoded), validate=True))
        except (binascii.Error, ValueError):
            damaged = [SessionProblem(str(name), "aperçu abîmé : envoyez le fichier à nouveau")]
            return self._problems(staff, str(name), damaged)
        rows, problems = self._rows(upload)
        if problems:
            return self._problems(staff, upload.name, problems)
        now, settings = self.context.clock.now(), self.context.settings
        report = await self.pages.db(lambda session: import_sessions(session, rows, settings, now))
        log.info(
            "console: sessions imported by staff member %d (%d new, %d moved, %d cancelled)",
            staff.user_id,
            report.created,
            report.moved,
            report.cancelled,
        )
        summary = f"{report.created}-{report.moved}-{report.cancelled}-{report.updated}-{report.unchanged}"
        return RedirectResponse(f"{self.context.prefix}/seances?importe={summary}", status_code=303)
