"""Contract section 5 (picture upload) in the sandbox marketplace, over real HTTP.

Plain ``requests`` first (the contract as any client speaks it), then the project's own
``MarketplaceClient.upload_picture``. One sandbox subprocess serves the module; images are made
with Pillow, each test's from its own random pixels so uploads of different tests never share
content (uploads are content-addressed).
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import uuid
from collections.abc import Iterator

import pytest
import requests
from PIL import Image
from pydantic import SecretStr

from connectors.marketplace import BadRequestError, ForbiddenError, MarketplaceClient
from connectors.sandbox import SandboxAdminError, SandboxHandle, running_sandbox

SHOP = 479573
OTHER_SHOP = 479574
UNLINKED_SHOP = 999_999
FILE_MAX = 5_242_880
GPS_IFD = 0x8825


def image(fmt: str, width: int, height: int, **save) -> bytes:
    """A ``width``×``height`` picture of random pixels, encoded as ``fmt``."""
    small = Image.frombytes("RGB", (16, 12), os.urandom(16 * 12 * 3))
    out = io.BytesIO()
    small.resize((width, height), Image.Resampling.NEAREST).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps(width: int = 640, height: int = 480) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "KameraDesa"  # Make
    exif.get_ifd(GPS_IFD).update({1: "S", 2: (7.0, 15.0, 30.0), 3: "E", 4: (110.0, 24.0, 5.0)})
    return image("JPEG", width, height, exif=exif)


def multipart(parts: list[tuple[str, str, bytes]], boundary: str = "lapak-boundary-1") -> tuple[bytes, str]:
    """A hand-built multipart/form-data body: ``(name, filename, data)`` parts."""
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"; filename="{f}"\r\n\r\n'.encode() + d + b"\r\n"
        for n, f, d in parts)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Api:
    """Plain-requests access to one sandbox, the way any client would speak the contract."""

    def __init__(self, sb: SandboxHandle) -> None:
        self.sb = sb
        self.http = requests.Session()
        r = self.http.post(f"{sb.url}/token", params={"grant_type": "client_credentials"},
                           auth=(sb.client_id, sb.client_secret), timeout=10)
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]

    @property
    def upload_path(self) -> str:
        return f"/v1/pictures/fs/{self.sb.fs_id}/upload"

    def post(self, shop: int = SHOP, token: str | None = None, headers: dict | None = None,
             **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", **(headers or {})}
        return self.http.post(f"{self.sb.url}{self.upload_path}", params={"shop_id": shop}, headers=headers,
                              timeout=30, **kw)

    def upload(self, data: bytes, filename: str = "foto.jpg", *, shop: int = SHOP,
               token: str | None = None) -> requests.Response:
        """The contract's upload: one part named ``file``."""
        return self.post(shop, token, files={"file": (filename, data)})

    def raw(self, body: bytes, content_type: str) -> requests.Response:
        """Upload a body built by hand, with its own Content-Type."""
        return self.post(headers={"Content-Type": content_type}, data=body)

    def create(self, rows: list[dict], shop: int = SHOP) -> requests.Response:
        return self.http.post(f"{self.sb.url}/v3/products/fs/{self.sb.fs_id}/create", params={"shop_id": shop},
                              json={"products": rows}, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)

    def edit(self, rows: list[dict], shop: int = SHOP) -> requests.Response:
        return self.http.patch(f"{self.sb.url}/v3/products/fs/{self.sb.fs_id}/edit", params={"shop_id": shop},
                               json={"products": rows}, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)

    def by_sku(self, sku: str, shop: int = SHOP) -> dict:
        r = self.http.get(f"{self.sb.url}/inventory/v1/fs/{self.sb.fs_id}/product/info",
                          params={"shop_id": shop, "sku": sku}, headers={"Authorization": f"Bearer {self.token}"},
                          timeout=10)
        return r.json()["data"][0]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), rate_limit=None) as sb:
        yield sb


