"""Photos benchmark: phone photos through check, strip, resize and upload to the sandbox (issue 11).

    .venv/bin/python bench/photos.py [--photos 200] [--keep DIR]

Generates (once, cached under bench/data/photos/, git-ignored) phone-like JPEGs of 4000×3000 px,
about 4 MB each (a colour gradient, fine grain and mid-scale texture, so the JPEG stays big; quality
95), each with EXIF (camera make and model, DateTimeOriginal, GPS latitude and longitude; every
second one with orientation 6, as a phone held upright writes it) in `foto/`, and beside it a `;`
CSV catalogue of PHOTOS products naming one photo each by file name, for one group on one sandbox
shop. Then, in a fresh process (so its peak RSS is the sync's own, not the generator's), with the
sandbox marketplace (no rate limit) and a temporary Prefect server (`prefect_test_harness`,
isolated PREFECT_HOME, as bench/sync.py does):

1. First sync, through the real flow (`flows.sync.sync_catalogues`): every photo found, read,
   hashed, prepared (upright, no metadata, JPEG ≤ 2,048 px, ≤ 5 MB) and uploaded once. Wall time,
   photos/s (end to end, and over the photo work alone: find + read + hash, prepare, upload), the
   sandbox's own counted uploads (must be PHOTOS), bytes in vs bytes uploaded, peak RSS of the
   process; every uploaded picture read back (`admin.picture(sha)`) must be a JPEG with no EXIF,
   no GPS, no other metadata, longest side ≤ 2,048 px, and upright (orientation-6 photos portrait);
   every product must show its own photo.
2. Unchanged re-sync: wall time; from the sandbox's own counters 0 uploads and 0 writes, and the
   summary's `photos_uploaded == 0` and writes all 0; no photo prepared again.
3. The intake alone on the unchanged catalogue (photos already prepared: read + sha256 only), so the
   per-sync cost of PHOTOS local photos is visible.

Exit status 1 when a correctness check fails (times are reported only).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from stages import Stages  # bench/ is this script's folder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "photos"
sys.path.insert(0, str(ROOT))

W, H = 4000, 3000
GPS, EXIF_IFD = 0x8825, 0x8769
PHONES = [("samsung", "SM-A155F"), ("Xiaomi", "Redmi Note 13"), ("OPPO", "CPH2591"), ("vivo", "V2247")]
HEADER = ["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Deskripsi", "Foto 1"]
WORDS = ["Keripik", "Singkong", "Pisang", "Carica", "Batik", "Kopi", "Tas", "Anyaman", "Pandan", "Sambal",
         "Kue", "Nastar", "Sarung", "Gula Aren", "Madu"]
WRITE_PATHS = ("/create", "/edit", "/price/update", "/stock/update", "/active", "/inactive")
METADATA = ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "mp")
LONGEST, MAX_BYTES = 2048, 5 * 1024 * 1024


def photo_name(i: int) -> str:
    return f"IMG_20260412_{i + 1:04d}.jpg"


def product_name(i: int) -> str:
    return f"{WORDS[i % len(WORDS)]} {WORDS[(7 * i + 3) % len(WORDS)]} Foto No {i + 1:04d}"


# ---- data: photos and catalogue (parent process) ---------------------------------------------------

class Grain:
    """Noise fields made once and shifted per photo (making 200 fields of 12 Mpx would take minutes)."""

    def __init__(self, rng: np.random.Generator) -> None:
        from PIL import Image

        self.fine = rng.normal(0, 2.0, (H, W, 1)).astype(np.float32)  # sensor grain, luminance
        small = rng.normal(0, 12.0, (H // 4, W // 4, 3)).astype(np.float32)  # texture that survives resizing
        self.mid = np.stack([np.asarray(Image.fromarray(small[..., c], mode="F").resize(
            (W, H), Image.Resampling.BILINEAR)) for c in range(3)], axis=-1)

    def photo(self, rng: np.random.Generator) -> np.ndarray:
        from PIL import Image

        corners = rng.integers(20, 236, (6, 8, 3), dtype=np.uint8)
        base = np.asarray(Image.fromarray(corners).resize((W, H), Image.Resampling.BICUBIC), dtype=np.float32)
        dy, dx = (int(v) for v in rng.integers(0, (H, W)))
        base += np.roll(self.mid, (dy, dx), axis=(0, 1))
        base += np.roll(self.fine, (dx % H, dy % W), axis=(0, 1))
        return np.clip(base, 0, 255).astype(np.uint8)


def exif_of(i: int):
    from PIL import Image

    exif = Image.Exif()
    make, model = PHONES[i % len(PHONES)]
    exif[0x010F], exif[0x0110] = make, model
    exif[0x0112] = 6 if i % 2 else 1
    exif[0x0132] = f"2026:04:12 {8 + i // 60 % 10:02d}:{i % 60:02d}:00"
    exif.get_ifd(EXIF_IFD)[0x9003] = exif[0x0132]  # DateTimeOriginal
    exif.get_ifd(GPS).update({1: "S", 2: (7.0, 21.0, 30.0 + i % 30), 3: "E", 4: (109.0, 54.0, 2.0 + i % 50)})
    return exif


def ensure_photos(n: int) -> float:
    """The first ``n`` photos in DATA/foto (made when missing); seconds spent making them."""
    folder = DATA / "foto"
    missing = [i for i in range(n) if not (folder / photo_name(i)).exists()]
    if not missing:
        return 0.0
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    grain = Grain(np.random.default_rng(2026))
    for k, i in enumerate(missing):
        pixels = grain.photo(np.random.default_rng(1000 + i))
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "JPEG", quality=95, exif=exif_of(i).tobytes())
        part = folder / (photo_name(i) + ".part")
        part.write_bytes(buf.getvalue())
        part.replace(folder / photo_name(i))
        if k % 20 == 19 or k == len(missing) - 1:
            print(f"  made {k + 1}/{len(missing)} photos ({time.perf_counter() - t0:.0f} s)", flush=True)
    return time.perf_counter() - t0


def write_catalogue(n: int) -> Path:
    """A `;` CSV of ``n`` products beside foto/, one photo each by file name (rewritten only when it differs)."""
    from schemas.categories import DEFAULT_CATEGORIES

    leaves = [c.name for c in DEFAULT_CATEGORIES if c.is_leaf]
    out = io.StringIO()
    out.write("Katalog Produk Kelompok Foto Bench;;;;;;;\n")
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(HEADER)
    for i in range(n):
        price = 5_000 + (i * 2_500) % 150_000
        w.writerow([i + 1, product_name(i), leaves[i % len(leaves)], "Rp " + f"{price:,}".replace(",", "."),
                    10 + i % 90, f"{(1 + i % 20) * 50} gr", "Produk kelompok desa, difoto dengan HP.", photo_name(i)])
    path = DATA / f"katalog-{n}.csv"
    if not path.exists() or path.read_text(encoding="utf-8") != out.getvalue():
        path.write_text(out.getvalue(), encoding="utf-8")
    return path


# ---- measuring (child process) ---------------------------------------------------------------------

FIND, PREPARE, UPLOAD, RESOLVE = ("photos: find + read + sha256", "photos: prepare (decode, upright, resize, encode)",
                                  "photos: upload + record (planning)", "intake: photos resolved (all of it)")


def instrument(stages: Stages) -> None:
    import flows.engine.intake as intake
    import flows.engine.photos as photos
    import flows.engine.planning as planning
    from connectors.photos import PhotoFinder

    stages.wrap(PhotoFinder, "find", FIND)
    stages.wrap(photos, "prepare_photo", PREPARE)
    stages.wrap(planning, "upload_pictures", UPLOAD)
    stages.wrap(intake, "resolve_photos", RESOLVE)
    stages.wrap(intake, "intake_catalogue", "intake: read + photos + normalise")


def memory_mib() -> dict[str, float]:
    """This process's resident set now (VmRSS) and its peak (VmHWM), from /proc/self/status.

    Not ``getrusage``'s ``ru_maxrss``: after a vfork + exec it keeps the parent's peak (the photo
    generator's hundreds of MiB), where VmHWM belongs to this process's own memory."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}


def reset_peak() -> bool:
    """VmHWM set back to the current RSS (Linux ≥ 4.0), so the next peak is the next step's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def sandbox_counts(before: dict, after: dict) -> tuple[int, int, dict[str, int]]:
    """Uploads, marketplace writes (items) and items per path, between two admin.stats() answers."""
    items = {}
    for path, c in after["paths"].items():
        d = c["items"] - before["paths"].get(path, {}).get("items", 0)
        calls = c["calls"] - before["paths"].get(path, {}).get("calls", 0)
        if d or calls:
            items[path] = d
    uploads = sum(v for p, v in items.items() if "/pictures/" in p and p.endswith("/upload"))
    writes = sum(v for p, v in items.items() if p.endswith(WRITE_PATHS))
    return uploads, writes, items


def header_segments(jpeg: bytes) -> list[str]:
    """The APPn and COM segments before the image data (read from the bytes, not through Pillow):
    a clean JPEG has only ``APP0 JFIF``; EXIF (and its GPS) would be ``APP1 Exif``, ICC ``APP2``."""
    out, i = [], 2
    while i + 4 <= len(jpeg) and jpeg[i] == 0xFF and jpeg[i + 1] != 0xDA:  # up to start-of-scan
        marker, length = jpeg[i + 1], int.from_bytes(jpeg[i + 2:i + 4], "big")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            tag = jpeg[i + 4:i + 2 + length].split(b"\0", 1)[0][:12].decode("latin-1")
            out.append(f"{'COM' if marker == 0xFE else f'APP{marker - 0xE0}'} {tag}")
        i += 2 + length
    return out


def check_picture(sha: str, data: bytes, want: tuple[int, int] | None) -> str | None:
    """What is wrong with one uploaded picture, or None."""
    from PIL import Image

    if hashlib.sha256(data).hexdigest() != sha:
        return "bytes read back differ from their sha256"
    if len(data) > MAX_BYTES:
        return f"{len(data):,} bytes > 5 MB"
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        problems = [f"format {im.format}"] if im.format != "JPEG" else []
        problems += ["EXIF"] if len(exif) else []
        problems += ["GPS"] if exif.get_ifd(GPS) else []
        problems += [f"metadata {k}" for k in METADATA if k in im.info]
        problems += [f"segment {name}" for name in header_segments(data) if name != "APP0 JFIF"]
        problems += [f"{im.size[0]}×{im.size[1]} > {LONGEST}"] if max(im.size) > LONGEST else []
        problems += [f"{im.size[0]}×{im.size[1]}, expected {want[0]}×{want[1]} (upright)"] if want and im.size != want \
            else []
    return ", ".join(problems) or None


def verify_uploads(sb, n: int, out_dir: Path, shop: int, failures: list[str]) -> tuple[int, int]:
    """Every uploaded picture read back and checked; each product shows its own photo. Bytes in and up."""
    from connectors.photos import PROCESSING_VERSION

    pics = {p["sha256"]: p for p in sb.admin.pictures()}
    bytes_in, expected = 0, {}  # uploaded sha -> (photo index, expected size)
    for i in range(n):
        src = (DATA / "foto" / photo_name(i)).read_bytes()
        bytes_in += len(src)
        cached = out_dir / ".cache" / "photos" / f"{hashlib.sha256(src).hexdigest()}-v{PROCESSING_VERSION}.jpg"
        if not cached.exists():
            failures.append(f"photo {i + 1}: no prepared photo in the cache ({cached.name})")
            continue
        expected[hashlib.sha256(cached.read_bytes()).hexdigest()] = (i, (1536, 2048) if i % 2 else (2048, 1536))
    if len(pics) != n or set(pics) != set(expected):
        failures.append(f"sandbox holds {len(pics)} pictures; {len(set(expected) - set(pics))} prepared photos "
                        f"not among them, {len(set(pics) - set(expected))} unexpected")
    bad = {}
    for sha, p in pics.items():
        problem = check_picture(sha, sb.admin.picture(sha), expected.get(sha, (None, None))[1])
        if p["uploads"] != 1:
            problem = f"uploaded {p['uploads']} times" + (f"; {problem}" if problem else "")
        if problem:
            bad[sha[:12]] = problem
    if bad:
        failures.append(f"{len(bad)} uploaded pictures fail the checks, e.g. {list(bad.items())[:3]}")
    path_of = {sha: p["file_path"] for sha, p in pics.items()}
    want_path = {i: path_of.get(sha) for sha, (i, _) in expected.items()}
    products = sb.admin.products(shop)
    wrong = [p["name"] for p in products
             if [x["file_path"] for x in p["pictures"]] != [want_path.get(int(p["name"].rsplit(" ", 1)[1]) - 1)]]
    if len(products) != n or wrong:
        failures.append(f"shop {shop} holds {len(products)} products (expected {n}); {len(wrong)} without their "
                        f"own photo, e.g. {wrong[:3]}")
    return bytes_in, sum(p["bytes"] for p in pics.values())


def write_config(tmp: Path, sb, catalogue: Path) -> Path:
    text = "\n".join([
        "[marketplace]", f'api_url = "{sb.api_url}"', f'auth_url = "{sb.auth_url}"', f"fs_id = {sb.fs_id}",
        f'client_id = "{sb.client_id}"', "rate_limit_per_second = 100000", "",
        "[state]", 'url = "sqlite:///state/lapak.db"', "", "[output]", 'dir = "out"', "",
        "[[groups]]", 'id = "bench-foto-wonosobo"', 'name = "Kelompok Foto Bench"', 'village = "Desa Foto"',
        'regency = "Wonosobo"', f"shop_id = {sb.shops[0]}", f'catalogue = "{catalogue}"', ""])
    path = tmp / "lapak.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_child(n: int, catalogue: Path, keep: Path | None) -> int:
    prefect_home = tempfile.mkdtemp(prefix="lapak-bench-prefect-home-")
    os.environ.update(PREFECT_HOME=prefect_home, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.pop("PREFECT_API_URL", None)
    for k in [k for k in os.environ if k.startswith("LAPAK_")]:  # a developer's overrides would skew the run
        del os.environ[k]
    tmp = Path(tempfile.mkdtemp(prefix="lapak-bench-photos-"))
    try:
        return measure(n, catalogue, tmp)
    finally:
        os.environ.pop("LAPAK_CLIENT_SECRET", None)
        if keep:
            shutil.copytree(tmp, keep, dirs_exist_ok=True)
            print(f"Files kept in {keep}")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(prefect_home, ignore_errors=True)


def measure(n: int, catalogue: Path, tmp: Path) -> int:
    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    import flows.sync as fs
    from connectors.sandbox import running_sandbox
    from flows.engine.photos import PREPARE_WORKERS

    stages = Stages()
    instrument(stages)
    failures: list[str] = []
    figures: list[tuple[str, str]] = []

    @flow(name="bench-trivial")
    def trivial() -> int:
        return 1

    with running_sandbox(tmp / "sandbox", rate_limit=None) as sb:
        os.environ["LAPAK_CLIENT_SECRET"] = sb.client_secret  # env only: never in the file
        cfg = write_config(tmp, sb, catalogue)
        shop = sb.shops[0]
        print(f"{n} photos, 1 group on shop {shop}; sandbox {sb.url} (no rate limit); catalogue {catalogue}")
        with prefect_test_harness(server_startup_timeout=60):
            t0 = time.perf_counter()
            trivial()
            figures.append(("Prefect: trivial flow run (cold)", f"{time.perf_counter() - t0:.2f} s"))
            mem_before = memory_mib()
            reset = reset_peak()

            def sync(label: str) -> tuple[float, dict | None, tuple[int, int, dict[str, int]]]:
                stages.reset()
                before = sb.admin.stats()
                t0 = time.perf_counter()
                try:
                    summary = fs.sync_catalogues(config_path=str(cfg))
                except Exception as err:  # NeedsOperator and the like: reported, the checks then fail
                    failures.append(f"{label}: the flow raised {type(err).__name__}: {err}")
                    summary = None
                wall = time.perf_counter() - t0
                counts = sandbox_counts(before, sb.admin.stats())
                print(f"\n== {label}: {wall:.2f} s; sandbox items per path: "
                      + (", ".join(f"{p} {v}" for p, v in sorted(counts[2].items())) or "none"))
                stages.show()
                return wall, summary, counts

            # 1. first sync
            first_s, s1, (up1, wr1, _) = sync("first sync")
            peak = memory_mib()["VmHWM"]
            # Wall time of the photo work: finding and preparing (in parallel) + uploading.
            work_s = stages.seconds[RESOLVE] + stages.seconds[UPLOAD]
            prepared = stages.calls[PREPARE]
            if s1 is not None:
                g = s1["groups"][0]
                if (g["listings"], g["rejected"], s1["writes"]["creates"], s1["photos_uploaded"]) != (n, 0, n, n):
                    failures.append(f"first sync: listings {g['listings']}, rejected {g['rejected']}, creates "
                                    f"{s1['writes']['creates']}, photos_uploaded {s1['photos_uploaded']} "
                                    f"(expected {n}, 0, {n}, {n}); problems {s1['problems'][:3]}")
            if up1 != n or prepared != n:
                failures.append(f"first sync: sandbox counted {up1} uploads, {prepared} photos prepared "
                                f"(expected {n} each)")
            t0 = time.perf_counter()
            bytes_in, bytes_up = verify_uploads(sb, n, tmp / "out", shop, failures)
            verify_s = time.perf_counter() - t0
            figures += [
                ("First sync: wall time", f"{first_s:.2f} s = {n / first_s:.1f} photos/s end to end "
                                          f"(intake, {n} creates, Prefect included)"),
                ("  photos/s, find + read + hash + prepare + upload (wall)",
                 f"{n / work_s:.1f} photos/s ({work_s:.2f} s; prepared on {PREPARE_WORKERS} threads)" if work_s
                 else "-"),
                ("    prepare, summed over the threads", f"{stages.seconds[PREPARE]:.2f} s = "
                                                          f"{1000 * stages.seconds[PREPARE] / max(prepared, 1):.0f} "
                                                          "ms/photo"),
                ("    upload alone (+ state store)", f"{stages.seconds[UPLOAD]:.2f} s = "
                                                     f"{1000 * stages.seconds[UPLOAD] / max(up1, 1):.0f} ms/photo"),
                ("  sandbox counted uploads", f"{up1} (expected {n}); marketplace writes {wr1}"),
                ("  bytes in -> bytes uploaded", f"{bytes_in / 1e6:,.1f} MB -> {bytes_up / 1e6:,.1f} MB: saved "
                                                 f"{(bytes_in - bytes_up) / 1e6:,.1f} MB "
                                                 f"({100 * (1 - bytes_up / bytes_in):.1f} %)" if bytes_in else "-"),
                ("  peak RSS of the sync process, during the first sync" if reset else "  peak RSS of the process",
                 f"{peak:,.0f} MiB (before the first sync: RSS {mem_before['VmRSS']:,.0f} MiB, the imports' and "
                 f"Prefect's; peak so far {mem_before['VmHWM']:,.0f} MiB)"),
                ("  uploads read back and checked", f"{n} in {verify_s:.1f} s: JPEG, no EXIF, no GPS, no metadata, "
                                                    f"longest side <= {LONGEST}, upright, each product its own"),
            ]

            # 2. unchanged re-sync
            re_s, s2, (up2, wr2, _) = sync("unchanged re-sync")
            if s2 is not None and (s2["photos_uploaded"] or any(s2["writes"].values()) or s2["planned_writes"]):
                failures.append(f"unchanged re-sync: summary photos_uploaded {s2['photos_uploaded']}, writes "
                                f"{s2['writes']}, planned {s2['planned_writes']} (expected all 0)")
            if up2 or wr2 or stages.calls[PREPARE]:
                failures.append(f"unchanged re-sync: sandbox counted {up2} uploads and {wr2} writes; "
                                f"{stages.calls[PREPARE]} photos prepared again (expected 0 each)")
            figures += [
                ("Unchanged re-sync: wall time", f"{re_s:.2f} s"),
                ("  sandbox counted uploads / writes", f"{up2} / {wr2} (goal 0 / 0); summary photos_uploaded "
                 + (f"{s2['photos_uploaded']}, writes {sum(s2['writes'].values())}" if s2 else "-")),
            ]

        # 3. the intake alone, unchanged (no Prefect): the per-sync cost of local photos
        intake_s, photos_s, read_mb = intake_only(cfg, stages, failures)
        figures += [
            ("Intake alone, unchanged (photos prepared before)", f"{intake_s:.2f} s, of which photos "
             f"{photos_s:.2f} s (read + sha256 of {read_mb:,.0f} MB = {read_mb / max(photos_s, 1e-9):,.0f} MB/s)"),
        ]

    print("\n" + "=" * 100)
    print(f"Photos benchmark: {n} phone photos {W}×{H} with EXIF (half orientation 6), 1 group, sandbox without "
          "rate limit; Prefect: prefect_test_harness")
    width = max(len(f[0]) for f in figures)
    for what, fig in figures:
        print(f"{what:<{width}}  {fig}")
    if failures:
        print("\nCORRECTNESS CHECKS FAILED:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(f"\nCorrectness checks met: {n} uploads, each clean and <= {LONGEST} px; unchanged re-sync 0 uploads, "
          "0 writes, nothing prepared again.")
    return 0


def intake_only(cfg: Path, stages: Stages, failures: list[str]) -> tuple[float, float, float]:
    from connectors.config import load_config
    from flows.engine.intake import catalogue_source, intake_catalogue, load_categories, photo_places

    config = load_config(cfg)
    group = config.groups[0]
    source = catalogue_source(config, group)
    categories = load_categories(config, offline_ok=True)
    stages.reset()
    read = {"bytes": 0}
    from connectors.photos import PhotoFinder

    find = PhotoFinder.find

    def counted(self, ref):
        found = find(self, ref)
        read["bytes"] += len(found.data)
        return found

    PhotoFinder.find = counted
    try:
        t0 = time.perf_counter()
        _raw, result = intake_catalogue(source, group.id, categories,
                                        photo_places(config, group, source, config.output_dir))
        wall = time.perf_counter() - t0
    finally:
        PhotoFinder.find = find
    print(f"\n== intake alone, unchanged catalogue: {wall:.2f} s")
    stages.show()
    if stages.calls[PREPARE] or result.rejected_rows:
        failures.append(f"intake alone: {stages.calls[PREPARE]} photos prepared again, "
                        f"{result.rejected_rows} rows rejected (expected 0 each)")
    return wall, stages.seconds[RESOLVE], read["bytes"] / 1e6


# ---- the run ---------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=200, help="photos (and products) in the catalogue")
    ap.add_argument("--keep", type=Path, help="keep the config, state, output (prepared photos) and sandbox data here")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # the catalogue: measure in this process
    args = ap.parse_args(argv)
    if args.child:
        return run_child(args.photos, args.child, args.keep)
    made = ensure_photos(args.photos)
    if made:
        print(f"generated photos under {DATA / 'foto'} in {made:.0f} s")
    catalogue = write_catalogue(args.photos)
    sizes = [(DATA / "foto" / photo_name(i)).stat().st_size for i in range(args.photos)]
    print(f"{args.photos} photos of {W}×{H}, {min(sizes) / 1e6:.1f}–{max(sizes) / 1e6:.1f} MB "
          f"(mean {sum(sizes) / len(sizes) / 1e6:.2f} MB) with EXIF make/model/date/GPS, every second with "
          f"orientation 6; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    cmd = [sys.executable, __file__, "--child", str(catalogue), "--photos", str(args.photos)]
    if args.keep:
        cmd += ["--keep", str(args.keep)]
    return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
