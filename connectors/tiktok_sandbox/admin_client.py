"""A client of the TikTok sandbox's admin surface (:mod:`connectors.tiktok_sandbox.admin`).

Plain ``requests``: whoever starts and drives a sandbox (tests, demos, benchmarks) needs no
FastAPI or uvicorn; only the server subprocess does.
"""

from __future__ import annotations

from typing import Any, Literal

import requests

from connectors.tiktok_sandbox.faults import FaultKind


class TikTokSandboxAdminError(RuntimeError):
    """The admin surface refused an action; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"tiktok sandbox admin: HTTP {status}: {message}")
        self.status = status


class TikTokSandboxAdmin:
    """A requests-based client for ``/admin`` of one TikTok sandbox. Methods return the envelope's ``data``."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()
        self._http.trust_env = False  # loopback: never through a proxy

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self._http.request(method, f"{self.url}/admin{path}", timeout=self.timeout, **kwargs)
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code >= 400:
            raise TikTokSandboxAdminError(r.status_code, body.get("message") or r.text[:200])
        return body.get("data")

    def health(self) -> dict:
        """app_key, shops (with cipher, auth_code, warehouses), rate_limit, webhook_url, clock_offset, now."""
        return self._call("GET", "/health")

    def place_order(self, shop_id: str | int, items: list[dict[str, Any]], *, buyer: dict | None = None,
                    status: str | None = None, create_time: int | None = None,
                    shipping_fee: int | None = None) -> dict:
        """Place an order; ``items`` are ``{"seller_sku" or "product_id", "quantity"}``; ``buyer`` is
        ``{name, phone, address, postal_code, message}`` (any subset). ``status`` defaults to
        ``AWAITING_SHIPMENT`` (``UNPAID`` allowed). Stock is taken; refused when short (409).
        Returns the order in the contract's shape and notifies the webhook target."""
        body: dict[str, Any] = {"shop_id": str(shop_id), "items": items}
        for k, v in (("buyer", buyer), ("status", status), ("create_time", create_time),
                     ("shipping_fee", shipping_fee)):
            if v is not None:
                body[k] = v
        return self._call("POST", "/orders", json=body)

    def orders(self, shop_id: str | int) -> list[dict]:
        """Every order of a shop, by create_time (contract shape)."""
        return self._call("GET", "/orders", params={"shop_id": str(shop_id)})

    def set_order_status(self, order_id: str | int, status: str, *, update_time: int | None = None,
                         cancel_reason: str | None = None) -> dict:
        """Move an order (its update_time grows; a cancel gives no stock back); notifies the webhook."""
        body: dict[str, Any] = {"status": status}
        if update_time is not None:
            body["update_time"] = update_time
        if cancel_reason is not None:
            body["cancel_reason"] = cancel_reason
        return self._call("POST", f"/orders/{order_id}/status", json=body)

    def products(self, shop_id: str | int) -> list[dict]:
        """Every column of the shop's products (``doc`` holds the contract fields), by id."""
        return self._call("GET", f"/shops/{shop_id}/products")

    def expire_token(self, shop_id: str | int, which: Literal["access", "refresh"] = "access") -> int:
        """Expire the shop's live access (→ 105002, refresh works) or refresh tokens (→ 36004006:
        authorise again) now; returns how many were live."""
        return self._call("POST", f"/shops/{shop_id}/expire", json={"token": which})["expired"]

    def images(self, shop_id: str | int | None = None) -> list[dict]:
        return self._call("GET", "/images", params={} if shop_id is None else {"shop_id": str(shop_id)})

    def image(self, uri: str) -> bytes:
        """The bytes kept for an upload."""
        r = self._http.get(f"{self.url}/admin/images/{uri}", timeout=self.timeout)
        if r.status_code >= 400:
            raise TikTokSandboxAdminError(r.status_code, r.text[:200])
        return r.content

    def inject_fault(self, kind: FaultKind, *, path: str = "", count: int | None = None,
                     probability: float | None = None, seed: int | None = None, seconds: float | None = None,
                     status: int | None = None, retry_after: int | None = None) -> dict:
        """Add a fault (kinds in :mod:`connectors.tiktok_sandbox.faults`); returns it with its ``id``."""
        spec = {"kind": kind, "path": path, "count": count, "probability": probability, "seed": seed,
                "seconds": seconds, "status": status, "retry_after": retry_after}
        return self._call("POST", "/faults", json={k: v for k, v in spec.items() if v is not None})

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def stats(self) -> dict:
        """``{"paths": {template: {calls, http_429, http_5xx}}, "totals", "creates": {shop: {sku: n}},
        "webhooks": {queued, attempts, delivered, failed}, "faults_fired": {kind: n}}``."""
        return self._call("GET", "/stats")

    def reset_stats(self) -> None:
        self._call("DELETE", "/stats")

    def set_rate_limit(self, rate: float | None) -> None:
        """Requests per second per path template (burst the same); ``None`` = unlimited. Buckets refill."""
        self._call("PUT", "/rate-limit", json={"rate": rate})

    def set_webhook(self, url: str | None) -> None:
        """Where order notifications go (kept across restarts); ``None`` stops them."""
        self._call("PUT", "/webhook", json={"url": url})

    def webhook(self) -> str | None:
        return self._call("GET", "/webhook")["url"]

    def set_clock_offset(self, seconds: float) -> int:
        """Shift the server's clock (token expiry, timestamps, new rows); returns its ``now``."""
        return self._call("PUT", "/clock", json={"offset": seconds})["now"]

    def close(self) -> None:
        self._http.close()
