"""connectors/photos: finding a catalogue's photos (folder, ZIP, Drive) and preparing them for upload.
Every image is made by Pillow in a temporary folder."""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest
import requests
import responses
from PIL import Image, ImageCms, JpegImagePlugin

from connectors.photos import (
    PROCESSING_VERSION,
    PhotoError,
    PhotoFinder,
    SourcePhoto,
    drive_session,
    fetch_drive,
    is_drive_link,
    prepare,
)
from connectors.photos import drive as drive_module
from connectors.photos import process as process_module
from connectors.photos import stores as stores_module

ROOT = Path(__file__).resolve().parent.parent
RED, BLUE = (220, 20, 20), (20, 20, 220)
GPS = 0x8825
METADATA = ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "mp")
JFIF_ONLY = {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}


# --- images ---------------------------------------------------------------------------------------

def phone_jpeg(size=(800, 600), orientation=6, *, noise=False, quality=90) -> bytes:
    """A phone-like JPEG: stored sideways (left half red, right half blue), EXIF orientation, the
    maker's GPS position, camera make, an ICC profile, XMP and a comment."""
    w, h = size
    im = Image.new("RGB", size, RED)
    im.paste(BLUE, (w // 2, 0, w, h))
    if noise:
        im = Image.blend(im, Image.effect_noise(size, 40).convert("RGB"), 0.3)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Samsung"
    exif.get_ifd(GPS).update({1: "S", 2: (7.0, 21.0, 36.5), 3: "E", 4: (109.0, 54.0, 2.25)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, exif=exif.tobytes(), icc_profile=icc, comment=b"rumah Bu Sri",
            xmp=b"<x:xmpmeta><rdf:Description tiff:Orientation=\"6\"/></x:xmpmeta>")
    return buf.getvalue()


def image_bytes(size, fmt="PNG", mode="RGB", color=RED) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, fmt)
    return buf.getvalue()


def png_declaring(w: int, h: int) -> bytes:
    """A PNG whose header declares w×h 1-bit pixels, with almost no data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def photo(data: bytes, ref="carica.jpg") -> SourcePhoto:
    return SourcePhoto.of(ref, ref, data)


def opened(jpeg: bytes) -> Image.Image:
    out = Image.open(io.BytesIO(jpeg))
    assert out.format == "JPEG"
    return out


def assert_no_metadata(jpeg: bytes) -> None:
    with opened(jpeg) as out:
        assert len(out.getexif()) == 0
        assert out.getexif().get_ifd(GPS) == {}
        assert set(out.info) <= JFIF_ONLY, out.info
    assert b"Exif\0\0" not in jpeg and b"rumah" not in jpeg and b"xmpmeta" not in jpeg and b"ICC_PROFILE" not in jpeg


# --- prepare --------------------------------------------------------------------------------------

def test_a_rotated_phone_photo_comes_out_upright_without_exif_or_gps():
    source = phone_jpeg((800, 600), orientation=6)
    with Image.open(io.BytesIO(source)) as src:  # the source does carry them
        assert src.getexif()[0x0112] == 6 and src.getexif().get_ifd(GPS)[2] == (7.0, 21.0, 36.5)
    p = prepare(photo(source))
    assert (p.width, p.height) == (600, 800)  # stored landscape, shown portrait
    assert p.version == PROCESSING_VERSION and p.source_sha256 == photo(source).sha256
    with opened(p.jpeg) as out:
        assert out.size == (600, 800)
        rgb = out.convert("RGB")
        # Orientation 6 turns the picture a quarter clockwise: the stored left (red) is now the top.
        top, bottom = rgb.getpixel((300, 100)), rgb.getpixel((300, 700))
    assert top[0] > 180 and top[2] < 70, top
    assert bottom[2] > 180 and bottom[0] < 70, bottom
    assert_no_metadata(p.jpeg)


@pytest.mark.parametrize(("orientation", "size"), [(1, (800, 600)), (3, (800, 600)), (8, (600, 800))])
def test_other_orientations(orientation, size):
    p = prepare(photo(phone_jpeg((800, 600), orientation=orientation)))
    assert (p.width, p.height) == size
    assert_no_metadata(p.jpeg)


def test_a_png_turned_by_its_exif_and_a_broken_icc_profile():
    w, h = 800, 600
    im = Image.new("RGB", (w, h), RED)
    im.paste(BLUE, (w // 2, 0, w, h))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(GPS)[2] = (7.0, 21.0, 36.5)
    buf = io.BytesIO()
    im.save(buf, "PNG", exif=exif.tobytes(), icc_profile=b"not a profile")
    p = prepare(photo(buf.getvalue(), "layar.png"))
    assert (p.width, p.height) == (600, 800)
    with opened(p.jpeg) as out:
        assert out.convert("RGB").getpixel((300, 100))[0] > 180
    assert_no_metadata(p.jpeg)


def test_a_12_megapixel_photo_comes_out_2048_by_1536_under_5_mb():
    p = prepare(photo(phone_jpeg((4000, 3000), orientation=1, noise=True)))
    assert (p.width, p.height) == (2048, 1536)
    assert len(p.jpeg) <= 5_242_880
    with opened(p.jpeg) as out:
        assert out.size == (2048, 1536)
    assert_no_metadata(p.jpeg)


def test_a_big_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    seen = []
    real = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real(self, mode, size)
        seen.append(self.size)
        return result
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    p = prepare(photo(phone_jpeg((8000, 6000), orientation=6)))
    assert (p.width, p.height) == (1536, 2048)
    assert seen == [(4000, 3000)]  # a quarter of the pixels decoded, still over 2048 long


def test_a_whatsapp_thumbnail_is_too_small_with_its_figures_in_both_languages():
    with pytest.raises(PhotoError) as err:
        prepare(photo(image_bytes((200, 150), "JPEG")))
    e = err.value
    assert "Foto terlalu kecil (200×150); minimal 300×300" in e.reason_id and "carica.jpg" in e.reason_id
    assert "too small (200×150); at least 300×300" in e.reason_en and "carica.jpg" in e.reason_en
    assert not e.transient


def test_the_size_is_checked_before_resizing_and_a_narrow_panorama_is_refused():
    assert prepare(photo(image_bytes((300, 300), "PNG"))).width == 300  # the minimum itself
    with pytest.raises(PhotoError, match="299×1000"):
        prepare(photo(image_bytes((299, 1000), "PNG")))
    with pytest.raises(PhotoError, match="long and narrow") as err:
        prepare(photo(image_bytes((8000, 300), "PNG")))
    assert "8000×300" in err.value.reason_id and "2048×77" in err.value.reason_id


def test_a_text_file_named_jpg_is_not_an_image():
    with pytest.raises(PhotoError) as err:
        prepare(photo(b"Keripik singkong pedas, 250 gr\n" * 20, ref="foto/keripik.jpg"))
    assert err.value.reason_id.startswith("Bukan gambar: foto/keripik.jpg")
    assert err.value.reason_en.startswith("Not an image: foto/keripik.jpg")


def test_formats_read_outside_the_list_are_not_images_and_heic_says_how_to_fix_it():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 400 400\nshowpage\n"
    with pytest.raises(PhotoError, match="Not an image"):
        prepare(photo(eps))  # Pillow would hand an EPS to Ghostscript: never
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 200
    with pytest.raises(PhotoError, match="HEIC") as err:
        prepare(photo(heic))
    assert "Paling Kompatibel" in err.value.reason_id


def test_a_truncated_photo_is_damaged_not_a_crash():
    data = phone_jpeg((800, 600), noise=True)
    with pytest.raises(PhotoError, match="damaged or cut short"):
        prepare(photo(data[: len(data) // 2]))


def test_a_screenshot_png_with_transparency_becomes_a_jpeg_on_white():
    im = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    im.paste((20, 20, 220, 255), (0, 0, 300, 400))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    p = prepare(photo(buf.getvalue(), "layar.png"))
    with opened(p.jpeg) as out:
        rgb = out.convert("RGB")
        assert rgb.getpixel((450, 200)) >= (245, 245, 245)  # was transparent: white, not black
        assert rgb.getpixel((100, 200))[2] > 180
    assert_no_metadata(p.jpeg)


@pytest.mark.parametrize(("fmt", "mode"), [("WEBP", "RGB"), ("GIF", "P"), ("BMP", "RGB"), ("TIFF", "CMYK"),
                                           ("PNG", "L"), ("PNG", "I;16")])
def test_other_formats_and_modes_are_read(fmt, mode):
    p = prepare(photo(image_bytes((500, 400), fmt, mode, color=RED if mode == "RGB" else 0)))
    assert (p.width, p.height) == (500, 400)
    with opened(p.jpeg) as out:
        assert out.mode == "RGB"
    assert_no_metadata(p.jpeg)


def test_quality_is_lowered_stepwise_until_the_jpeg_fits_and_refused_when_it_never_does(monkeypatch):
    data = phone_jpeg((1600, 1200), orientation=1, noise=True)
    first = len(prepare(photo(data)).jpeg)
    monkeypatch.setattr(process_module, "MAX_JPEG_BYTES", first - 1)
    assert len(prepare(photo(data)).jpeg) <= first - 1
    monkeypatch.setattr(process_module, "MAX_JPEG_BYTES", 10_000)
    with pytest.raises(PhotoError, match="even after re-encoding") as err:
        prepare(photo(data))
    assert "walau sudah dikompres" in err.value.reason_id


def test_a_decompression_bomb_is_refused_before_a_pixel_is_read():
    with pytest.raises(PhotoError, match="too large") as err:
        prepare(photo(png_declaring(30_000, 30_000)))
    assert "terlalu besar" in err.value.reason_id


def test_the_decompression_bomb_warning_zone_is_refused_too():
    bomb = photo(png_declaring(10_000, 9_000))  # 90 MP: over Pillow's limit, under twice it
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(PhotoError, match="10000×9000"):
        prepare(bomb)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PhotoError, match="too large"):
            prepare(bomb)


def test_the_guard_holds_even_when_pillow_s_is_switched_off(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(PhotoError, match="30000×30000"):
        prepare(photo(png_declaring(30_000, 30_000)))


def test_a_decompression_bomb_takes_little_memory():
    script = (
        "import resource, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from tests.test_photos import png_declaring, photo\n"
        "from connectors.photos import prepare, PhotoError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for _ in range(5):\n"
        "    try:\n"
        "        prepare(photo(png_declaring(30_000, 30_000)))\n"
        "    except PhotoError:\n"
        "        pass\n"
        "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=60,
                          check=True)
    before, after = map(int, done.stdout.split())
    assert after - before < 20_000, (before, after)  # KiB; decoding it would take 900 MB


def test_an_oversized_source_is_refused_unread():
    with pytest.raises(PhotoError, match="too large"):
        prepare(photo(b"\xff\xd8" + b"\0" * 30_000_001))


# --- the finder -----------------------------------------------------------------------------------

@pytest.fixture
def group(tmp_path) -> Path:
    """A catalogue's folder: catalogues/wonosobo/ with the catalogue file."""
    d = tmp_path / "catalogues" / "wonosobo"
    d.mkdir(parents=True)
    (d / "sekar-carica.xlsx").write_bytes(b"PK")
    return d


def put(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data or path.name.encode())
    return path


def make_zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_rule_1_a_path_relative_to_the_catalogue_comes_first(group, tmp_path):
    put(group / "foto" / "carica.jpg", b"beside")
    photos = make_zip(tmp_path / "photos.zip", {"foto/carica.jpg": b"in zip", "carica.jpg": b"in zip too"})
    with PhotoFinder(group, photos) as finder:
        found = finder.find(" foto/carica.jpg ")
    assert (found.ref, found.where, found.data) == ("foto/carica.jpg", str(group / "foto" / "carica.jpg"), b"beside")
    assert found.sha256 == SourcePhoto.of("x", "y", b"beside").sha256


def test_rule_2_the_same_path_inside_photos_before_rule_3_the_name_alone(group, tmp_path):
    photos = tmp_path / "kiriman"
    put(photos / "foto" / "carica.jpg", b"by path")
    put(photos / "lain" / "carica.jpg", b"same name elsewhere")
    finder = PhotoFinder(group, photos)
    assert finder.find("foto/carica.jpg").data == b"by path"  # rule 2: no ambiguity
    assert finder.find("foto\\carica.jpg").data == b"by path"  # written on Windows
    with pytest.raises(PhotoError) as err:  # rule 3: two files of that name
        finder.find("carica.jpg")
    e = err.value
    for text in (e.reason_id, e.reason_en):
        assert str(photos / "foto" / "carica.jpg") in text and str(photos / "lain" / "carica.jpg") in text
    assert "Ada 2 berkas foto bernama carica.jpg" in e.reason_id


def test_rule_3_the_name_alone_in_any_folder_of_photos_case_insensitively(group, tmp_path):
    photos = tmp_path / "kiriman"
    put(photos / "WhatsApp Images" / "IMG-20261103-WA0012.JPG", b"wa")
    put(photos / ".thumbs" / "IMG-20261103-WA0012.jpg", b"hidden folder: ignored")
    put(photos / "._IMG-20261103-WA0012.jpg", b"macOS fork: ignored")
    found = PhotoFinder(group, photos).find("gambar/img-20261103-wa0012.jpg")
    assert found.data == b"wa" and found.where == str(photos / "WhatsApp Images" / "IMG-20261103-WA0012.JPG")


def test_a_missing_file_names_the_reference(group):
    put(group / "foto" / "kopi.jpg")
    with pytest.raises(PhotoError) as err:
        PhotoFinder(group).find("foto/carica.jpg")
    assert "Berkas foto tidak ditemukan: foto/carica.jpg" in err.value.reason_id
    assert "Photo file not found: foto/carica.jpg" in err.value.reason_en


def test_without_photos_configured_a_folder_beside_the_catalogue_is_used(group):
    put(group / "Foto" / "produk" / "carica.jpg", b"beside")
    finder = PhotoFinder(group)
    assert finder.photos == group / "Foto"
    assert finder.find("carica.jpg").data == b"beside"  # rule 3 in the folder found beside
    assert finder.find("produk/carica.jpg").data == b"beside"  # rule 2


def test_without_photos_configured_a_zip_beside_the_catalogue_is_used(group):
    make_zip(group / "photos.zip", {"photos/Carica.jpg": b"zipped", "__MACOSX/photos/._Carica.jpg": b"fork",
                                    "photos/": b""})
    finder = PhotoFinder(group)
    assert finder.photos == group / "photos.zip"
    found = finder.find("carica.jpg")
    assert (found.data, found.where) == (b"zipped", "photos.zip:photos/Carica.jpg")
    assert finder.find("photos/carica.jpg").data == b"zipped"  # rule 2, case-insensitively
    finder.close()
    assert finder.find("carica.jpg").data == b"zipped"  # opened again after close()
    finder.close()


def test_no_photos_anywhere_is_not_found(group):
    assert PhotoFinder(group).photos is None
    with pytest.raises(PhotoError, match=re.escape("not found: carica.jpg")):
        PhotoFinder(group).find("carica.jpg")


def test_a_zip_is_never_extracted_to_disk(group, tmp_path):
    photos = make_zip(tmp_path / "foto.zip", {"a/carica.jpg": b"1", "b/kopi.jpg": b"2"})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with PhotoFinder(group, photos) as finder:
        assert finder.find("kopi.jpg").data == b"2"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_zip_bomb_member_is_refused(group, tmp_path):
    photos = make_zip(tmp_path / "foto.zip", {"carica.jpg": b"\0" * 20_000_000})
    with pytest.raises(PhotoError, match="grows from") as err:
        PhotoFinder(group, photos).find("carica.jpg")
    assert "foto.zip:carica.jpg" in err.value.reason_id and "foto.zip:carica.jpg" in err.value.reason_en


def test_a_zip_member_over_the_size_limit_is_refused_unread(group, tmp_path, monkeypatch):
    monkeypatch.setattr(stores_module, "MAX_SOURCE_BYTES", 1000)
    photos = make_zip(tmp_path / "foto.zip", {"carica.jpg": os.urandom(2000)}, zipfile.ZIP_STORED)
    with pytest.raises(PhotoError, match=re.escape("too large: foto.zip:carica.jpg")):
        PhotoFinder(group, photos).find("carica.jpg")


def test_a_zip_member_larger_than_it_declares_is_damaged(group, tmp_path):
    data = os.urandom(50_000)
    raw = bytearray(make_zip(tmp_path / "foto.zip", {"carica.jpg": data}, zipfile.ZIP_STORED).read_bytes())
    lie = struct.pack("<I", 1000)
    assert raw[:4] == b"PK\x03\x04"
    raw[22:26] = lie  # local header: uncompressed size
    central = raw.index(b"PK\x01\x02")
    raw[central + 24: central + 28] = lie  # central directory: uncompressed size
    (tmp_path / "foto.zip").write_bytes(bytes(raw))
    with pytest.raises(PhotoError, match=re.escape("damaged: foto.zip:carica.jpg")):
        PhotoFinder(group, tmp_path / "foto.zip").find("carica.jpg")


def test_a_damaged_or_missing_photos_zip_is_a_reject_naming_it_and_rule_1_still_works(group, tmp_path):
    put(group / "foto" / "kopi.jpg", b"beside")
    (tmp_path / "rusak.zip").write_bytes(b"PK\x03\x04 not really")
    finder = PhotoFinder(group, tmp_path / "rusak.zip")
    assert finder.find("foto/kopi.jpg").data == b"beside"
    for _ in range(2):
        with pytest.raises(PhotoError, match=re.escape("photos ZIP is damaged: rusak.zip")) as err:
            finder.find("carica.jpg")
        assert "Berkas ZIP foto rusak: rusak.zip" in err.value.reason_id
    with pytest.raises(PhotoError, match="was not found") as err:
        PhotoFinder(group, tmp_path / "tidak-ada").find("carica.jpg")
    assert str(tmp_path / "tidak-ada") in err.value.reason_id


def test_a_password_protected_member_says_so(group, tmp_path):
    raw = bytearray(make_zip(tmp_path / "foto.zip", {"carica.jpg": b"x" * 100}).read_bytes())
    central = raw.index(b"PK\x01\x02")
    raw[central + 8] |= 0x1  # the encrypted flag
    (tmp_path / "foto.zip").write_bytes(bytes(raw))
    with pytest.raises(PhotoError, match="password"):
        PhotoFinder(group, tmp_path / "foto.zip").find("carica.jpg")


def test_references_cannot_leave_their_folders(group, tmp_path):
    put(tmp_path / "rahasia.jpg", b"outside")
    put(tmp_path / "catalogues" / "lain" / "kopi.jpg", b"another group's")
    photos = tmp_path / "kiriman"
    put(photos / "carica.jpg", b"sent")
    finder = PhotoFinder(group, photos)
    for ref in ("../../rahasia.jpg", str(tmp_path / "rahasia.jpg"), "../lain/kopi.jpg"):
        with pytest.raises(PhotoError, match="not found"):
            finder.find(ref)
    # A path copied from someone's computer: only its name counts (rule 3).
    assert finder.find("C:\\Users\\Ibu Sri\\Pictures\\carica.jpg").data == b"sent"
    assert finder.find("/home/sri/carica.jpg").data == b"sent"


def test_a_symlink_out_of_the_photos_folder_is_not_followed(group, tmp_path):
    put(tmp_path / "rahasia.jpg", b"outside")
    photos = tmp_path / "kiriman"
    photos.mkdir()
    (photos / "carica.jpg").symlink_to(tmp_path / "rahasia.jpg")
    (group / "kopi.jpg").symlink_to(tmp_path / "rahasia.jpg")
    finder = PhotoFinder(group, photos)
    for ref in ("carica.jpg", "kopi.jpg"):
        with pytest.raises(PhotoError, match="cannot be opened"):
            finder.find(ref)


def test_a_link_or_an_empty_cell_is_not_a_file_reference(group):
    with pytest.raises(PhotoError, match="Not a photo file name"):
        PhotoFinder(group).find("http://img.example/carica.jpg")
    with pytest.raises(PhotoError, match="empty"):
        PhotoFinder(group).find("  ")


def test_found_photos_prepare_end_to_end(group, tmp_path):
    make_zip(group / "foto.zip", {"carica.jpg": phone_jpeg((900, 700))}, zipfile.ZIP_STORED)
    with PhotoFinder(group) as finder:
        p = prepare(finder.find("carica.jpg"))
    assert (p.width, p.height) == (700, 900)
    assert_no_metadata(p.jpeg)


def test_a_photo_cell_names_files_and_links_as_people_write_them():
    import pandas as pd

    from schemas.pictures import photo_references

    cells = pd.DataFrame({"photo_1": ["carica-250.jpg, foto/kopi.jpg;IMG 01.jpg\nKeripik Pisang.jpg",
                                      "https://i.imgur.com/a.jpg https://drive.google.com/file/d/abc/view",
                                      " ; , ", None]})
    assert photo_references(cells) == {"carica-250.jpg", "foto/kopi.jpg", "IMG 01.jpg", "Keripik Pisang.jpg",
                                       "https://drive.google.com/file/d/abc/view"}


# --- Google Drive ---------------------------------------------------------------------------------

DRIVE_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz012345"
DOWNLOAD = "https://drive.google.com/uc"
QUERY = responses.matchers.query_param_matcher({"export": "download", "id": DRIVE_ID})


@pytest.mark.parametrize("link", [
    f"https://drive.google.com/file/d/{DRIVE_ID}/view?usp=sharing",
    f"https://drive.google.com/file/d/{DRIVE_ID}/view?usp=drive_link",
    f"https://drive.google.com/file/d/{DRIVE_ID}",
    f"https://drive.google.com/file/u/0/d/{DRIVE_ID}/view",
    f"https://drive.google.com/a/desa.id/file/d/{DRIVE_ID}/edit",
    f"https://drive.google.com/open?id={DRIVE_ID}",
    f"https://drive.google.com/uc?id={DRIVE_ID}&export=download",
    f"https://drive.google.com/uc?export=view&id={DRIVE_ID}",
    f"https://drive.google.com/u/0/uc?id={DRIVE_ID}&export=download",
    f"https://docs.google.com/uc?id={DRIVE_ID}",
    f"https://drive.usercontent.google.com/download?id={DRIVE_ID}&export=download",
    f"  HTTPS://Drive.Google.com/file/d/{DRIVE_ID}/view  ",
    f"http://drive.google.com/file/d/{DRIVE_ID}/view",
    f"drive.google.com/file/d/{DRIVE_ID}/view?usp=sharing",
])
def test_drive_share_links(link):
    assert is_drive_link(link) == DRIVE_ID


@pytest.mark.parametrize("text", [
    "https://drive.google.com/drive/folders/1AbCdEfGhIjKlMnOpQrStUvWxYz0",  # a folder, not a file
    f"https://docs.google.com/document/d/{DRIVE_ID}/edit",
    "https://i.imgur.com/abc123.jpg",
    f"https://drive.google.com.evil.example/file/d/{DRIVE_ID}/view",
    f"https://evil.example/?u=drive.google.com/file/d/{DRIVE_ID}",
    "https://drive.google.com/file/d/short/view",
    "https://drive.google.com/open?id=a/../../x",
    "carica.jpg", "", "ftp://drive.google.com/file/d/" + DRIVE_ID,
])
def test_not_drive_file_links(text):
    assert is_drive_link(text) is None


@responses.activate
def test_fetch_drive_an_image():
    jpeg = phone_jpeg((640, 480))
    responses.get(DOWNLOAD, body=jpeg, content_type="image/jpeg", match=[QUERY])
    found = fetch_drive(DRIVE_ID, timeout=5)
    assert found.data == jpeg and found.where == f"Google Drive {DRIVE_ID}"
    assert found.ref == f"https://drive.google.com/file/d/{DRIVE_ID}/view"
    assert found.sha256 == SourcePhoto.of("", "", jpeg).sha256
    link = f"https://drive.google.com/file/d/{DRIVE_ID}/view?usp=sharing"
    assert fetch_drive(is_drive_link(link), ref=link).ref == link
    assert prepare(found).width == 480


@responses.activate
@pytest.mark.parametrize(("kwargs", "transient"), [
    (dict(body="<!DOCTYPE html><html><title>Sign in</title></html>", content_type="text/html; charset=utf-8"), False),
    (dict(body=b"  <html><body>Google Drive - Virus scan warning</body></html>",
          content_type="application/octet-stream"), False),
    (dict(status=404, body="Not Found"), False),
    (dict(status=403, body="Forbidden"), False),
    (dict(body=b""), False),
    (dict(status=503, body="busy"), True),
])
def test_fetch_drive_not_an_image_answer(kwargs, transient):
    responses.get(DOWNLOAD, match=[QUERY], **kwargs)
    with pytest.raises(PhotoError) as err:
        fetch_drive(DRIVE_ID)
    assert "Tautan Google Drive tidak bisa dibuka (belum dibagikan?)" in err.value.reason_id
    assert "cannot be opened (not shared?)" in err.value.reason_en
    assert err.value.transient is transient


@responses.activate
def test_fetch_drive_retries_a_5xx_and_not_a_4xx():
    jpeg = image_bytes((400, 400), "JPEG")
    responses.get(DOWNLOAD, status=502, match=[QUERY])
    responses.get(DOWNLOAD, body=jpeg, content_type="image/jpeg", match=[QUERY])
    assert fetch_drive(DRIVE_ID).data == jpeg
    assert len(responses.calls) == 2
    responses.reset()
    responses.get(DOWNLOAD, status=404, match=[QUERY])
    with drive_session() as s, pytest.raises(PhotoError):
        fetch_drive(DRIVE_ID, session=s)
    assert len(responses.calls) == 1


@responses.activate
def test_fetch_drive_network_failure_is_transient_and_quiet():
    responses.get(DOWNLOAD, body=requests.ConnectionError(f"boom {DOWNLOAD}?id={DRIVE_ID}&token=rahasia"))
    with pytest.raises(PhotoError) as err:
        fetch_drive(DRIVE_ID)
    assert err.value.transient and "ConnectionError" in err.value.reason_en and "rahasia" not in str(err.value)


@responses.activate
def test_fetch_drive_is_bounded_in_size(monkeypatch):
    responses.get(DOWNLOAD, body=b"\xff\xd8" + b"\0" * 100, headers={"Content-Length": "999999999"},
                  content_type="image/jpeg", auto_calculate_content_length=False)
    with pytest.raises(PhotoError, match="too large"):
        fetch_drive(DRIVE_ID)
    responses.reset()
    monkeypatch.setattr(drive_module, "MAX_DOWNLOAD_BYTES", 100_000)
    responses.get(DOWNLOAD, body=b"\xff\xd8" + b"\0" * 200_000, content_type="image/jpeg")
    with pytest.raises(PhotoError, match="too large"):
        fetch_drive(DRIVE_ID)


def test_fetch_drive_refuses_what_is_not_an_id():
    with pytest.raises(ValueError, match="not a Google Drive file id"):
        fetch_drive("x&export=y")
