"""Settings: the only place that reads environment variables and `.env`."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A filière is stored in a 60-character column and shown as a button (WhatsApp lists hold 10 rows,
# one of them "Autre").
MAX_FILIERE_CHARS = 60
MAX_FILIERES = 9
DEFAULT_FILIERES = "Bâtiment;Horticulture;Nettoyage;Horeca - cuisine;Vente - magasin;Logistique"


class Settings(BaseSettings):
    """Everything an operator can configure, read from the environment and `.env`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="sqlite:///data/cisp-bot.sqlite3",
        description="SQLAlchemy URL; sqlite:///relative/path or postgresql://user@host/db",
    )
    faq_dir: Path = Field(default=Path("faq"), description="Folder of the FAQ YAML files")
    faq_languages: str = Field(
        default="fr,nl,en",
        description="Languages /langue offers for FAQ answers, comma-separated, French first (fr, nl, en)",
    )
    filieres: str = Field(
        default=DEFAULT_FILIERES,
        description="Training tracks offered at onboarding, separated by ';'",
    )
    centre_name: str = Field(
        default="votre centre de formation",
        description="How the bot names the centre, after 'de' (l'ASBL Horizon, votre centre...)",
    )
    centre_contact: str = Field(
        default="l'accueil du centre",
        description="Who to contact when the bot cannot help yet (a phone number, a desk...)",
    )
    data_retention_days: int = Field(
        default=365,
        ge=30,
        description="Trainee data is erased after this many days without any message",
    )
    faq_miss_retention_days: int = Field(
        default=90,
        ge=1,
        le=365,
        description="Unanswered questions are kept this long for the admins' gaps report",
    )
    faq_reload_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often the running bot looks for edits in FAQ_DIR (0: only on /recharger)",
    )
    faq_embedder: Literal["use", "none"] = Field(
        default="use",
        description="Meaning of messages: use (Universal Sentence Encoder, offline) or none (words only)",
    )
    telegram_bot_token: SecretStr | None = Field(
        default=None, description="Token from @BotFather; enables the Telegram channel"
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Bot API base URL, the token is appended (a local Bot API server, or the tests' fake)",
    )
    telegram_staff_chat_id: int | None = Field(
        default=None, description="Id of the Telegram group of the staff, which receives alerts (negative)"
    )
    public_url: str | None = Field(
        default=None,
        description="HTTPS address of this bot behind a reverse proxy: webhooks when set, else polling",
    )
    console_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs the staff console's cookies (default: made once in STATE_DIR)",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret Telegram sends with each webhook call (default: derived from the token)",
    )
    whatsapp_token: SecretStr | None = Field(
        default=None, description="WhatsApp Cloud API access token (a system user's permanent token)"
    )
    whatsapp_phone_number_id: str | None = Field(
        default=None, description="The WhatsApp Business phone number id (not the phone number itself)"
    )
    whatsapp_app_secret: SecretStr | None = Field(
        default=None, description="The Meta app's secret: signs every webhook call (X-Hub-Signature-256)"
    )
    whatsapp_verify_token: SecretStr | None = Field(
        default=None, description="A token of your choice, typed in Meta's webhook settings too"
    )
    whatsapp_api_url: str = Field(
        default="https://graph.facebook.com/v21.0",
        description="The versioned Graph API base URL; the phone number id and /messages are appended",
    )
    whatsapp_template_name: str = Field(
        default="cisp_message",
        description="Approved template used outside the 24-hour window, with one body parameter: the text",
    )
    whatsapp_template_language: str = Field(default="fr", description="That template's language code")
    whatsapp_messages_per_second: float = Field(
        default=80, gt=0, description="WhatsApp's limit per business phone number"
    )
    host: str = Field(default="127.0.0.1", description="Address the webhook server listens on")
    port: int = Field(default=8080, ge=1, le=65535, description="Port the webhook server listens on")
    telegram_messages_per_second: float = Field(
        default=30,
        gt=0,
        description="Telegram's overall limit for a bot (30/s); raise it only if Telegram raised yours",
    )
    throttle_messages_per_minute: int = Field(
        default=20, ge=1, description="A person sending more than this in a minute is asked to slow down"
    )
    state_dir: Path = Field(
        default=Path("data"),
        description="Folder for what the bot keeps besides the database: a copy of the last valid FAQ",
    )
    log_level: str = Field(default="WARNING", description="Python logging level")
    office_hours: str = Field(
        default="lun-jeu 09:00-12:00 13:00-16:30; ven 09:00-12:00",
        description="When the social workers answer, Brussels time (Belgian public holidays are closed)",
    )
    centre_closures: str = Field(
        default="",
        description="Extra closed days, comma-separated: 2026-12-24, 2026-12-28..2026-12-31",
    )
    handoff_escalation_minutes: int = Field(
        default=30, ge=1, description="Office-hours minutes before an unclaimed request alerts again"
    )
    ticket_retention_days: int = Field(
        default=30, ge=1, description="Days a closed request to a person (and its messages) is kept"
    )
    availability_file: Path = Field(
        default=Path("disponibilites.yaml"),
        description="The social workers' weekly availability, edited by admins (reloaded when it changes)",
    )
    appointment_reasons: str = Field(
        default="Problème d'ordinateur;Recherche d'emploi;Papiers administratifs;Question personnelle",
        description="The reasons a trainee picks from when booking, separated by ';'",
    )
    appointment_min_notice_hours: float = Field(
        default=2, ge=0, description="No appointment can be booked sooner than this"
    )
    appointment_horizon_days: int = Field(
        default=21, ge=1, le=120, description="How far ahead appointments can be booked"
    )
    appointment_cancel_notice_hours: float = Field(
        default=2, ge=0, description="Trainees can cancel or move an appointment up to this long before"
    )
    session_reminders: str = Field(
        default="veille 18:00, 1h",
        description="Reminders of module sessions: 'veille HH:MM' (the day before) and/or 'Nh' before",
    )
    session_reminder_grace_hours: float = Field(
        default=6, gt=0, description="A reminder missed while the bot was down is still sent this late"
    )
    appointment_reminder_hours: str = Field(
        default="24,2", description="Reminders before an appointment, in hours, comma-separated"
    )

    @field_validator("office_hours")
    @classmethod
    def _readable_office_hours(cls, value: str) -> str:
        # Checked at start, not when a trainee first asks for a person.
        from bot.files.office_hours import parse_office_hours

        parse_office_hours(value)
        return value

    @field_validator("centre_closures")
    @classmethod
    def _readable_closures(cls, value: str) -> str:
        from bot.files.office_hours import parse_closed_dates

        parse_closed_dates(value)
        return value

    @field_validator("appointment_reasons")
    @classmethod
    def _valid_reasons(cls, value: str) -> str:
        _check_button_names(value, "APPOINTMENT_REASONS")
        return value

    @field_validator("session_reminders")
    @classmethod
    def _readable_session_reminders(cls, value: str) -> str:
        from bot.files.reminders import reminder_times

        reminder_times(value)
        return value

    @field_validator("appointment_reminder_hours")
    @classmethod
    def _valid_reminders(cls, value: str) -> str:
        try:
            hours = [float(part) for part in value.split(",") if part.strip()]
        except ValueError as error:
            raise ValueError("APPOINTMENT_REMINDER_HOURS: hours separated by commas, e.g. 24,2") from error
        if any(hour <= 0 or hour > 24 * 14 for hour in hours):
            raise ValueError("APPOINTMENT_REMINDER_HOURS: each between 0 and 336 hours")
        return value

    @field_validator("filieres")
    @classmethod
    def _valid_filieres(cls, value: str) -> str:
        _check_button_names(value, "FILIERES")
        return value

    @field_validator("faq_languages")
    @classmethod
    def _known_faq_languages(cls, value: str) -> str:
        from bot.common.languages import LANGUAGES

        codes = _language_codes(value)
        unknown = [code for code in codes if code not in LANGUAGES]
        if unknown:
            raise ValueError(
                f"FAQ_LANGUAGES: unknown language {', '.join(unknown)}; "
                f"the FAQ files can hold {', '.join(LANGUAGES)}"
            )
        if len(set(codes)) != len(codes):
            raise ValueError("FAQ_LANGUAGES lists a language twice")
        if not codes or codes[0] != "fr":
            raise ValueError("FAQ_LANGUAGES must start with fr (French is always offered), e.g. fr,nl,en")
        return ",".join(codes)

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    @field_validator(
        "telegram_bot_token",
        "telegram_staff_chat_id",
        "telegram_webhook_secret",
        "whatsapp_token",
        "whatsapp_phone_number_id",
        "whatsapp_app_secret",
        "whatsapp_verify_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `.env.example` lists these with empty values: empty means "not configured".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _https_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # Plain http only for this machine: a local Bot API server or the tests' fake.
        local = value.startswith(("http://127.0.0.1", "http://localhost"))
        if not value.startswith("https://") and not local:
            raise ValueError("PUBLIC_URL must start with https:// (Telegram only calls HTTPS webhooks)")
        return value.rstrip("/")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_characters(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET: 1 to 256 characters among A-Z a-z 0-9 _ -")
        return value

    @property
    def webhook_secret(self) -> str | None:
        """Return the webhook secret: the configured one, or one derived from the bot token."""
        if self.telegram_webhook_secret is not None:
            return self.telegram_webhook_secret.get_secret_value()
        if self.telegram_bot_token is None:
            return None
        token = self.telegram_bot_token.get_secret_value().encode()
        # Telegram accepts 1-256 characters among A-Z a-z 0-9 _ -: a hex digest fits.
        return hmac.new(token, b"cisp-bot webhook", hashlib.sha256).hexdigest()

    @property
    def staff_group(self) -> tuple[str, str] | None:
        """Return where the staff group is (channel, chat), or None: each staff member is told apart."""
        if self.telegram_staff_chat_id is None:
            return None
        return "telegram", str(self.telegram_staff_chat_id)

    @property
    def whatsapp_configured(self) -> bool:
        """Say whether every WhatsApp setting is there (the channel runs only then)."""
        return None not in (
            self.whatsapp_token,
            self.whatsapp_phone_number_id,
            self.whatsapp_app_secret,
            self.whatsapp_verify_token,
        )

    @property
    def reason_names(self) -> list[str]:
        """Return the appointment reasons, in order."""
        return [part.strip() for part in self.appointment_reasons.split(";") if part.strip()]

    @property
    def reminder_hours(self) -> list[float]:
        """Return the reminder delays before an appointment, in hours, longest first."""
        hours = {float(part) for part in self.appointment_reminder_hours.split(",") if part.strip()}
        return sorted(hours, reverse=True)

    @property
    def faq_language_codes(self) -> list[str]:
        """Return the languages offered for FAQ answers, French first."""
        codes = list(dict.fromkeys(_language_codes(self.faq_languages)))
        return ["fr", *(code for code in codes if code != "fr")]

    @property
    def filiere_names(self) -> list[str]:
        """Return the configured training tracks, in order."""
        return [part.strip() for part in self.filieres.split(";") if part.strip()]


def _language_codes(value: str) -> list[str]:
    """Split a comma-separated list of language codes ("fr, NL,en" gives fr, nl, en)."""
    return [part.strip().lower() for part in value.split(",") if part.strip()]


def _check_button_names(value: str, setting: str) -> None:
    """Check a ';'-separated list of names shown as buttons: 1 to MAX_FILIERES, short, no duplicates."""
    names = [part.strip() for part in value.split(";") if part.strip()]
    if not names:
        raise ValueError(f"{setting} needs at least one name")
    if len(names) > MAX_FILIERES:
        raise ValueError(f"{setting} has {len(names)} names; at most {MAX_FILIERES} fit as buttons")
    too_long = [name for name in names if len(name) > MAX_FILIERE_CHARS]
    if too_long:
        raise ValueError(f"{setting} names over {MAX_FILIERE_CHARS} characters: {too_long}")
    if len({name.casefold() for name in names}) != len(names):
        raise ValueError(f"{setting} lists a name twice")
