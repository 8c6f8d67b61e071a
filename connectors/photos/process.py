"""A found photo → what gets uploaded: opened with Pillow (its decompression-bomb guard on, and only
the formats below), turned upright by its EXIF orientation, put in sRGB with transparency on
white, made at most 2,048 px on its longest side, and written as a JPEG with no metadata at all
(no EXIF — GPS above all, it is the maker's home —, no ICC profile, XMP or comment), at most 5 MB.

Memory stays bounded: the file is at most 30 MB; a JPEG is decoded at a reduced scale (``draft``)
when that still leaves at least 2,048 px, and whatever is decoded may hold at most 4096×4096
pixels; the guard refuses any image declaring more than ``Image.MAX_IMAGE_PIXELS`` before a pixel
is read. The processing is :data:`PROCESSING_VERSION`: change any figure here, bump it.
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageCms, UnidentifiedImageError, features

from .model import MAX_SOURCE_BYTES, PROCESSING_VERSION, PhotoError, PreparedPhoto, SourcePhoto, too_big_file

LONGEST = 2048
MIN_SIDE = 300
MAX_JPEG_BYTES = 5 * 1024 * 1024  # 5,242,880
QUALITIES = (85, 78, 70, 62, 54, 46)
"""The first is used; the next ones only while the JPEG is over MAX_JPEG_BYTES."""
MAX_DECODED_PIXELS = 4096 * 4096
"""What may be decoded (after ``draft``): ~64 MB as RGBA."""
DEFAULT_PIXEL_GUARD = 89_478_485  # Pillow's own default, used should Image.MAX_IMAGE_PIXELS be switched off
FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF") + (("AVIF",) if features.check("avif") else ())
"""What is read (a JPEG with several pictures, MPO, is a JPEG). Not the formats Pillow reads through
outside programs or rarely meets (EPS runs Ghostscript): a file of those is "not an image"."""
_METADATA = ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "Raw profile type exif", "mp")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_WHITE = (255, 255, 255)
_T = Image.Transpose
_UPRIGHT = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE, 6: _T.ROTATE_270,
            7: _T.TRANSVERSE, 8: _T.ROTATE_90}
"""EXIF orientation → the turn that makes the picture upright (the table of ``ImageOps.exif_transpose``)."""
_SIDEWAYS = (5, 6, 7, 8)


def _not_image(photo: SourcePhoto) -> PhotoError:
    head = photo.data[4:12]
    if head[:4] == b"ftyp" and head[4:8] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return PhotoError(f"Foto HEIC (iPhone) belum bisa dibaca: {photo.ref}; kirim sebagai JPG (di iPhone: "
                          "Pengaturan > Kamera > Format > Paling Kompatibel)",
                          f"HEIC photos (iPhone) cannot be read yet: {photo.ref}; send it as JPG (on the iPhone: "
                          "Settings > Camera > Formats > Most Compatible)")
    return PhotoError(f"Bukan gambar: {photo.ref}; kirim foto JPG atau PNG",
                      f"Not an image: {photo.ref}; send a JPG or PNG photo")


def _damaged(photo: SourcePhoto) -> PhotoError:
    return PhotoError(f"Berkas gambar rusak atau terpotong: {photo.ref}; kirim ulang fotonya",
                      f"The image file is damaged or cut short: {photo.ref}; send the photo again")


def _too_many_pixels(photo: SourcePhoto, size: tuple[int, int] | None) -> PhotoError:
    figures = f" ({size[0]}×{size[1]})" if size else ""
    return PhotoError(
        f"Gambar terlalu besar{figures}: {photo.ref}; perkecil fotonya (misalnya kirim lewat WhatsApp) lalu kirim lagi",
        f"The image is too large{figures}: {photo.ref}; make the photo smaller (e.g. send it through WhatsApp) "
        "and send it again")


def _too_small(photo: SourcePhoto, size: tuple[int, int]) -> PhotoError:
    w, h = size
    return PhotoError(
        f"Foto terlalu kecil ({w}×{h}); minimal {MIN_SIDE}×{MIN_SIDE}: {photo.ref} — kirim foto aslinya, bukan "
        "gambar kecil dari WhatsApp",
        f"Photo too small ({w}×{h}); at least {MIN_SIDE}×{MIN_SIDE}: {photo.ref} — send the original photo, not "
        "a WhatsApp thumbnail")


def _too_narrow(photo: SourcePhoto, size: tuple[int, int]) -> PhotoError:
    (w, h), (tw, th) = size, _target(size)
    return PhotoError(
        f"Foto terlalu panjang dan sempit ({w}×{h}): diperkecil menjadi {tw}×{th}, sisi pendeknya kurang dari "
        f"{MIN_SIDE}: {photo.ref} — potong fotonya agar lebih persegi",
        f"Photo too long and narrow ({w}×{h}): made {tw}×{th}, its short side is under {MIN_SIDE}: {photo.ref} — "
        "crop it closer to a square")


def _open(photo: SourcePhoto) -> Image.Image:
    """The image, its header read and no pixel yet; refused if it declares more pixels than the guard."""
    if len(photo.data) > MAX_SOURCE_BYTES:
        raise too_big_file(photo.ref, len(photo.data))
    try:
        im = Image.open(io.BytesIO(photo.data), formats=FORMATS)
    except UnidentifiedImageError:
        raise _not_image(photo) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(photo, None) from None
    except Exception:  # a header Pillow cannot parse: SyntaxError, struct.error, ValueError, OSError…
        raise _damaged(photo) from None
    w, h = im.size
    if w * h > (Image.MAX_IMAGE_PIXELS or DEFAULT_PIXEL_GUARD):  # the warning zone is refused too
        im.close()
        raise _too_many_pixels(photo, (w, h))
    return im


def _orientation(im: Image.Image, *, loaded: bool) -> int:
    """The EXIF orientation (1 = upright). Before ``load`` only from the EXIF block already read:
    Pillow's ``getexif`` on a PNG would decode the whole image."""
    try:
        if loaded:
            exif = im.getexif()
        elif raw := im.info.get("exif"):
            exif = Image.Exif()
            exif.load(raw)
        else:
            return 1
        return int(exif.get(0x0112, 1))
    except Exception:  # a damaged EXIF block leaves the picture as it is
        return 1


