"""What every flow needs from ``lapak.toml``: the config, the state store and the marketplace client."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from connectors.marketplace import MarketplaceClient
from connectors.state import StateStore
from connectors.config import load_config
from schemas.config import GroupConfig, LapakConfig


@dataclass
class Runtime:
    """Opened once per flow run; tasks receive it (it is not serialised: runs are in-process)."""

    config: LapakConfig
    _client: MarketplaceClient | None = field(default=None, repr=False)

    @classmethod
    def open(cls, config_path: str) -> Runtime:
        return cls(config=load_config(config_path))

    @cached_property
    def store(self) -> StateStore:
        return StateStore(self.config.state_url)

    @property
    def client(self) -> MarketplaceClient:
        if self._client is None:
            self._client = MarketplaceClient.from_config(self.config.marketplace)
        return self._client

    def groups(self, only: list[str] | None = None) -> list[GroupConfig]:
        """The configured groups, or the named ones (an unknown name is an error naming it)."""
        if only:
            for gid in only:
                self.config.group(gid)
            return [g for g in self.config.groups if g.id in only]
        return list(self.config.groups)

    def shops(self) -> dict[int, list[GroupConfig]]:
        """Groups by shop (several groups may share one shop)."""
        out: dict[int, list[GroupConfig]] = {}
        for g in self.config.groups:
            out.setdefault(g.shop_id, []).append(g)
        return out

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if "store" in self.__dict__:
            self.store.close()
