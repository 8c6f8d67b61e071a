"""Intake benchmark: a 1,000,000-row messy catalogue CSV → listings + rejects.

    .venv/bin/python bench/intake.py [--rows 1000000] [--slice 100000]

Generates (once, cached under bench/data/) a `;`-separated catalogue with a title row,
every price/weight/stock form of ../shared/catalogue-formats.md and ~5% bad rows, then
measures in a fresh child process (so peak RSS is the intake's own):
  - the vectorised intake (read + normalise) on all rows: rows/s and peak RSS;
  - a straightforward row-by-row implementation (csv module, per-row parsing, one pydantic
    model per row) on the first --slice rows, for comparison.
Goal: ≥ 100,000 rows/s end to end, peak memory ≤ 2 GiB.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))

GOOD = {
    "price": ["Rp 15.000", "Rp15.000,-", "15.000", "15.000,00", "15000", "15rb", "15 ribu", "1,5 jt",
              "1.5jt", "Rp. 7.500", "25000", "Rp 125.000"],
    "weight": ["250 gr", "250g", "250 gram", "0,5 kg", "1/2 kg", "1 kg", "2 ons", "1 pon", "300"],
    "stock": ["40", "40 pcs", "40 buah", "habis", "kosong", "12", "100", "7 bungkus"],
    "category": ["Keripik", "keripik", "Manisan", "Kue Kering", "Sambal", "Kopi Bubuk", "Batik Tulis",
                 "batik cap", "Sarung", "Selendang", "Anyaman", "Tas", "Masker Kain"],
}
BAD = {  # each bad row gets exactly one of these
    "price": ["nego", "hubungi kami", "15,000", "-", "50"],
    "weight": ["secukupnya", ""],
    "stock": ["-3", "banyak"],
    "category": ["Elektronik", "Makanan & Minuman"],
    "photo": ["", "foto di WA"],
}
WORDS = ["Keripik", "Singkong", "Pisang", "Pedas", "Manis", "Carica", "Batik", "Tulis", "Motif", "Kopi",
         "Tas", "Anyaman", "Pandan", "Masker", "Kain", "Sambal", "Bawang", "Kue", "Nastar", "Sarung"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write the messy CSV (vectorised; ~10 s for a million rows)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    i = np.arange(rows)
    pick = lambda options: np.asarray(options, dtype=object)[rng.integers(0, len(options), rows)]  # noqa: E731
    name = pick(WORDS) + " " + pick(WORDS) + " " + pick(WORDS) + " No " + i.astype(str)
    shout = rng.random(rows) < 0.05
    name[shout] = np.char.upper(name[shout].astype(str)).astype(object)
    cols = {
        "No": (i + 1).astype(str),
        "Nama Produk": name,
        "Kategori": pick(GOOD["category"]),
        "Harga": pick(GOOD["price"]),
        "Stok": pick(GOOD["stock"]),
        "Berat": pick(GOOD["weight"]),
        "Deskripsi": "Produk desa, dibuat tangan. Isi " + pick(["100", "250", "500"]) + " gr.  ",
        "Foto 1": "https://img.lapakdesa.example/p/" + i.astype(str) + ".jpg",
        "Foto 2": np.where(rng.random(rows) < 0.3, "https://img.lapakdesa.example/q/" + i.astype(str) + ".jpg", ""),
    }
    bad = np.flatnonzero(rng.random(rows) < 0.05)
    field = rng.choice(list(BAD), len(bad))
    target = {"price": "Harga", "weight": "Berat", "stock": "Stok", "category": "Kategori", "photo": "Foto 1"}
    for f in BAD:
        rows_f = bad[field == f]
        cols[target[f]][rows_f] = np.asarray(BAD[f], dtype=object)[rng.integers(0, len(BAD[f]), len(rows_f))]
    df = pd.DataFrame(cols)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("Katalog Produk Benchmark;;;;;;;;\n;;;;;;;;\n")
        df.to_csv(fh, sep=";", index=False)


def run_vectorised(path: Path) -> dict:
    """The project's intake: read_catalogue + normalise (what `lapak check` and the sync use)."""
    from flows.engine.intake import intake_catalogue
    from schemas.categories import DEFAULT_CATEGORIES, CategoryIndex

    t0 = time.perf_counter()
    _raw, result = intake_catalogue(path, "bench-group", CategoryIndex(DEFAULT_CATEGORIES))
    t1 = time.perf_counter()
    return {"rows": result.rows_in, "listings": len(result.listings), "rejected": result.rejected_rows,
            "seconds": t1 - t0,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ---- a straightforward row-by-row implementation, for comparison ----------------------------

def _num(text: str) -> float | None:
    t = text.strip().lower()
    t = re.sub(r"^(rp|idr)\.?\s*", "", t)
    t = re.sub(r"(,-+|\.-+)$", "", t)
    m = re.match(r"^([\d.,/]+)\s*(rb|ribu|k|jt|juta)?$", t)
    if not m:
        return None
    n, mult = m.group(1), {"rb": 1e3, "ribu": 1e3, "k": 1e3, "jt": 1e6, "juta": 1e6}.get(m.group(2) or "", 1)
    if re.fullmatch(r"\d{1,3},\d{3}", n) and mult == 1:
        return None
    if re.fullmatch(r"[1-9]\d{0,2}(\.\d{3})+(,\d+)?", n):
        n = n.replace(".", "").replace(",", ".")
    else:
        n = n.replace(",", ".")
    try:
        return float(n) * mult
    except ValueError:
        return None


def run_row_by_row(path: Path, limit: int) -> dict:
    """csv module, per-row regex parsing and one pydantic model per row (the marketplace's create
    payload, which validates every field rule)."""
    from pydantic import ValidationError

    from connectors.marketplace.models import NewProduct, Picture
    from schemas.categories import DEFAULT_CATEGORIES, CategoryIndex

    cats = CategoryIndex(DEFAULT_CATEGORIES)
    grams = {"g": 1, "gr": 1, "gram": 1, "kg": 1000, "ons": 100, "pon": 500, "": 1}
    t0 = time.perf_counter()
    listings, rejects, n = 0, 0, 0
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        next(reader), next(reader)
        header = next(reader)
        for rec in reader:
            if n >= limit:
                break
            n += 1
            row = dict(zip(header, rec))
            price = _num(row["Harga"])
            stock_txt = row["Stok"].strip().lower()
            stock = 0 if stock_txt in ("habis", "kosong") else _num(re.sub(r"\s*(pcs|buah|bungkus)$", "", stock_txt))
            m = re.match(r"^([\d.,/]+)\s*([a-z]*)$", row["Berat"].strip().lower())
            weight = None
            if m and m.group(2) in grams:
                w = m.group(1)
                weight = (float(w.split("/")[0]) / float(w.split("/")[1]) if "/" in w else _num(w))
                weight = weight * grams[m.group(2)] if weight else None
            cid, _, _ = cats.lookup(row["Kategori"])
            photos = [u for u in (row["Foto 1"], row["Foto 2"]) if u.startswith("https://")]
            try:
                NewProduct(sku=f"BENCH-{n}", name=row["Nama Produk"].strip(), category_id=cid or -1,
                           price=int(price or 0), stock=int(stock if stock is not None else -1),
                           weight=weight or 0, description=row["Deskripsi"].strip(),
                           pictures=[Picture(file_path=u) for u in photos])
                if cid is None:
                    raise ValueError("category")
                listings += 1
            except (ValidationError, ValueError):
                rejects += 1
    t1 = time.perf_counter()
    return {"rows": n, "listings": listings, "rejected": rejects, "seconds": t1 - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--slice", type=int, default=100_000)
    ap.add_argument("--child", choices=["vectorised", "row-by-row"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        out = (run_vectorised(Path(args.path)) if args.child == "vectorised"
               else run_row_by_row(Path(args.path), args.slice))
        print(json.dumps(out))
        return

    path = DATA / f"catalogue-{args.rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")

    def child(kind: str) -> dict:
        cmd = [sys.executable, __file__, "--child", kind, "--path", str(path), "--slice", str(args.slice)]
        return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

    v = child("vectorised")
    rate = v["rows"] / v["seconds"]
    print(f"vectorised intake: {v['rows']:,} rows in {v['seconds']:.2f} s = {rate:,.0f} rows/s; "
          f"{v['listings']:,} listings + {v['rejected']:,} rejected; peak RSS {v['peak_rss_mib']:,.0f} MiB")
    r = child("row-by-row")
    rrate = r["rows"] / r["seconds"]
    print(f"row-by-row (first {r['rows']:,} rows): {r['seconds']:.2f} s = {rrate:,.0f} rows/s "
          f"({r['listings']:,} listings + {r['rejected']:,} rejected)")
    ok_rate, ok_mem = rate >= 100_000, v["peak_rss_mib"] <= 2048
    assert v["rows"] == v["listings"] + v["rejected"], "no-loss invariant broken"
    print(f"goal ≥ 100,000 rows/s: {'met' if ok_rate else 'NOT met'}; "
          f"goal peak ≤ 2 GiB: {'met' if ok_mem else 'NOT met'}; "
          f"speed-up over row-by-row: {rate / rrate:.0f}×")


if __name__ == "__main__":
    main()