def _target(size: tuple[int, int]) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, LONGEST / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _decode(photo: SourcePhoto, im: Image.Image) -> None:
    """The pixels decoded (an animation's first frame), a JPEG at the smallest scale still at least
    LONGEST px long."""
    w, h = im.size
    if max(w, h) > LONGEST:
        scale = LONGEST / max(w, h)
        im.draft(None, (math.ceil(w * scale), math.ceil(h * scale)))
    if im.size[0] * im.size[1] > MAX_DECODED_PIXELS:
        raise _too_many_pixels(photo, (w, h))
    try:
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(photo, (w, h)) from None
    except Exception:  # truncated or corrupt data: OSError, SyntaxError, ValueError, zlib errors…
        raise _damaged(photo) from None


def _rgb(im: Image.Image) -> tuple[Image.Image, bytes | None]:
    """RGB, transparency flattened on white; with the ICC profile still to apply (None when applied)."""
    icc = im.info.get("icc_profile") or None
    if im.mode == "CMYK" and icc:
        try:
            return ImageCms.profileToProfile(im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB,
                                             outputMode="RGB"), None
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            icc = None
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info:
        rgba = im if im.mode == "RGBA" else im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat, icc
    return (im if im.mode == "RGB" else im.convert("RGB")), icc


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Colours as the phone meant them (Display P3, Adobe RGB…) in sRGB, which a JPEG without a profile is."""
    if not icc:
        return im
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if ImageCms.getProfileDescription(profile).strip().lower().startswith("srgb"):
            return im  # already
        return ImageCms.profileToProfile(im, profile, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):  # a broken or grey profile: the pixels as they are
        return im


def _encode(photo: SourcePhoto, im: Image.Image) -> bytes:
    im.info = {}  # nothing of the source's info goes out (Pillow's JPEG writer would copy a comment)
    for quality in QUALITIES:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality, optimize=True)
        if buf.tell() <= MAX_JPEG_BYTES:
            data = buf.getvalue()
            _check_clean(data)
            return data
    raise PhotoError(f"Foto terlalu besar walau sudah dikompres: {photo.ref}; kirim foto lain",
                     f"Photo too large even after re-encoding: {photo.ref} (over {MAX_JPEG_BYTES:,} bytes at JPEG "
                     f"quality {QUALITIES[-1]}); send another photo")


def _check_clean(jpeg: bytes) -> None:
    """The output, read back: a JPEG with no EXIF (so no GPS) and no other metadata. A failure is a bug."""
    with Image.open(io.BytesIO(jpeg)) as out:
        left = [k for k in _METADATA if k in out.info]
        if out.format != "JPEG" or len(out.getexif()) or left:
            raise RuntimeError(f"prepared photo still carries metadata: {left or 'exif'}")


def prepare(photo: SourcePhoto) -> PreparedPhoto:
    """The photo as it is uploaded (see the module's text); :class:`PhotoError` when it cannot be:
    not an image (or a format not read), damaged, too small (with the figures), too large."""
    im = _open(photo)
    try:
        w, h = im.size
        upright = (h, w) if _orientation(im, loaded=False) in _SIDEWAYS else (w, h)
        if min(w, h) < MIN_SIDE:  # before any resizing
            raise _too_small(photo, upright)
        if min(_target(upright)) < MIN_SIDE:  # a panorama whose short side would fall under the minimum
            raise _too_narrow(photo, upright)
        _decode(photo, im)
        orientation = _orientation(im, loaded=True)
        rgb, icc = _rgb(im)
        if rgb.size != (target := _target(rgb.size)):
            rgb = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        elif rgb is im:
            rgb = im.copy()  # the source is closed below
    finally:
        im.close()  # the full-size pixels go before the rest is done
    # Upright as ImageOps.exif_transpose would make it, after resizing: a quarter of the pixels to turn.
    if (method := _UPRIGHT.get(orientation)) is not None:
        rgb = rgb.transpose(method)
    out = _to_srgb(rgb, icc)
    return PreparedPhoto(source_sha256=photo.sha256, version=PROCESSING_VERSION, jpeg=_encode(photo, out),
                         width=out.width, height=out.height)