@pytest.fixture
def api(sandbox: SandboxHandle) -> Iterator[Api]:
    yield Api(sandbox)
    sandbox.admin.clear_faults()
    sandbox.admin.set_rate_limit(None)


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[MarketplaceClient]:
    with MarketplaceClient(sandbox.url, sandbox.url, sandbox.fs_id, sandbox.client_id,
                           SecretStr(sandbox.client_secret), rate_limit_per_second=10_000, timeout=30) as c:
        yield c


def ok_data(r: requests.Response) -> dict:
    assert r.status_code == 200, r.text
    assert r.json()["header"]["error_code"] == 0
    return r.json()["data"]


def refused(r: requests.Response, status: int, code: str) -> str:
    """The ``reason`` of an error answer (its ``messages`` when it gave none)."""
    assert r.status_code == status, r.text
    header = r.json()["header"]
    assert header["error_code"] == code and r.json()["data"] is None
    return header["reason"] or header["messages"]


def product(sku: str, file_path: str) -> dict:
    return {"name": f"Anyaman Pandan {sku}", "sku": sku, "category_id": 101, "price": 45_000, "stock": 4,
            "weight": 300, "pictures": [{"file_path": file_path}]}


# --- accepted ----------------------------------------------------------------------------------


def test_jpeg_and_png_are_accepted_and_content_addressed(api: Api) -> None:
    jpeg, png = image("JPEG", 800, 600), image("PNG", 640, 480)

    first = ok_data(api.upload(jpeg, "keripik.jpg"))
    assert first == {"file_path": first["file_path"], "width": 800, "height": 600,
                     "sha256": hashlib.sha256(jpeg).hexdigest()}
    assert first["file_path"].startswith("https://") and first["file_path"].endswith(".jpg")
    assert first["sha256"] in first["file_path"]
    again = ok_data(api.upload(jpeg, "another-name.png"))  # the name is ignored
    assert again == first

    got = ok_data(api.upload(png, "anyaman.jpg"))  # a PNG by content, whatever its name says
    assert (got["width"], got["height"], got["sha256"]) == (640, 480, hashlib.sha256(png).hexdigest())
    assert got["file_path"].startswith("https://") and got["file_path"].endswith(".png")
    assert got["file_path"] != first["file_path"]


@pytest.mark.parametrize(("width", "height"), [(300, 300), (10_000, 300), (300, 10_000)])
def test_sides_at_the_limits_are_accepted(api: Api, width: int, height: int) -> None:
    data = ok_data(api.upload(image("PNG", width, height)))
    assert (data["width"], data["height"]) == (width, height)


def test_exactly_the_byte_limit_is_accepted_one_more_is_not(api: Api) -> None:
    jpeg = image("JPEG", 800, 600)
    padded = jpeg + b"\0" * (FILE_MAX - len(jpeg))  # bytes after the JPEG's end: still a JPEG
    assert len(padded) == FILE_MAX
    assert ok_data(api.upload(padded))["sha256"] == hashlib.sha256(padded).hexdigest()

    reason = refused(api.upload(padded + b"\0"), 400, "PIC_FILE_SIZE")
    assert "5,242,881" in reason and "5,242,880" in reason


# --- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height", "figures"), [
    (200, 150, "200×150"), (10_001, 300, "10,001×300"), (800, 299, "800×299")])
def test_a_side_out_of_range_is_pic_dimension_naming_the_figures(api: Api, width: int, height: int,
                                                                 figures: str) -> None:
    reason = refused(api.upload(image("JPEG", width, height)), 400, "PIC_DIMENSION")
    assert figures in reason and "300" in reason and "10,000" in reason


@pytest.mark.parametrize("data", [
    b"Bukan gambar, hanya teks.\n" * 40,
    image("GIF", 800, 600),
    image("WEBP", 800, 600),
    b"",
], ids=["text", "gif", "webp", "empty"])
def test_not_a_jpeg_or_png_by_content_is_pic_format(api: Api, data: bytes) -> None:
    reason = refused(api.upload(data, "foto.jpg"), 400, "PIC_FORMAT")
    assert "JPEG" in reason and "PNG" in reason


