"""The sandbox's uploaded pictures (contract section 5): kept by content, handed back to the admin.

A mixin of :class:`~connectors.sandbox.store.Store`; each public method is one transaction.
One row per distinct content (its SHA-256): the same bytes uploaded again, by any shop, only
bump ``uploads`` and ``last_uploaded_at``. Bounded: each picture is at most 5,242,880 bytes
(the contract's limit) and, past :data:`PICTURES_KEPT_BYTES` in all, the pictures uploaded
least recently are forgotten (an upload of the same bytes later keeps them again, under the
same ``file_path``: the path follows from the content alone).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.sandbox.tables import pictures

PICTURES_KEPT_BYTES = 256 * 1024 * 1024
LISTED = ("sha256", "file_path", "format", "width", "height", "bytes", "shop_id", "uploaded_at",
          "last_uploaded_at", "uploads")


class PictureStore:
    """Uploaded pictures: keep one, list them, read one's bytes back."""

    engine: Engine

    def keep_picture(self, shop_id: int, data: bytes, meta: dict[str, Any]) -> None:
        """Keep ``data`` under ``meta["sha256"]`` (with ``file_path``, ``format``, ``width``, ``height``)."""
        now = time.time()
        stmt = sqlite_insert(pictures).values(
            sha256=meta["sha256"], file_path=meta["file_path"], format=meta["format"], width=meta["width"],
            height=meta["height"], bytes=len(data), shop_id=shop_id, uploaded_at=now, last_uploaded_at=now,
            uploads=1, data=data)
        stmt = stmt.on_conflict_do_update(index_elements=["sha256"], set_={
            "uploads": pictures.c.uploads + 1, "last_uploaded_at": now})
        with self.engine.begin() as c:
            c.execute(stmt)
            newest_first = c.execute(select(pictures.c.sha256, pictures.c.bytes).order_by(
                pictures.c.last_uploaded_at.desc(), pictures.c.sha256)).tuples().all()
            total, forget = 0, []
            for sha, size in newest_first:
                total += size
                if total > PICTURES_KEPT_BYTES:
                    forget.append(sha)
            for i in range(0, len(forget), 500):  # stay under SQLite's bound-parameter limit
                c.execute(pictures.delete().where(pictures.c.sha256.in_(forget[i:i + 500])))

    def picture_list(self, shop_id: int | None = None) -> list[dict[str, Any]]:
        """Every kept picture (without its bytes), by first upload; only ``shop_id``'s when given."""
        q = select(*(pictures.c[k] for k in LISTED)).order_by(pictures.c.uploaded_at, pictures.c.sha256)
        if shop_id is not None:
            q = q.where(pictures.c.shop_id == shop_id)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def picture_data(self, sha256: str) -> tuple[bytes, str] | None:
        """The bytes kept under ``sha256`` and their format (``"JPEG"``/``"PNG"``), or ``None``."""
        with self.engine.connect() as c:
            row = c.execute(select(pictures.c.data, pictures.c.format).where(
                pictures.c.sha256 == sha256.lower())).first()
        return (bytes(row.data), row.format) if row is not None else None
