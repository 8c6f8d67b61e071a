"""Per-shop authorisation (../shared/tiktok-shop-api.md, section 1): tokens, refreshes, ciphers.

A shop's tokens live in the :class:`~schemas.tokens.TokenKeeper`; the client holds a copy and
refreshes the access token when it is within five minutes of its expiry, or when a call says it
expired (``105002``: refresh once, repeat once). A refresh runs inside the keeper's
``refreshing`` lock and re-reads the tokens first: another worker may have refreshed already.
Every signed call but an image upload carries the shop's ``shop_cipher``, read once per shop
from ``GET /authorization/202309/shops``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from connectors.tiktok import settings as S
from connectors.tiktok.answers import Shops, TokenData
from connectors.tiktok.transport import Call, Reply, Transport, make_call
from schemas.errors import AuthError, ForbiddenError, ShopAuthorisationError
from schemas.tokens import ShopTokens, TokenKeeper

log = logging.getLogger("lapak.tiktok")

_RELATIVE_BELOW = 1_000_000_000  # an "expire_in" this small is a duration, not a time (2001)


def unauthorised(shop: str, why: str, endpoint: str | None = None) -> ShopAuthorisationError:
    return ShopAuthorisationError(f"shop {shop}: {why}; {S.AUTHORISE_AGAIN.format(shop=shop)}", endpoint=endpoint)


def _absolute(value: int | None, now: float) -> int | None:
    if value is None:
        return None
    return int(now + value) if value < _RELATIVE_BELOW else int(value)


def tokens_of(shop: str, answer: TokenData, now: float, previous: ShopTokens | None = None) -> ShopTokens:
    """The shop's tokens from a token answer; what a refresh leaves out is kept from ``previous``."""
    access_expires = _absolute(answer.access_token_expire_in, now) or 0
    refresh = answer.refresh_token.get_secret_value() if answer.refresh_token else ""
    refresh_expires = _absolute(answer.refresh_token_expire_in, now)
    if previous is not None:
        refresh = refresh or previous.refresh_token
        refresh_expires = refresh_expires or previous.refresh_expires
    return ShopTokens(shop_id=shop, access_token=answer.access_token.get_secret_value(), access_expires=access_expires,
                      refresh_token=refresh, refresh_expires=refresh_expires or access_expires,
                      seller_name=answer.seller_name or (previous.seller_name if previous else ""),
                      open_id=answer.open_id or (previous.open_id if previous else ""))


