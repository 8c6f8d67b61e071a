"""``lapak.toml``: typed configuration with environment overrides (reading the file: :mod:`connectors.config`).

Every section is a pydantic-settings model whose environment variables
(``LAPAK_<SECTION>_<KEY>``) win over the file. Unknown keys are errors that name the key.
Relative paths are resolved against the folder of the config file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from schemas.errors import ConfigError


def _https_unless_loopback(url: str) -> str:
    """A marketplace URL: ``https://``, or plain ``http://`` to this machine only (the sandboxes):
    the client secret and tokens travel in its requests."""
    import ipaddress
    from urllib.parse import urlsplit

    url = url.rstrip("/")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and host:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if loopback:
            return url
        raise ValueError(f"must start with https:// (plain http:// would send the credentials in clear): {url}")
    raise ValueError(f"must be an https:// URL: {url}")


class _Section(BaseSettings):
    """A config section: the file's values, overridden by ``LAPAK_<SECTION>_<KEY>``."""

    model_config = SettingsConfigDict(extra="forbid", case_sensitive=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings


class MarketplaceConfig(_Section):
    model_config = SettingsConfigDict(env_prefix="LAPAK_MARKETPLACE_", extra="forbid")

    api_url: str = Field(description="Base URL of every call but the token endpoint.")
    auth_url: str = Field(description="Host of the token endpoint.")
    fs_id: int
    client_id: str
    client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("LAPAK_CLIENT_SECRET", "client_secret"),
        description="From env LAPAK_CLIENT_SECRET or the Prefect Secret block; never required in the file.",
    )
    client_secret_block: str | None = Field(
        default=None, description="Name of a Prefect Secret block holding the client secret."
    )
    rate_limit_per_second: float = Field(default=5, gt=0)

    @field_validator("api_url", "auth_url")
    @classmethod
    def _https(cls, v: str) -> str:
        return _https_unless_loopback(v)



class TikTokConfig(_Section):
    """The optional second channel (../shared/tiktok-shop-api.md): one app, shops authorised one by one."""

    model_config = SettingsConfigDict(env_prefix="LAPAK_TIKTOK_", extra="forbid")

    api_url: str = Field(description="Base URL of every signed call.")
    auth_url: str = Field(description="Host of the token endpoints.")
    app_key: str
    app_secret: SecretStr | None = Field(
        default=None, description="From env LAPAK_TIKTOK_APP_SECRET or the Prefect Secret block; never in the file.")
    app_secret_block: str | None = Field(default=None, description="Name of a Prefect Secret block holding it.")
    rate_limit_per_second: float = Field(default=50, gt=0, description="Per path template (contract: 50/s).")
    categories: dict[str, str] = Field(
        default_factory=dict, description="[tiktok.categories]: catalogue text -> this channel's leaf id.")

    @field_validator("api_url", "auth_url")
    @classmethod
    def _https(cls, v: str) -> str:
        return _https_unless_loopback(v)

    @field_validator("categories", mode="before")
    @classmethod
    def _ids_as_text(cls, v: Any) -> Any:
        return {k: str(i) for k, i in v.items()} if isinstance(v, dict) else v


class StateConfig(_Section):
    model_config = SettingsConfigDict(env_prefix="LAPAK_STATE_", extra="forbid")

    url: str = "sqlite:///var/lapak.db"


class OutputConfig(_Section):
    model_config = SettingsConfigDict(env_prefix="LAPAK_OUTPUT_", extra="forbid")

    dir: Path = Path("out")


class StockConfig(_Section):
    model_config = SettingsConfigDict(env_prefix="LAPAK_STOCK_", extra="forbid")

    safety_buffer: int = Field(default=0, ge=0)


class SyncConfig(_Section):
    model_config = SettingsConfigDict(env_prefix="LAPAK_SYNC_", extra="forbid")

    shrink_threshold: float = Field(
        default=0.5, gt=0, le=1,
        description="Hold deactivations when a catalogue lost more than this share of its listings.")
    allow_private_catalogue_urls: bool = Field(
        default=False, description="Catalogue URLs may point at private, loopback or link-local addresses "
        "(a sheet server on the office network; tests). Plain http:// stays loopback-only.")


class OrdersConfig(_Section):
    model_config = SettingsConfigDict(env_prefix="LAPAK_ORDERS_", extra="forbid")

    lookback_hours: float = Field(default=48, ge=0, description="Re-read orders created this long before the cursor.")
    first_run_days: float = Field(default=3, gt=0, description="How far back the very first pull reads.")
    keep_buyer_details_days: int = Field(
        default=90, ge=1, description="Buyers' names, phones and addresses are removed this many days after "
        "an order is finished or cancelled (the order, its lines and totals stay).")


BLOCK_PATTERN = r"^[a-z0-9][a-z0-9-]*/[A-Za-z0-9][A-Za-z0-9_-]*$"
"""A Prefect block as ``<block type slug>/<block name>``: ``slack-webhook/lapak-alerts``."""


