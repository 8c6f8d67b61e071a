"""Contract §4: ``POST /product/202309/images/upload``, multipart ``data`` (the file) and ``use_case``.

JPEG, PNG or WEBP by content (Pillow reads the header only, the decompression-bomb guard on),
at most 5,242,880 bytes, each side 300–4000 px; anything else 400 ``12052003``. A malformed
form is 400 ``36009004``. Signed without a body (multipart); ``shop_cipher`` optional, checked
when given. The ``uri`` answered serves only the uploading shop.
"""

from __future__ import annotations

import io
import warnings

from fastapi import APIRouter, Request
from fastapi.responses import Response
from PIL import Image

from connectors.sandbox.multipart import MultipartError, parse_form
from connectors.tiktok_sandbox.envelope import BAD_REQUEST, IMAGE_REFUSED, ApiError
from connectors.tiktok_sandbox.pipeline import Ctx, sandbox_of

FILE_MAX = 5_242_880
SIDE_MIN, SIDE_MAX = 300, 4000
OPENERS = ["JPEG", "PNG", "WEBP"]
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}  # MPO: a JPEG with extra frames
USE_CASES = ("MAIN_IMAGE", "ATTRIBUTE_IMAGE", "DESCRIPTION_IMAGE", "CERTIFICATION_IMAGE", "SIZE_CHART_IMAGE")

router = APIRouter()


def _form(ctx: Ctx) -> tuple[bytes, str]:
    try:
        parts = parse_form(ctx.request.headers.get("content-type", ""), ctx.body)
    except MultipartError as err:
        raise ApiError(400, BAD_REQUEST, f"malformed multipart form: {err}") from None
    files = [p.data for p in parts if p.name == "data"]
    if len(files) != 1:
        raise ApiError(400, BAD_REQUEST, f"the form needs exactly one part named 'data', it has {len(files)}")
    cases = [p.data.decode(errors="replace").strip() for p in parts if p.name == "use_case"]
    use_case = cases[0] if cases else "MAIN_IMAGE"
    if use_case not in USE_CASES:
        raise ApiError(400, BAD_REQUEST, f"use_case must be one of {', '.join(USE_CASES)}")
    return files[0], use_case


def identify(data: bytes) -> tuple[str, int, int]:
    """Format and size of an acceptable image; 400 ``12052003`` otherwise."""
    if len(data) > FILE_MAX:
        raise ApiError(400, IMAGE_REFUSED, f"image is {len(data):,} bytes; at most {FILE_MAX:,}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=OPENERS) as img:
                fmt, (w, h) = FORMATS[img.format or ""], img.size
                img.verify()
    except (OSError, ValueError, KeyError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ApiError(400, IMAGE_REFUSED, "image must be a readable JPEG, PNG or WEBP") from None
    if not (SIDE_MIN <= w <= SIDE_MAX and SIDE_MIN <= h <= SIDE_MAX):
        raise ApiError(400, IMAGE_REFUSED, f"image is {w}×{h} px; each side must be {SIDE_MIN}–{SIDE_MAX}")
    return fmt, w, h


@router.post("/product/202309/images/upload")
async def upload(request: Request) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> dict:
        data, use_case = _form(ctx)
        fmt, w, h = identify(data)
        return sb.store.save_image(ctx.shop.id, data, fmt, w, h, use_case, ctx.now)

    return await sb.serve(request, work, cipher=False, sign_body=False)
