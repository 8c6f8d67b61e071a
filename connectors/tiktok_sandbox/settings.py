"""What one TikTok-shaped sandbox accepts: app credentials, shops, rate limit, token lifetimes.

=====================  ===============================================================
app_key                ``lapak-tiktok-demo``
app_secret             ``lapak-tiktok-demo-secret``
shops                  ``7494001,7494002,7494003`` (decimal strings on the wire)
rate_limit             ``50`` requests/s per path template (burst 50); ``0``/``None`` = none
access_token_ttl       ``604800`` s (7 days); refresh_token_ttl ``31536000`` s (365 days)
webhook_timeout        ``5`` s per attempt; ``webhook_retries`` 3, ``webhook_backoff`` 1 s
                       (doubling between retries)
=====================  ===============================================================

Any field may also come from ``LAPAK_TIKTOK_SANDBOX_<FIELD>`` (how
:func:`~connectors.tiktok_sandbox.handle.running_tiktok_sandbox` hands settings, the secret
included, to its subprocess without a command line).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_APP_KEY = "lapak-tiktok-demo"
DEFAULT_APP_SECRET = "lapak-tiktok-demo-secret"
DEFAULT_SHOPS: tuple[str, ...] = ("7494001", "7494002", "7494003")
DEFAULT_RATE_LIMIT = 50.0
DEFAULT_DATA_DIR = Path("var/tiktok-sandbox")
ACCESS_TOKEN_TTL = 7 * 86_400
REFRESH_TOKEN_TTL = 365 * 86_400
REGION = "ID"
HOST = "127.0.0.1"
URL_LINE_PREFIX = "Sandbox TikTok Shop: "
ENV_PREFIX = "LAPAK_TIKTOK_SANDBOX_"
_SHOP_NAMES = ("Toko Desa Sukamaju", "Toko Desa Sumberrejo", "Toko Desa Mekarsari")


@dataclass(frozen=True)
class Warehouse:
    id: str
    name: str
    is_default: bool

    def answer(self) -> dict:
        return {"id": self.id, "name": self.name, "is_default": self.is_default,
                "effect_status": "ENABLED", "type": "SALES_WAREHOUSE"}


@dataclass(frozen=True)
class Shop:
    """One shop the sandbox serves: its name, cipher and warehouses (derived from its id, stable)."""

    id: str
    name: str
    cipher: str
    code: str
    warehouses: tuple[Warehouse, ...]

    @property
    def default_warehouse(self) -> Warehouse:
        return next(w for w in self.warehouses if w.is_default)

    @property
    def auth_code(self) -> str:
        return f"code-{self.id}"

    def answer(self) -> dict:
        return {"id": self.id, "name": self.name, "region": REGION, "seller_type": "LOCAL",
                "cipher": self.cipher, "code": self.code}


def make_shop(shop_id: str, index: int) -> Shop:
    digest = hashlib.sha256(f"lapak-tiktok-shop-{shop_id}".encode()).hexdigest()
    name = _SHOP_NAMES[index] if index < len(_SHOP_NAMES) else f"Toko Desa {shop_id}"
    base = int(shop_id) * 100
    return Shop(id=shop_id, name=name, cipher=f"ROW_{digest[:24]}", code=f"IDLCL{digest[24:30].upper()}",
                warehouses=(Warehouse(str(base + 1), f"Gudang Utama {name}", True),
                            Warehouse(str(base + 2), f"Gudang Cadangan {name}", False)))


class TikTokSandboxSettings(BaseSettings):
    """One sandbox's configuration. ``rate_limit`` ``None`` means no limit."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    app_key: str = DEFAULT_APP_KEY
    app_secret: SecretStr = SecretStr(DEFAULT_APP_SECRET)
    shops: Annotated[tuple[str, ...], NoDecode] = Field(default=DEFAULT_SHOPS, min_length=1)
    rate_limit: float | None = DEFAULT_RATE_LIMIT
    data_dir: Path = DEFAULT_DATA_DIR
    port: int = Field(default=0, ge=0, le=65535)
    access_token_ttl: int = Field(default=ACCESS_TOKEN_TTL, ge=1)
    refresh_token_ttl: int = Field(default=REFRESH_TOKEN_TTL, ge=1)
    webhook_timeout: float = Field(default=5.0, gt=0)
    webhook_retries: int = Field(default=3, ge=0)
    webhook_backoff: float = Field(default=1.0, ge=0)

    @field_validator("shops", mode="before")
    @classmethod
    def _split_shops(cls, v: object) -> object:
        if isinstance(v, str):
            v = v.replace(" ", "").split(",")
        if isinstance(v, int):
            v = (v,)
        items = tuple(str(s) for s in v if str(s))  # type: ignore[union-attr]
        if not all(s.isdigit() for s in items):
            raise ValueError("shop ids are decimal numbers")
        return items

    @field_validator("rate_limit")
    @classmethod
    def _zero_is_unlimited(cls, v: float | None) -> float | None:
        return v if v is not None and v > 0 else None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "tiktok-sandbox.db"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    def shop_list(self) -> list[Shop]:
        return [make_shop(s, i) for i, s in enumerate(self.shops)]