class OperatorsConfig(_Section):
    model_config = SettingsConfigDict(env_prefix="LAPAK_OPERATORS_", extra="forbid")

    notify: str = Field(
        default="", pattern=r"^$|" + BLOCK_PATTERN[1:],
        description="A Prefect notification block (`<block type>/<block name>`, e.g. slack-webhook/lapak-alerts) "
        "told of every failed or crashed run; `lapak serve` keeps the automation.")


GROUP_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
"""A group's stable id: lowercase letters, digits and dashes, at most 40 characters."""


class GroupConfig(BaseModel):
    """One village group: its stable id, where it sells and where its catalogue lives."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=GROUP_ID_PATTERN, description="Stable id: SKUs and state hang on it.")
    name: str
    village: str = ""
    regency: str = ""
    shop_id: int
    tiktok_shop_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,19}$",
        description="The same products also listed on the second channel (a number or a string).")
    catalogue: str = Field(description="A path (relative to the config file) or an https:// CSV export URL.")
    notify: str = Field(default="", description="A Prefect notification block (`<block type>/<block name>`, "
                        "e.g. custom-webhook/wa-sekar-carica) that tells the group of new orders to pack.")
    photos: str = Field(default="", description="A folder or .zip (relative to the config file) the photo "
                        "column's file names refer to; default: a foto/, photos/ or gambar/ folder or ZIP "
                        "beside the catalogue.")

    @field_validator("tiktok_shop_id", mode="before")
    @classmethod
    def _shop_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    def shop_on(self, channel: str) -> int | None:
        """The group's shop on ``channel`` (``marketplace`` or ``tiktok``), None when it is not listed there."""
        if channel == "marketplace":
            return self.shop_id
        if channel == "tiktok":
            return int(self.tiktok_shop_id) if self.tiktok_shop_id else None
        raise ConfigError(f"unknown channel {channel!r}")

    @property
    def catalogue_is_url(self) -> bool:
        return self.catalogue.startswith(("https://", "http://"))


class LapakConfig(BaseModel):
    """The whole ``lapak.toml``."""

    model_config = ConfigDict(extra="forbid")

    SECTIONS: ClassVar[tuple[str, ...]] = ("marketplace", "tiktok", "state", "output", "stock", "sync", "orders",
                                           "operators")

    marketplace: MarketplaceConfig
    tiktok: TikTokConfig | None = None
    state: StateConfig = Field(default_factory=StateConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    stock: StockConfig = Field(default_factory=StockConfig)
    sync: SyncConfig = Field(default_factory=SyncConfig)
    orders: OrdersConfig = Field(default_factory=OrdersConfig)
    operators: OperatorsConfig = Field(default_factory=OperatorsConfig)
    groups: list[GroupConfig] = Field(default_factory=list)
    categories: dict[str, int] = Field(default_factory=dict, description="Catalogue text -> leaf category id.")
    base_dir: Path = Field(default=Path("."), exclude=True)

    def group(self, group_id: str) -> GroupConfig:
        for g in self.groups:
            if g.id == group_id:
                return g
        raise ConfigError(f"no group {group_id!r} in the configuration")

    @property
    def channels(self) -> tuple[str, ...]:
        """The configured channels, the first marketplace first."""
        return ("marketplace", "tiktok") if self.tiktok is not None else ("marketplace",)

    def path(self, p: str | Path) -> Path:
        """A path from the file, resolved against the config file's folder."""
        p = Path(p)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def output_dir(self) -> Path:
        return self.path(self.output.dir)

    @property
    def state_url(self) -> str:
        """The state URL, a relative SQLite path resolved against the config folder."""
        url = self.state.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix):]))
        return url


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown key {loc!r}")
        else:
            parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def parse_config(data: dict[str, Any], base_dir: Path, source: str = "lapak.toml") -> LapakConfig:
    """Validate a config mapping; errors name the source and the key."""
    sections: dict[str, Any] = {}
    try:
        for name, model in (("marketplace", MarketplaceConfig), ("state", StateConfig),
                            ("output", OutputConfig), ("stock", StockConfig), ("sync", SyncConfig),
                            ("orders", OrdersConfig), ("operators", OperatorsConfig), ("tiktok", TikTokConfig)):
            if name == "tiktok" and name not in data:
                continue  # the second channel is optional
            try:
                if name in data or name != "marketplace":
                    sections[name] = model(**data.get(name, {}))
                else:
                    sections[name] = model()  # all from the environment, or a clear error
            except ValidationError as err:
                raise ConfigError(f"{source}: [{name}] {_describe(err)}") from None
        rest = {k: v for k, v in data.items() if k not in LapakConfig.SECTIONS}
        return LapakConfig(**sections, **rest, base_dir=base_dir)
    except ValidationError as err:
        raise ConfigError(f"{source}: {_describe(err)}") from None

