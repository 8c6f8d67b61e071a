"""Reading ``lapak.toml`` and resolving the secrets it names (the models: :mod:`schemas.config`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import SecretStr

from schemas.config import LapakConfig, MarketplaceConfig, TikTokConfig, parse_config
from schemas.errors import ConfigError


def load_config(path: str | Path) -> LapakConfig:
    """Read and validate ``lapak.toml``; raise :class:`ConfigError` naming the file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return parse_config(data, base_dir=path.resolve().parent, source=str(path))


def client_secret(cfg: MarketplaceConfig) -> SecretStr:
    """The client secret from the environment or the file, else from the named Prefect Secret block."""
    if cfg.client_secret is not None:
        return cfg.client_secret
    if cfg.client_secret_block:
        from prefect.blocks.system import Secret

        return SecretStr(Secret.load(cfg.client_secret_block).get())
    raise ConfigError("no client secret: set LAPAK_CLIENT_SECRET or [marketplace] client_secret_block")


def app_secret(cfg: TikTokConfig) -> SecretStr:
    """The second channel's app secret: env ``LAPAK_TIKTOK_APP_SECRET``, else the named Prefect Secret block."""
    if cfg.app_secret is not None:
        return cfg.app_secret
    if cfg.app_secret_block:
        from prefect.blocks.system import Secret

        return SecretStr(Secret.load(cfg.app_secret_block).get())
    raise ConfigError("no TikTok app secret: set LAPAK_TIKTOK_APP_SECRET or [tiktok] app_secret_block")
