"""What one sandbox marketplace accepts: credentials, ``fs_id``, linked shops, rate limit.

Defaults serve the demo (``lapak demo``) and ``lapak sandbox`` without flags:

=================  ==========================
client_id          ``lapak-demo``
client_secret      ``lapak-demo-secret``
fs_id              ``15001``
shops              ``479573,479574,479575``
rate_limit         ``50`` items/s per endpoint path (burst 50); ``0`` or ``None`` = unlimited
=================  ==========================

Any field may also come from ``LAPAK_SANDBOX_<FIELD>`` (how :func:`running_sandbox` hands the
client secret to its subprocess without putting it on a command line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_CLIENT_ID = "lapak-demo"
DEFAULT_CLIENT_SECRET = "lapak-demo-secret"
DEFAULT_FS_ID = 15001
DEFAULT_SHOPS: tuple[int, ...] = (479573, 479574, 479575)
DEFAULT_RATE_LIMIT = 50.0
DEFAULT_DATA_DIR = Path("var/sandbox")

HOST = "127.0.0.1"
ALLOWED_HOSTS = ("127.0.0.1", "localhost")  # the Host header a request must carry (both sandboxes)
TOKEN_TTL_SECONDS = 2_592_000
URL_LINE_PREFIX = "Sandbox marketplace: "


class SandboxSettings(BaseSettings):
    """One sandbox's configuration. ``rate_limit`` ``None`` means no limit."""

    model_config = SettingsConfigDict(env_prefix="LAPAK_SANDBOX_", extra="forbid")

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: SecretStr = SecretStr(DEFAULT_CLIENT_SECRET)
    fs_id: int = DEFAULT_FS_ID
    shops: Annotated[tuple[int, ...], NoDecode] = Field(default=DEFAULT_SHOPS, min_length=1)
    rate_limit: float | None = DEFAULT_RATE_LIMIT
    data_dir: Path = DEFAULT_DATA_DIR
    port: int = Field(default=0, ge=0, le=65535)

    @field_validator("shops", mode="before")
    @classmethod
    def _split_shops(cls, v: object) -> object:
        if isinstance(v, str):
            return tuple(int(s) for s in v.replace(" ", "").split(",") if s)
        if isinstance(v, int):
            return (v,)
        return v

    @field_validator("rate_limit")
    @classmethod
    def _zero_is_unlimited(cls, v: float | None) -> float | None:
        return v if v is not None and v > 0 else None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "sandbox.db"
