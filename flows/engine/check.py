"""``lapak check``: one catalogue file validated offline, as a group, with what it assumed said.

The same file checked as another group id gives other SKUs, and without the config's category
aliases other rejects: :class:`CheckSetup` carries what the check used, so the command can say it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from flows.engine.intake import (
    CATEGORY_CACHE_SECONDS,
    GroupIntake,
    intake_catalogue,
    load_categories,
    photo_places,
    write_report,
)
from schemas.categories import CategoryIndex
from schemas.config import GroupConfig, LapakConfig
from schemas.errors import LapakError


def _configured_group_for(path: Path, config: LapakConfig | None) -> GroupConfig | None:
    """The configured group whose catalogue is this file, if any."""
    if config is not None:
        for g in config.groups:
            if not g.catalogue_is_url and config.path(g.catalogue).resolve() == path.resolve():
                return g
    return None


def _group_named_after(path: Path, group_id: str | None = None) -> GroupConfig:
    """An ad-hoc group: ``group_id``, else an id made from the file's name."""
    gid = group_id or re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:40] or "catalogue"
    return GroupConfig(id=gid, name=group_id or path.stem, shop_id=0, catalogue=str(path))


# How ``lapak check`` came to its group, and to its category list (:class:`CheckSetup`).
GROUP_FROM_OPTION = "option"        # --group ID of a configured group
GROUP_ID_FROM_OPTION = "option-id"  # --group ID without --config: the id only
GROUP_FROM_CONFIG = "config"        # the configured group whose catalogue is this file
GROUP_FROM_FILE_NAME = "file name"  # nothing said: an id made from the file's name
CATEGORIES_DEFAULT = "default"      # no --config: the default list
CATEGORIES_FETCHED = "fetched"      # the configured marketplace's list, just fetched
CATEGORIES_CACHED = "cached"        # the configured marketplace's list, cached within a day
CATEGORIES_STALE = "stale"          # an older cached list: the marketplace did not answer
CATEGORIES_OFFLINE = "offline"      # the default list: the marketplace did not answer, nothing cached


@dataclass(frozen=True)
class CheckSetup:
    """What ``lapak check`` checks a file as: the group (its id makes the SKUs), where that came
    from, the categories and aliases, and the folder its report goes to. Told to the operator,
    since the same file checked otherwise gives other SKUs and other rejects than the sync."""

    group: GroupConfig
    group_from: str
    categories: CategoryIndex
    categories_from: str
    aliases: int  # the config's [categories] aliases applied (0 without --config)
    out_dir: Path
    configured_groups: tuple[str, ...] = ()


def check_setup(path: Path, config: LapakConfig | None, out_dir: Path | None = None,
                group_id: str | None = None) -> CheckSetup:
    """The group, categories and output folder ``lapak check`` uses for ``path``: ``group_id``'s
    configured group (with ``config``) or that id alone; else the configured group whose catalogue
    is this file; else an id made from the file's name. Output: ``out_dir``, else the config's
    ``[output] dir``, else ``./out``."""
    ids = tuple(g.id for g in config.groups) if config is not None else ()
    if group_id and config is not None:
        if group_id not in ids:
            shown = ", ".join(ids[:8]) + (" …" if len(ids) > 8 else "")
            raise LapakError(f"no group {group_id!r} in the configuration / tidak ada kelompok {group_id!r} di "
                             f"konfigurasi (groups / kelompok: {shown or 'none / tidak ada'})")
        group, group_from = config.group(group_id).model_copy(update={"catalogue": str(path)}), GROUP_FROM_OPTION
    elif group_id:
        group, group_from = _group_named_after(path, group_id), GROUP_ID_FROM_OPTION
    elif (configured := _configured_group_for(path, config)) is not None:
        group, group_from = configured, GROUP_FROM_CONFIG
    else:
        group, group_from = _group_named_after(path), GROUP_FROM_FILE_NAME
    categories, categories_from = _check_categories(config)
    out = out_dir or (config.output_dir if config is not None else Path("out"))
    return CheckSetup(group=group, group_from=group_from, categories=categories, categories_from=categories_from,
                      aliases=len(config.categories) if config is not None else 0, out_dir=out,
                      configured_groups=ids)


def _check_categories(config: LapakConfig | None) -> tuple[CategoryIndex, str]:
    """:func:`load_categories` (offline allowed), and which list it gave: judged by the category
    cache it keeps under the config's output folder, before and after."""
    if config is None:
        return load_categories(None), CATEGORIES_DEFAULT
    cache = config.output_dir / ".cache" / "categories.json"  # where load_categories keeps it

    def fetched_at() -> float | None:
        try:
            return float(json.loads(cache.read_text(encoding="utf-8")).get("fetched_at", 0))
        except (OSError, ValueError, AttributeError):
            return None

    before = fetched_at()
    categories = load_categories(config, offline_ok=True)
    after = fetched_at()
    if before is not None and time.time() - before < CATEGORY_CACHE_SECONDS:
        return categories, CATEGORIES_CACHED
    if after is not None and after != before:
        return categories, CATEGORIES_FETCHED
    return categories, CATEGORIES_STALE if before is not None else CATEGORIES_OFFLINE


def check_file(path: Path, config: LapakConfig | None, out_dir: Path | None = None,
               group_id: str | None = None, setup: CheckSetup | None = None) -> GroupIntake:
    """``lapak check``: one file validated offline as its group (``group_id``'s when given, so its
    SKUs are the ones the sync makes; ``setup``: :func:`check_setup`'s answer, when already had),
    its annotated copy written."""
    setup = setup or check_setup(path, config, out_dir, group_id)
    raw, result = intake_catalogue(path, setup.group.id, setup.categories,
                                   photo_places(config, setup.group, path, setup.out_dir))
    return write_report(setup.out_dir, GroupIntake(group=setup.group, result=result, raw=raw))
