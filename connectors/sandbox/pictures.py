"""Contract section 5, pictures: ``POST /v1/pictures/fs/{fs_id}/upload?shop_id=`` (``pictures_router``).

A ``multipart/form-data`` body with one part named ``file`` (its filename ignored). Accepted:
JPEG or PNG by content, identified by Pillow from the header only (``Image.open`` restricted to
those two formats, with the decompression-bomb guard on, and ``verify()``, which checks a PNG's
chunk checksums without decoding pixels), each side 300 – 10,000 px, at most 5,242,880 bytes.
Refusals are 400s with ``PIC_REQUEST``, ``PIC_FILE_SIZE``, ``PIC_FORMAT`` or ``PIC_DIMENSION``
and a ``reason`` naming the figure and the limit.

Content-addressed: ``file_path`` is :data:`PICTURE_URL` with the bytes' SHA-256 and ``.jpg`` or
``.png`` (https, as section 3 wants of ``pictures[].file_path``; the sandbox does not serve it).
The bytes are kept in the store; ``/admin/pictures`` hands them back.

The whole body is read before the pipeline runs, so that an early answer (403, an injected 429)
never leaves a client still sending; past :data:`BODY_MAX` it is drained and dropped.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from PIL import Image

from connectors.sandbox.envelope import ApiError
from connectors.sandbox.multipart import MultipartError, parse_form
from connectors.sandbox.pipeline import Call, sandbox_of

PICTURE_URL = "https://images.sandbox.lapakdesa.example/p/"
FILE_PART = "file"
FILE_MAX = 5_242_880
SIDE_MIN, SIDE_MAX = 300, 10_000
BODY_MAX = FILE_MAX + 64 * 1024  # room for the part headers and a few small fields
FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png"}  # MPO: a JPEG with extra frames (phone cameras)

pictures_router = APIRouter()


@dataclass(frozen=True)
class Picture:
    """What an accepted upload answers (``data``) and is kept under."""

    file_path: str
    width: int
    height: int
    sha256: str
    format: str

    def answer(self) -> dict[str, Any]:
        return {"file_path": self.file_path, "width": self.width, "height": self.height, "sha256": self.sha256}


def _refused(code: str, summary: str, reason: str) -> ApiError:
    return ApiError(400, code, summary, reason=reason)


def file_part(content_type: str, body: bytes | None, body_size: int) -> bytes:
    """The bytes of the one part named ``file``; 400 ``PIC_FILE_SIZE`` or ``PIC_REQUEST`` otherwise."""
    if body is None:
        raise _refused("PIC_FILE_SIZE", "Picture too large",
                       f"request body is {body_size:,} bytes; a picture may be at most {FILE_MAX:,} bytes")
    try:
        parts = [p for p in parse_form(content_type, body) if p.name == FILE_PART]
    except MultipartError as err:
        raise _refused("PIC_REQUEST", "Malformed picture upload", str(err)) from None
    if len(parts) != 1:
        raise _refused("PIC_REQUEST", "Malformed picture upload",
                       f"the form holds {len(parts)} parts named '{FILE_PART}'; send exactly 1")
    return parts[0].data


def _identify(data: bytes) -> tuple[str, int, int]:
    """Format and size from the image's header; 400 ``PIC_FORMAT`` or ``PIC_DIMENSION`` when unreadable."""
    try:
        with warnings.catch_warnings():
            # Up to 10,000 × 10,000 px is allowed, past Pillow's warning level; its error stays on.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as im:
                fmt, (width, height) = im.format, im.size
                im.verify()
    except Image.DecompressionBombError:
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise _refused("PIC_DIMENSION", "Picture dimension out of range",
                       f"image has more than {limit:,} px in all (the decompression-bomb limit); "
                       f"each side must be {SIDE_MIN:,} to {SIDE_MAX:,} px") from None
    except Exception:  # Pillow raises many kinds on hostile or damaged bytes: all mean "unreadable"
        fmt = None
    if fmt not in FORMATS:
        raise _refused("PIC_FORMAT", "Picture format not accepted",
                       f"file of {len(data):,} bytes is not a readable JPEG or PNG image "
                       "(judged by content, not by name); accepted: JPEG, PNG")
    return fmt, width, height


def check_picture(data: bytes) -> Picture:
    """The upload's :class:`Picture`, or the 400 that refuses it (size, then format, then sides)."""
    if len(data) > FILE_MAX:
        raise _refused("PIC_FILE_SIZE", "Picture too large",
                       f"file is {len(data):,} bytes; at most {FILE_MAX:,} bytes")
    fmt, width, height = _identify(data)
    if not (SIDE_MIN <= width <= SIDE_MAX and SIDE_MIN <= height <= SIDE_MAX):
        raise _refused("PIC_DIMENSION", "Picture dimension out of range",
                       f"image is {width:,}×{height:,} px; each side must be {SIDE_MIN:,} to {SIDE_MAX:,} px")
    sha = hashlib.sha256(data).hexdigest()
    fmt = "JPEG" if fmt == "MPO" else fmt
    return Picture(f"{PICTURE_URL}{sha}.{FORMATS[fmt]}", width, height, sha, fmt)


async def _receive(request: Request) -> tuple[bytes | None, int]:
    """The request body (``None`` past :data:`BODY_MAX`, then drained) and its size in bytes."""
    chunks: list[bytes] | None = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if chunks is not None and size <= BODY_MAX:
            chunks.append(chunk)
        else:
            chunks = None
    return (b"".join(chunks) if chunks is not None else None), size


@pictures_router.post("/v1/pictures/fs/{fs_id}/upload")
async def upload(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
    sb = sandbox_of(request)
    body, size = await _receive(request)

    async def work(call: Call) -> Any:
        sb.check_shop(fs_id, shop_id)
        data = file_part(request.headers.get("content-type", ""), body, size)
        picture = check_picture(data)
        sb.admit(call, 1)
        sb.store.keep_picture(shop_id, data, asdict(picture))
        return picture.answer()

    return await sb.serve(request, work)
