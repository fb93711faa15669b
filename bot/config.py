"""Settings: the only place that reads environment variables and `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_FILIERES = "Bâtiment;Horticulture;Nettoyage;Horeca - cuisine;Vente - magasin;Logistique"


class Settings(BaseSettings):
    """Everything an operator can configure, read from the environment and `.env`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="sqlite:///data/cisp-bot.sqlite3",
        description="SQLAlchemy URL; sqlite:///relative/path or postgresql://user@host/db",
    )
    faq_dir: Path = Field(default=Path("faq"), description="Folder of the FAQ YAML files")
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
    log_level: str = Field(default="WARNING", description="Python logging level")

    @field_validator("filieres")
    @classmethod
    def _at_least_one_filiere(cls, value: str) -> str:
        if not [part for part in value.split(";") if part.strip()]:
            raise ValueError("FILIERES needs at least one name")
        return value

    @property
    def filiere_names(self) -> list[str]:
        """Return the configured training tracks, in order."""
        return [part.strip() for part in self.filieres.split(";") if part.strip()]
