"""Photos uploaded to a channel: each prepared photo once per channel and shop."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from connectors.state.models import PictureUpload, utcnow


class Uploads:
    """The ``picture_uploads`` table."""

    def uploaded(self, channel: str, shop_id: int, shas: Iterable[str], version: int) -> dict[str, str]:
        """Source sha256 → the channel's file path, for the photos among ``shas`` already uploaded."""
        wanted = sorted(set(shas))
        out: dict[str, str] = {}
        with self.session() as s:
            for i in range(0, len(wanted), 500):
                q = select(PictureUpload.source_sha256, PictureUpload.file_path).where(
                    PictureUpload.channel == channel, PictureUpload.shop_id == shop_id,
                    PictureUpload.version == version, PictureUpload.source_sha256.in_(wanted[i:i + 500]))
                out.update(dict(s.execute(q).tuples().all()))
        return out

    def record_upload(self, channel: str, shop_id: int, sha: str, version: int, file_path: str) -> None:
        """Remember an upload (again: the channel's path is the one to keep)."""
        row = dict(channel=channel, shop_id=shop_id, source_sha256=sha, version=version, file_path=file_path,
                   uploaded_at=utcnow())
        with self.session() as s:
            self._upsert(s, PictureUpload, [row], ["channel", "shop_id", "source_sha256", "version"])
