"""What a run holds: the configuration, the state store and the channel, opened and closed together.

A flow opens its resources eagerly (:func:`open_run`) and closes them when it ends. Steps take
plain parameters (the config path, ids, typed values) and find the run's resources with
:func:`resources`: in the flow's own process that is the runtime the flow opened (one client,
so one pacer and one token for every step); in another process (a distributed task runner) it
is opened once for that process.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.config import load_config
from connectors.marketplace.channel import MarketplaceChannel
from connectors.state import StateStore
from connectors.state.tokens import SealedTokens
from schemas.channel import MARKETPLACE, Channel, ShopRef
from schemas.config import GroupConfig, LapakConfig
from schemas.tokens import ShopTokens


def open_channel(config: LapakConfig, name: str = MARKETPLACE, *, store: StateStore | None = None,
                 **client_options: Any) -> Channel:
    """A configured sales channel (the one place the engine learns which connector that is).
    ``client_options`` go to the first marketplace's client; the second channel keeps its shops'
    tokens sealed in ``store``."""
    if name == MARKETPLACE:
        return MarketplaceChannel.from_config(config.marketplace, **client_options)
    if name == "tiktok" and config.tiktok is not None and store is not None:
        from connectors.tiktok import TikTokChannel

        shops = [g.tiktok_shop_id for g in config.groups if g.tiktok_shop_id]
        # Every call acts for a shop, reading the category tree too: the first configured one's.
        return TikTokChannel.from_config(config.tiktok, SealedTokens(store), category_shop=shops[0] if shops else None)
    raise ValueError(f"channel {name!r} is not configured")


def authorisation_warnings(rt: Runtime, now: float | None = None) -> list[str]:
    """A warning for every configured shop of a per-shop-authorised channel whose authorisation is
    missing, has ended or ends within 7 days (read without the key: only the times are clear)."""
    if rt.config.tiktok is None:
        return []
    now = time.time() if now is None else now
    ends = SealedTokens.expiries_in(rt.store, "tiktok")
    out = []
    for shop in sorted(rt.shops("tiktok")):
        sid = str(shop.shop_id)
        if sid not in ends:
            out.append(f"tiktok shop {sid}: not authorised yet; run lapak authorize tiktok --shop {sid} --code CODE")
        elif warning := ShopTokens(sid, "", 0, "", ends[sid]).expiry_warning(now):
            out.append("tiktok " + warning)
    return out


class Progress:
    """Told how a sync advances (catalogues read, writes planned, items written); silent by default."""

    def read(self, done: int, total: int) -> None: ...

    def planned(self, writes: int) -> None: ...

    def wrote(self, items: int) -> None: ...

    def finish(self) -> None: ...


@dataclass
class Runtime:
    """One run's resources; thread-safe to share between the run's steps."""

    config: LapakConfig
    store: StateStore
    channels: dict[str, Channel]
    progress: Progress = field(default_factory=Progress)
    label: str = ""  # which run this is, for whoever waits on its leases (e.g. the Prefect flow run)

    @property
    def channel(self) -> Channel:
        """The first marketplace (its categories are the catalogue's)."""
        return self.channels[MARKETPLACE]

    def channel_of(self, shop: ShopRef | str) -> Channel:
        return self.channels[shop.channel if isinstance(shop, ShopRef) else shop]

    @classmethod
    def open(cls, config_path: str | Path, *, channel: Callable[[Channel], Channel] | None = None,
             **client_options: Any) -> Runtime:
        """Read the config, open the state store (migrating it) and every configured channel's client.

        ``channel`` may wrap each channel (e.g. to take Prefect concurrency slots around writes)."""
        config = load_config(config_path)
        store = StateStore(config.state_url)
        made: dict[str, Channel] = {}
        try:
            for name in config.channels:
                opened = open_channel(config, name, store=store, **(client_options if name == MARKETPLACE else {}))
                made[name] = channel(opened) if channel else opened
        except BaseException:
            for ch in made.values():
                ch.close()
            store.close()
            raise
        return cls(config=config, store=store, channels=made)

    def groups(self, only: list[str] | None = None) -> list[GroupConfig]:
        """The configured groups, or the named ones (an unknown name is an error naming it)."""
        if only:
            for gid in only:
                self.config.group(gid)
            return [g for g in self.config.groups if g.id in only]
        return list(self.config.groups)

    def shops(self, channel: str | None = None) -> dict[ShopRef, list[GroupConfig]]:
        """Groups by shop on every configured channel (or on ``channel``); several groups may share a shop."""
        out: dict[ShopRef, list[GroupConfig]] = {}
        for name in self.config.channels if channel is None else (channel,):
            for g in self.config.groups:
                if (shop_id := g.shop_on(name)) is not None:
                    out.setdefault(ShopRef(name, shop_id), []).append(g)
        return out

    def check_credentials(self) -> None:
        """Every channel's app credentials tried now (a token fetched, a signed call): a refused
        secret raises :class:`~schemas.errors.AuthError` before any work is done."""
        for name, ch in self.channels.items():
            check = getattr(ch, "check_credentials", None)
            if check is not None:
                check(sorted(shop.shop_id for shop in self.shops(name)))

    def close(self) -> None:
        try:
            for ch in self.channels.values():
                ch.close()
        finally:
            self.store.close()


_open: dict[str, tuple[Runtime, int]] = {}
_lock = threading.Lock()


def _key(config_path: str | Path) -> str:
    return str(Path(config_path).resolve())


@contextmanager
def open_run(config_path: str | Path, **options: Any) -> Iterator[Runtime]:
    """Open a run's resources for the length of the block; steps in this process share them."""
    key = _key(config_path)
    with _lock:
        held = _open.get(key)
        rt = held[0] if held else Runtime.open(config_path, **options)
        _open[key] = (rt, (held[1] if held else 0) + 1)
    try:
        yield rt
    finally:
        with _lock:
            rt, users = _open.pop(key)
            if users > 1:
                _open[key] = (rt, users - 1)
            else:
                rt.close()


def resources(config_path: str | Path, **options: Any) -> Runtime:
    """The open run of ``config_path`` in this process, else one opened (with ``options``, as
    :func:`open_run` takes them) for the rest of the process."""
    key = _key(config_path)
    with _lock:
        held = _open.get(key)
        if held is None:
            rt = Runtime.open(config_path, **options)
            _open[key] = held = (rt, 1)
            atexit.register(rt.close)
        return held[0]
