"""``lapak authorize tiktok --config F --shop ID --code CODE``: keep a shop's tokens, sealed.

The seller authorises the app once and the operator gets the one-time code out of band; this
trades it for the shop's tokens, checks they act for exactly that shop, and keeps them encrypted
in the state store (key: ``LAPAK_SECRET_KEY``). It prints only the shop, its name and when the
authorisation ends — never a token.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from connectors.config import load_config
from connectors.state import StateStore
from connectors.state.tokens import SealedTokens
from connectors.tiktok import authorize
from schemas.dates import WIB
from schemas.errors import ConfigError


def authorize_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if config.tiktok is None:
        raise ConfigError(f"{args.config}: no [tiktok] section; the second channel is not configured")
    shop = str(args.shop).strip()
    if not shop.isdigit():
        raise ConfigError(f"--shop {args.shop!r} is not a shop id (digits)")
    store = StateStore(config.state_url)
    try:
        tokens = authorize(config.tiktok, SealedTokens(store), shop, args.code)
    finally:
        store.close()
    ends = datetime.fromtimestamp(tokens.refresh_expires, WIB).strftime("%Y-%m-%d %H:%M WIB")
    print(f"TikTok shop {shop} ({tokens.seller_name or 'no name given'}): authorised until {ends} / "
          f"diizinkan sampai {ends}")
    if not any(g.tiktok_shop_id == shop for g in config.groups):
        print(f"note: no group in {args.config} has tiktok_shop_id = {shop} yet")
    return 0