def test_a_png_with_a_damaged_chunk_is_pic_format(api: Api) -> None:
    png = bytearray(image("PNG", 640, 480))
    png[len(png) // 2] ^= 0xFF  # inside the image data: its chunk checksum no longer matches
    refused(api.upload(bytes(png)), 400, "PIC_FORMAT")


def test_a_body_far_past_the_limit_is_pic_file_size(api: Api) -> None:
    reason = refused(api.upload(b"\xff" * (3 * FILE_MAX)), 400, "PIC_FILE_SIZE")
    assert "5,242,880" in reason


def test_no_file_part_or_a_malformed_body_is_pic_request(api: Api) -> None:
    jpeg = image("JPEG", 800, 600)
    wrong_name, ct = multipart([("picture", "foto.jpg", jpeg)])
    assert "file" in refused(api.raw(wrong_name, ct), 400, "PIC_REQUEST")
    two, ct = multipart([("file", "a.jpg", jpeg), ("file", "b.jpg", jpeg)])
    refused(api.raw(two, ct), 400, "PIC_REQUEST")
    unclosed, ct = multipart([("file", "a.jpg", jpeg)])
    refused(api.raw(unclosed[:-len("--lapak-boundary-1--\r\n")], ct), 400, "PIC_REQUEST")
    refused(api.raw(unclosed, "multipart/form-data"), 400, "PIC_REQUEST")  # no boundary
    refused(api.raw(b'{"file": "x"}', "application/json"), 400, "PIC_REQUEST")
    refused(api.post(), 400, "PIC_REQUEST")  # no body at all


def test_unlinked_shop_is_403_and_a_bad_token_401(api: Api) -> None:
    jpeg = image("JPEG", 800, 600)
    refused(api.upload(jpeg, shop=UNLINKED_SHOP), 403, "RBAC_MDLW_001")
    refused(api.upload(jpeg, token="not-a-token"), 401, "AUTH_INVALID_TOKEN")
    assert hashlib.sha256(jpeg).hexdigest() not in {p["sha256"] for p in api.sb.admin.pictures()}


# --- what an upload is good for ------------------------------------------------------------------


def test_a_product_with_an_uploaded_file_path_is_accepted_on_create_and_edit(api: Api) -> None:
    first = ok_data(api.upload(image("JPEG", 800, 600)))["file_path"]
    second = ok_data(api.upload(image("PNG", 500, 500)))["file_path"]
    sku = f"pic-{uuid.uuid4().hex[:8]}"

    created = ok_data(api.create([product(sku, first)]))
    assert created["fail_data"] == 0, created
    pid = created["success_rows_data"][0]["product_id"]
    edited = ok_data(api.edit([{"id": pid, "pictures": [{"file_path": second}, {"file_path": first}]}]))
    assert edited["fail_data"] == 0, edited
    assert api.by_sku(sku)["pictures"] == [{"file_path": second}, {"file_path": first}]


def test_the_admin_hands_back_the_exact_bytes_and_lists_the_upload(api: Api) -> None:
    jpeg = jpeg_with_gps()
    data = ok_data(api.upload(jpeg, shop=OTHER_SHOP))

    kept = api.sb.admin.picture(data["sha256"])
    assert kept == jpeg
    assert Image.open(io.BytesIO(kept)).getexif().get_ifd(GPS_IFD)  # what a test of a client would look for
    [row] = [p for p in api.sb.admin.pictures(OTHER_SHOP) if p["sha256"] == data["sha256"]]
    assert {k: row[k] for k in ("file_path", "format", "width", "height", "bytes", "shop_id", "uploads")} == {
        "file_path": data["file_path"], "format": "JPEG", "width": 640, "height": 480, "bytes": len(jpeg),
        "shop_id": OTHER_SHOP, "uploads": 1}
    assert row["uploaded_at"] > 0
    assert data["sha256"] not in {p["sha256"] for p in api.sb.admin.pictures(SHOP)}
    with pytest.raises(SandboxAdminError) as info:
        api.sb.admin.picture("0" * 64)
    assert info.value.status == 404


def test_uploads_count_in_the_stats_one_item_each(api: Api) -> None:
    path = api.upload_path
    before = api.sb.admin.stats()["paths"].get(path, {"calls": 0, "items": 0})
    ok_data(api.upload(image("JPEG", 800, 600)))
    refused(api.upload(image("JPEG", 200, 150)), 400, "PIC_DIMENSION")
    after = api.sb.admin.stats()["paths"][path]
    assert (after["calls"] - before["calls"], after["items"] - before["items"]) == (2, 1)


def test_uploads_are_rate_limited_one_item_each(api: Api) -> None:
    api.sb.admin.set_rate_limit(1)
    codes = [api.upload(image("JPEG", 400, 400)).status_code for _ in range(2)]
    assert codes == [200, 429]


def test_a_5xx_after_applying_keeps_the_picture_and_a_retry_gets_the_same_path(api: Api) -> None:
    jpeg = image("JPEG", 800, 600)
    api.sb.admin.inject_fault("error_5xx_after", path="/v1/pictures/", count=1)
    assert api.upload(jpeg).status_code == 500
    assert api.sb.admin.picture(hashlib.sha256(jpeg).hexdigest()) == jpeg
    assert ok_data(api.upload(jpeg))["sha256"] == hashlib.sha256(jpeg).hexdigest()
    [row] = [p for p in api.sb.admin.pictures() if p["sha256"] == hashlib.sha256(jpeg).hexdigest()]
    assert row["uploads"] == 2


def test_pictures_survive_a_restart(api: Api) -> None:
    png = image("PNG", 700, 700)
    data = ok_data(api.upload(png))
    api.sb.restart()
    assert api.sb.admin.picture(data["sha256"]) == png
    assert ok_data(api.upload(png)) == data  # the token from before the restart is still good


def test_a_data_folder_from_before_pictures_gains_the_table(tmp_path) -> None:
    with running_sandbox(tmp_path, rate_limit=None):
        pass
    with sqlite3.connect(tmp_path / "sandbox.db") as db:
        db.execute("DROP TABLE pictures")
    with running_sandbox(tmp_path, rate_limit=None) as sb:
        jpeg = image("JPEG", 800, 600)
        assert ok_data(Api(sb).upload(jpeg))["width"] == 800
        assert sb.admin.picture(hashlib.sha256(jpeg).hexdigest()) == jpeg


# --- through the project's client ----------------------------------------------------------------


def test_marketplace_client_uploads_and_creates_with_the_path(api: Api, client: MarketplaceClient) -> None:
    jpeg, png = image("JPEG", 800, 600), image("PNG", 1200, 900)
    pic = client.upload_picture(SHOP, jpeg, "keripik.jpg")
    assert (pic.width, pic.height, pic.sha256) == (800, 600, hashlib.sha256(jpeg).hexdigest())
    assert client.upload_picture(SHOP, jpeg, "lagi.jpg").file_path == pic.file_path
    assert client.upload_picture(SHOP, png, "anyaman.png").file_path.endswith(".png")
    assert api.sb.admin.picture(pic.sha256) == jpeg

    sku = f"cli-{uuid.uuid4().hex[:8]}"
    created = client.create_products(SHOP, [product(sku, pic.file_path)])
    assert created.ok, created
    assert [p.file_path for p in client.product_by_sku(SHOP, sku).pictures] == [pic.file_path]


def test_marketplace_client_gets_the_refusals(client: MarketplaceClient) -> None:
    with pytest.raises(BadRequestError) as small:
        client.upload_picture(SHOP, image("JPEG", 200, 150), "kecil.jpg")
    assert small.value.error_code == "PIC_DIMENSION" and "200×150" in str(small.value)
    with pytest.raises(BadRequestError) as text:
        client.upload_picture(SHOP, b"not a picture at all", "foto.jpg")
    assert text.value.error_code == "PIC_FORMAT"
    with pytest.raises(BadRequestError) as big:
        client.upload_picture(SHOP, b"\0" * (FILE_MAX + 1), "besar.jpg")
    assert big.value.error_code == "PIC_FILE_SIZE"
    with pytest.raises(ForbiddenError):
        client.upload_picture(UNLINKED_SHOP, image("JPEG", 800, 600), "foto.jpg")
