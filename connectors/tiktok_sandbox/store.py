"""The TikTok sandbox's state in SQLite (SQLAlchemy Core) under its data dir: products, orders,
uploaded images, tokens, idempotency keys, the webhook target.

:class:`Store` is one class over several modules: the schema in
:mod:`~connectors.tiktok_sandbox.tables`, products in :mod:`~connectors.tiktok_sandbox.store_products`,
orders in :mod:`~connectors.tiktok_sandbox.store_orders`; tokens, keys, images and settings are
here. Each public method is one transaction (so a call answered 500 after applying did apply);
the engine's connection pool makes it safe to use from more than one thread. Only hashes of
tokens are kept; image bytes are files under ``images/`` named by their SHA-256, not rows.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.files import private_dir, private_file
from connectors.tiktok_sandbox.store_orders import OrderError, OrderStore
from connectors.tiktok_sandbox.store_products import ProductStore
from connectors.tiktok_sandbox.tables import idempotency, images, kv, metadata, tokens

__all__ = ["IDEMPOTENCY_TTL", "IMAGE_URL", "OrderError", "Store"]

IDEMPOTENCY_TTL = 86_400
IMAGE_URL = "https://images.tiktok-sandbox.lapakdesa.example/"
_EXT = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store(ProductStore, OrderStore):
    """The sandbox state: one SQLite file and an image folder under the data dir."""

    def __init__(self, db_path: Path, images_dir: Path) -> None:
        private_file(db_path)  # buyers' names and addresses: the owner's only
        private_dir(images_dir)
        self.images_dir = images_dir
        self.engine = create_engine(f"sqlite:///{db_path}")

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # commits survive a crash without an fsync each
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # --- tokens -----------------------------------------------------------------------------

    def issue_tokens(self, shop_id: str, now: int, access_ttl: int, refresh_ttl: int) -> dict[str, Any]:
        """A fresh access and refresh token for ``shop_id``, with absolute expiry times."""
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        out = {"access_token": access, "access_token_expire_in": now + access_ttl,
               "refresh_token": refresh, "refresh_token_expire_in": now + refresh_ttl}
        with self.engine.begin() as c:
            c.execute(tokens.insert(), [
                {"token_hash": _hash(access), "kind": "access", "shop_id": shop_id, "expires_at": now + access_ttl},
                {"token_hash": _hash(refresh), "kind": "refresh", "shop_id": shop_id, "expires_at": now + refresh_ttl},
            ])
        return out

    def token_state(self, token: str, kind: str, now: float) -> tuple[str, str | None]:
        """``("ok" | "expired" | "unknown", shop_id)``."""
        with self.engine.connect() as c:
            row = c.execute(select(tokens).where(tokens.c.token_hash == _hash(token or ""),
                                                 tokens.c.kind == kind)).first()
        if row is None:
            return "unknown", None
        return ("expired" if row.expires_at <= now else "ok"), row.shop_id

    def expire_token(self, token: str, now: float) -> None:
        with self.engine.begin() as c:
            c.execute(update(tokens).where(tokens.c.token_hash == _hash(token)).values(expires_at=now))

    def expire_shop_tokens(self, shop_id: str, kind: str, now: float) -> int:
        """Expire every ``kind`` token of a shop now; returns how many were live."""
        with self.engine.begin() as c:
            return c.execute(update(tokens).where(tokens.c.shop_id == shop_id, tokens.c.kind == kind,
                                                  tokens.c.expires_at > now).values(expires_at=now)).rowcount

    # --- idempotency keys --------------------------------------------------------------------

    def idempotent_result(self, shop_id: str, key: str | None, now: int) -> dict | None:
        """The first result under ``key`` in the shop within 24 h, if any."""
        if key is None:
            return None
        with self.engine.connect() as c:
            return self._first_result(c, shop_id, key, now)

    @staticmethod
    def _first_result(c: Any, shop_id: str, key: str, now: int) -> dict | None:
        row = c.execute(select(idempotency.c.result).where(
            idempotency.c.shop_id == shop_id, idempotency.c.key == key,
            idempotency.c.created > now - IDEMPOTENCY_TTL)).first()
        return None if row is None else row.result

    @staticmethod
    def _remember(c: Any, shop_id: str, key: str, now: int, result: dict) -> None:
        c.execute(delete(idempotency).where(idempotency.c.shop_id == shop_id, idempotency.c.key == key))
        c.execute(idempotency.insert().values(shop_id=shop_id, key=key, created=now, result=result))

    # --- settings kept across restarts ----------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self.engine.connect() as c:
            row = c.execute(select(kv.c.value).where(kv.c.key == key)).first()
        return default if row is None else row.value

    def set_setting(self, key: str, value: Any) -> None:
        stmt = sqlite_insert(kv).values(key=key, value=value)
        with self.engine.begin() as c:
            c.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value}))

    # --- images -------------------------------------------------------------------------------

    def save_image(self, shop_id: str, data: bytes, fmt: str, width: int, height: int,
                   use_case: str, now: int) -> dict[str, Any]:
        """Keep an upload (bytes once per content) and its per-shop ``uri``; the upload's answer."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.images_dir / f"{sha}.{_EXT[fmt]}"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        uri = "tos-sandbox-i-" + hashlib.sha256(f"{shop_id}:{sha}".encode()).hexdigest()[:32]
        stmt = sqlite_insert(images).values(uri=uri, shop_id=shop_id, sha256=sha, format=fmt, width=width,
                                            height=height, size=len(data), use_case=use_case, created=now)
        with self.engine.begin() as c:
            c.execute(stmt.on_conflict_do_nothing(index_elements=["uri"]))
        return {"uri": uri, "url": f"{IMAGE_URL}{uri}.{_EXT[fmt]}", "width": width, "height": height,
                "use_case": use_case}

    def owns_image(self, shop_id: str, uri: str) -> bool:
        with self.engine.connect() as c:
            q = select(images.c.uri).where(images.c.uri == uri, images.c.shop_id == shop_id)
            return c.execute(q).first() is not None

    def image_rows(self, uris: Iterable[str]) -> dict[str, dict[str, Any]]:
        uris = list(uris)
        with self.engine.connect() as c:
            rows = c.execute(select(images).where(images.c.uri.in_(uris))).mappings().all()
        return {r["uri"]: {**r, "url": f"{IMAGE_URL}{r['uri']}.{_EXT[r['format']]}"} for r in rows}

    def image_list(self, shop_id: str | None = None) -> list[dict[str, Any]]:
        q = select(images).order_by(images.c.created, images.c.uri)
        if shop_id is not None:
            q = q.where(images.c.shop_id == shop_id)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def image_file(self, uri: str) -> tuple[Path, str] | None:
        row = self.image_rows([uri]).get(uri)
        if row is None:
            return None
        return self.images_dir / f"{row['sha256']}.{_EXT[row['format']]}", row["format"]
