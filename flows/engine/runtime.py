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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.config import load_config
from connectors.marketplace.channel import MarketplaceChannel
from connectors.state import StateStore
from schemas.channel import Channel
from schemas.config import GroupConfig, LapakConfig


def open_channel(config: LapakConfig, **client_options: Any) -> Channel:
    """The configured sales channel (the one place the engine learns which connector that is)."""
    return MarketplaceChannel.from_config(config.marketplace, **client_options)


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
    channel: Channel
    progress: Progress = field(default_factory=Progress)
    label: str = ""  # which run this is, for whoever waits on its leases (e.g. the Prefect flow run)

    @classmethod
    def open(cls, config_path: str | Path, *, channel: Callable[[Channel], Channel] | None = None,
             **client_options: Any) -> Runtime:
        """Read the config, open the state store (migrating it) and the channel's client.

        ``channel`` may wrap the channel (e.g. to take Prefect concurrency slots around writes)."""
        config = load_config(config_path)
        store = StateStore(config.state_url)
        try:
            made = open_channel(config, **client_options)
        except BaseException:
            store.close()
            raise
        return cls(config=config, store=store, channel=channel(made) if channel else made)

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
        try:
            self.channel.close()
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
