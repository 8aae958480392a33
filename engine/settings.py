"""Process settings from the environment (``WARRANT_*``) and the command line.

Settings are built on demand by the entry points (CLI, API factory), never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the workspace and the data live, and the limits Warrant runs under."""

    model_config = SettingsConfigDict(env_prefix="WARRANT_", extra="ignore", frozen=True)

    workspace: Path = Field(default_factory=Path.cwd)
    data_dir: Path = Path("var")
    bootstrap_admin_key: SecretStr | None = None
    jwt_secret: SecretStr | None = None
    audit_url: str | None = None  # SQLAlchemy URL; default: SQLite in the data dir
    query_timeout_s: float = 10.0
    query_result_limit: int = 10_000
    max_body_bytes: int = 5_000_000

    def resolved_data_dir(self) -> Path:
        """The data dir as an absolute path (relative paths are relative to the cwd)."""
        return self.data_dir if self.data_dir.is_absolute() else Path.cwd() / self.data_dir

    @property
    def store_path(self) -> Path:
        """The Oxigraph store's folder."""
        return self.resolved_data_dir() / "kg"

    @property
    def audit_db_url(self) -> str:
        """The audit / outbox database URL."""
        return self.audit_url or f"sqlite:///{self.resolved_data_dir() / 'warrant.sqlite'}"
