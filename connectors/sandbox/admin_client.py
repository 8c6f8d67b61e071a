"""A client of the sandbox's admin surface (the routes in :mod:`connectors.sandbox.admin`).

Plain ``requests``: the processes that start a sandbox and drive it (tests, ``lapak demo``,
benchmarks) need no FastAPI or uvicorn; only the server subprocess does.
"""

from __future__ import annotations

from typing import Any

import requests

from connectors.sandbox.faults import FaultKind


class SandboxAdminError(RuntimeError):
    """The admin surface refused an action; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"sandbox admin: HTTP {status}: {message}")
        self.status = status


class SandboxAdmin:
    """A requests-based client for ``/admin`` of one sandbox. Methods return the envelope's ``data``."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self._http.request(method, f"{self.url}/admin{path}", timeout=self.timeout, **kwargs)
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code >= 400:
            raise SandboxAdminError(r.status_code, (body.get("header") or {}).get("messages") or r.text[:200])
        return body.get("data")

    def health(self) -> dict:
        return self._call("GET", "/health")

    def place_order(self, shop_id: int, items: list[dict[str, Any]], *, buyer: dict | None = None,
                    recipient: dict | None = None, create_time: int | None = None,
                    shipping_cost: int | None = None) -> dict:
        """Place a paid (220) order; ``items`` are ``{"sku" or "product_id", "quantity"}``.

        Stock is taken as a marketplace does; refused (``SandboxAdminError``) when short.
        Returns the order in the contract's shape.
        """
        body: dict[str, Any] = {"shop_id": shop_id, "items": items}
        for k, v in (("buyer", buyer), ("recipient", recipient), ("create_time", create_time),
                     ("shipping_cost", shipping_cost)):
            if v is not None:
                body[k] = v
        return self._call("POST", "/orders", json=body)

    def place_orders(self, orders: list[dict[str, Any]]) -> list[int]:
        """Place many paid orders in one transaction (each ``{"shop_id", "items", …}`` as
        :meth:`place_order` takes them; up to 10,000 a call); all or none. Returns their ids.
        No webhook notification is sent for them."""
        return self._call("POST", "/orders/bulk", json={"orders": orders})

    def orders(self, shop_id: int) -> list[dict]:
        """Every order of a shop, by create_time (contract shape)."""
        return self._call("GET", "/orders", params={"shop_id": shop_id})

    def set_order_status(self, order_id: int, status: int, *, update_time: int | None = None) -> dict:
        """Move an order; a cancel code (0, 3, 5, 6, 10, 15) puts its units back in stock."""
        body: dict[str, Any] = {"status": status}
        if update_time is not None:
            body["update_time"] = update_time
        return self._call("POST", f"/orders/{order_id}/status", json=body)

    def inject_fault(self, kind: FaultKind, *, path: str = "", count: int | None = None,
                     probability: float | None = None, seed: int | None = None,
                     seconds: float | None = None, status: int | None = None,
                     reset_after: float | None = None) -> dict:
        """Add a fault (see ``connectors.sandbox.faults``); returns it with its ``id``."""
        spec = {"kind": kind, "path": path, "count": count, "probability": probability, "seed": seed,
                "seconds": seconds, "status": status, "reset_after": reset_after}
        return self._call("POST", "/faults", json={k: v for k, v in spec.items() if v is not None})

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def stats(self) -> dict:
        """Counters: ``{"paths": {path: {calls, items, http_429, row_429, faults}}, "totals": {…},
        "faults_fired": {kind: n}, "webhooks": {queued, attempts, delivered, failed}}``."""
        return self._call("GET", "/stats")

    def reset_stats(self) -> None:
        self._call("DELETE", "/stats")

    def set_rate_limit(self, rate: float | None) -> None:
        """Items per second per path (burst the same); ``None`` = unlimited. Buckets refill."""
        self._call("PUT", "/rate-limit", json={"rate": rate})

    def set_webhook(self, url: str | None) -> None:
        """Where the sandbox notifies orders (contract §6; signed with its client secret); ``None`` = nowhere."""
        self._call("PUT", "/webhook", json={"url": url})

    def webhook(self) -> str | None:
        """The webhook target (deliveries are counted in :meth:`stats` under ``webhooks``)."""
        return self._call("GET", "/webhook")["url"]

    def products(self, shop_id: int) -> list[dict]:
        """Every column of the shop's products, by product id."""
        return self._call("GET", f"/shops/{shop_id}/products")

    def pictures(self, shop_id: int | None = None) -> list[dict]:
        """Uploaded pictures, by first upload: ``sha256``, ``file_path``, ``format``, ``width``, ``height``,
        ``bytes``, ``shop_id`` (the first uploader), ``uploaded_at``, ``last_uploaded_at``, ``uploads``."""
        return self._call("GET", "/pictures", params={} if shop_id is None else {"shop_id": shop_id})

    def picture(self, sha256: str) -> bytes:
        """The bytes the sandbox kept for an upload, exactly as received."""
        r = self._http.get(f"{self.url}/admin/pictures/{sha256}", timeout=self.timeout)
        if r.status_code >= 400:
            try:
                message = (r.json().get("header") or {}).get("messages")
            except ValueError:
                message = None
            raise SandboxAdminError(r.status_code, message or r.text[:200])
        return r.content

    def close(self) -> None:
        self._http.close()
