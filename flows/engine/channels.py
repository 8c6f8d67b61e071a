"""The same catalogue on every channel a group sells on: listings fitted to each other channel's rules.

The intake validates rows for the first marketplace; for a group that also sells on another
channel (``tiktok_shop_id``), :func:`fit_for_channels` makes that channel's copies
(:func:`schemas.channel_rules.fit_listings`: titles completed, categories mapped to the
channel's own leaves, pictures limited to uploaded photos) and the lines its rejects report adds.
A row that can't be listed on a channel stays listed on the first marketplace: its line is a
warning there, and the reason names the channel.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace

import pandas as pd

from connectors.files import private_dir
from flows.engine.runtime import Runtime
from schemas.categories import Category, CategoryIndex
from schemas.channel import MARKETPLACE
from schemas.channel_rules import TIKTOK, CategoryMap, ChannelRules, GroupLabels, fit_listings
from schemas.config import GroupConfig
from schemas.errors import AuthError, ShopAuthorisationError
from schemas.listing import Listing
from schemas.pictures import PHOTO
from schemas.rejects import REJECT_COLUMNS

log = logging.getLogger("lapak.intake")

RULES: dict[str, ChannelRules] = {"tiktok": TIKTOK}
CATEGORY_CACHE_SECONDS = 24 * 3600


def channel_category_maps(rt: Runtime) -> dict[str, CategoryMap | Exception]:
    """Every other configured channel's category map (its tree cached for a day), or why it can't be had."""
    out: dict[str, CategoryMap | Exception] = {}
    for name in rt.config.channels:
        if name == MARKETPLACE:
            continue
        try:
            aliases = rt.config.tiktok.categories if name == "tiktok" and rt.config.tiktok else {}
            out[name] = CategoryMap(_categories(rt, name), aliases, rules=RULES[name])
        except Exception as err:
            if isinstance(err, AuthError) and not isinstance(err, ShopAuthorisationError):
                raise  # the app's own credentials refused: the run stops before any work
            log.error("%s: categories could not be read: %s", name, err)
            out[name] = err
    return out


def _categories(rt: Runtime, name: str) -> list[Category]:
    cache = rt.config.output_dir / ".cache" / f"categories-{name}.json"
    if cache.exists():
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if time.time() - cached.get("fetched_at", 0) < CATEGORY_CACHE_SECONDS:
            return [Category(**c) for c in cached["categories"]]
    fetched = rt.channels[name].categories()
    private_dir(cache.parent)
    cache.write_text(json.dumps({"fetched_at": time.time(), "categories": [c.model_dump() for c in fetched]}),
                     encoding="utf-8")
    return fetched


def _uploadable(listing: Listing) -> Listing:
    """Only photo files can be uploaded to a channel that takes no outside picture URLs."""
    photos = tuple(p for p in listing.pictures if p.startswith(PHOTO))
    return listing if photos == listing.pictures else replace(listing, pictures=photos)


def fit_for_channels(group: GroupConfig, listings: list[Listing], maps: dict[str, CategoryMap | Exception],
                     first: CategoryIndex, file: str, headers: dict[str, dict[str, str]]
                     ) -> tuple[dict[str, tuple[Listing, ...]], pd.DataFrame, dict[str, int]]:
    """The group's listings fitted to each other channel it sells on, the lines they add to its
    report (warnings naming the channel) and the rows left off each channel.

    A channel whose categories could not be read is left out (planning its shop then fails,
    naming why; nothing is deactivated for it)."""
    fitted: dict[str, tuple[Listing, ...]] = {}
    lines, left_off = [], {}
    leaf_names = {cid: c.name for cid, c in first.categories.items()}
    sheet_headers = next(iter(headers.values()), {}) if headers else {}
    labels = GroupLabels(group.name, group.regency, group.village)
    for name, cmap in maps.items():
        if group.shop_on(name) is None or isinstance(cmap, Exception):
            continue
        fit = fit_listings([_uploadable(x) for x in listings], RULES[name], categories=cmap,
                           first_leaf_names=leaf_names, group=labels, file=file, headers=sheet_headers)
        fitted[name], left_off[name] = tuple(fit.listings), fit.rejected_rows
        lines += [dict(r.model_dump(), severity="warning") for r in fit.rejects]
    frame = pd.DataFrame(lines, columns=REJECT_COLUMNS)
    return fitted, frame, left_off