class ShopAuth(Transport):
    """Calls acting for a shop: its token (refreshed as needed) and its cipher (a mixin)."""

    tokens: TokenKeeper
    _held: dict[str, ShopTokens]
    _ciphers: dict[str, str]
    _shop_locks: dict[str, threading.Lock]
    _state_lock: threading.Lock

    def call(self, call: Call, shop: str, *, retry_lost: bool = True) -> Reply:
        """``call`` acting for ``shop``, repeated on 429 (and on 5xx or no answer with ``retry_lost``)."""
        return self._retrying(retry_lost)(lambda: self._as_shop(call, shop))

    def _as_shop(self, call: Call, shop: str) -> Reply:
        for repeated in (False, True):
            tokens = self._access(shop)
            cipher = self._cipher(shop) if call.cipher else None
            try:
                return self._signed_once(call, tokens, cipher)
            except ForbiddenError as err:
                if err.error_code == str(S.CIPHER_REFUSED):
                    with self._state_lock:
                        self._ciphers.pop(shop, None)  # read afresh by the next call
                raise
            except AuthError as err:
                if err.error_code != str(S.TOKEN_EXPIRED) or isinstance(err, ShopAuthorisationError):
                    raise
                if repeated:
                    raise unauthorised(shop, "a freshly refreshed access token was refused as expired",
                                       call.endpoint) from None
                log.info("shop %s: access token expired early; refreshing it once", shop)
                self._refresh(shop, stale=tokens)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ tokens

    def _remember(self, tokens: ShopTokens) -> ShopTokens:
        self._scrub.hide(tokens.access_token, tokens.refresh_token)
        with self._state_lock:
            self._held[tokens.shop_id] = tokens
        return tokens

    def _access(self, shop: str) -> ShopTokens:
        """The shop's tokens with an access token good for at least five more minutes."""
        with self._state_lock:
            held = self._held.get(shop)
        if held is None:
            held = self.tokens.load(S.CHANNEL, shop)
            if held is None:
                raise unauthorised(shop, "no TikTok authorisation is stored")
            self._remember(held)
        if held.access_valid(self._clock(), S.REFRESH_MARGIN_S):
            return held
        return self._refresh(shop, stale=held)

    def _shop_lock(self, shop: str) -> threading.Lock:
        with self._state_lock:
            return self._shop_locks.setdefault(shop, threading.Lock())

    def _refresh(self, shop: str, stale: ShopTokens) -> ShopTokens:
        """A new access token for ``shop`` (``stale`` is the one found wanting), saved in the keeper."""
        with self._shop_lock(shop), self.tokens.refreshing(S.CHANNEL, shop):
            now = self._clock()
            current = self.tokens.load(S.CHANNEL, shop)
            if current is None:
                raise unauthorised(shop, "no TikTok authorisation is stored")
            self._scrub.hide(current.access_token, current.refresh_token)
            if current.access_token != stale.access_token and current.access_valid(now, S.REFRESH_MARGIN_S):
                return self._remember(current)  # another worker refreshed it meanwhile
            if not current.refresh_valid(now):
                raise unauthorised(shop, "the TikTok authorisation expired")
            answer = self._token_call(S.TOKEN_REFRESH, {"refresh_token": current.refresh_token,
                                                        "grant_type": "refresh_token"}, shop)
            fresh = tokens_of(shop, answer, now, previous=current)
            self.tokens.save(S.CHANNEL, fresh)
            self._counters.add("token_refreshes")
            log.info("shop %s: access token refreshed", shop)
            return self._remember(fresh)

    def _token_call(self, path: str, params: dict[str, str], shop: str) -> TokenData:
        """An unsigned token call; its URL carries the secret, so neither it nor its query is logged.
        Not repeated here: a refresh runs inside :meth:`call`, whose retries repeat it."""
        call = Call("GET", path, path, cipher=False)
        query: dict[str, Any] = {"app_key": self.app_key, "app_secret": self._secret(), **params}

        def once() -> TokenData:
            resp, _ = self._http("GET", self.auth_url + path, call, params=query)
            return self._model(self._interpret(resp, call, shop), TokenData, call)

        answer = once()
        self._scrub.hide(answer.access_token.get_secret_value(),
                         answer.refresh_token.get_secret_value() if answer.refresh_token else "")
        return answer

    # ------------------------------------------------------------------ shops

    def _cipher(self, shop: str) -> str:
        with self._state_lock:
            cipher = self._ciphers.get(shop)
        if cipher is not None:
            return cipher
        call = make_call("GET", S.SHOPS, cipher=False)
        shops: Shops = self._model(self._as_shop(call, shop), Shops, call)  # inside the caller's retries
        found = [s for s in shops.shops if s.id == shop]
        if not found:
            ids = ", ".join(s.id for s in shops.shops) or "none"
            raise unauthorised(shop, f"its token acts for shop(s) {ids}, not this one", call.endpoint)
        self._counters.add("cipher_fetches")
        with self._state_lock:
            self._ciphers[shop] = found[0].cipher
        return found[0].cipher

    def authorize(self, shop_id: str, code: str) -> ShopTokens:
        """Trade a seller's auth code for ``shop_id``'s tokens, check they act for exactly that
        shop, and keep them in the keeper. The tokens are returned (``seller_name`` set)."""
        shop = str(shop_id)
        self._scrub.hide(code)
        grant = {"auth_code": code, "grant_type": "authorized_code"}
        answer = self._retrying()(lambda: self._token_call(S.TOKEN_GET, grant, shop))
        tokens = tokens_of(shop, answer, self._clock())
        call = make_call("GET", S.SHOPS, cipher=False)
        shops: Shops = self._model(self._retrying()(lambda: self._signed_once(call, tokens, None)), Shops, call)
        ids = [s.id for s in shops.shops]
        if ids != [shop]:
            raise ShopAuthorisationError(
                f"the auth code authorises shop(s) {', '.join(ids) or 'none'}, not shop {shop}: "
                f"ask shop {shop}'s seller for a code of that shop", endpoint=call.endpoint)
        if not tokens.seller_name:
            tokens = replace(tokens, seller_name=shops.shops[0].name)
        self.tokens.save(S.CHANNEL, tokens)
        with self._state_lock:
            self._ciphers[shop] = shops.shops[0].cipher
        log.info("shop %s authorised (%s)", shop, tokens.seller_name or "no seller name")
        return self._remember(tokens)
