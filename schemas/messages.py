"""What a facilitator reads when a row is rejected: Indonesian first, English beside it.

One entry per (field, code). Reasons say what is wrong AND how to write it right, because
the person fixing the sheet is not a programmer.
"""

from __future__ import annotations

from schemas import values as v
from schemas.listing import DESCRIPTION_MAX, NAME_MAX, PICTURES_MAX


def rupiah(amount: int | float) -> str:
    """Rupiah the Indonesian way: ``Rp 15.000``."""
    return "Rp " + f"{int(amount):,}".replace(",", ".")


# Field labels as a facilitator knows them (used when the column itself is missing).
LABELS = {
    "name": "Nama Produk", "category": "Kategori", "price": "Harga", "stock": "Stok",
    "weight": "Berat", "description": "Deskripsi", "photo": "Foto", "sku": "Kode",
    "min_order": "Minimum Pemesanan", "condition": "Kondisi", "pirt": "No. P-IRT",
    "variant": "Varian", "status": "Status",
}

REASONS: dict[tuple[str, str], tuple[str, str]] = {
    ("name", v.MISSING): ("Nama produk kosong", "Product name is empty"),
    ("price", v.MISSING): ("Harga kosong", "Price is empty"),
    ("price", v.NOT_NUMBER): (
        "Harga bukan angka — tulis misalnya 15000 atau Rp 15.000",
        "Price is not a number — write e.g. 15000 or Rp 15.000",
    ),
    ("price", v.AMBIGUOUS): (
        "Harga membingungkan: koma bisa berarti ribuan atau desimal — tulis 15.000 atau 15000",
        "Ambiguous price: the comma may group thousands or mark decimals — write 15.000 or 15000",
    ),
    ("price", v.NOT_WHOLE): ("Harga harus rupiah bulat, tanpa sen", "Price must be whole rupiah, no cents"),
    ("price", "range"): (
        "Harga harus antara Rp 100 dan Rp 100.000.000",
        "Price must be between 100 and 100,000,000 IDR",
    ),
    ("stock", v.MISSING): (
        "Stok kosong — tulis jumlahnya, atau 0 / 'habis' bila tidak ada",
        "Stock is empty — write the count, or 0 / 'habis' if none",
    ),
    ("stock", v.NOT_NUMBER): (
        "Stok bukan angka — tulis misalnya 40 atau 40 pcs",
        "Stock is not a number — write e.g. 40 or 40 pcs",
    ),
    ("stock", v.NEGATIVE): ("Stok tidak boleh negatif", "Stock cannot be negative"),
    ("stock", v.NOT_WHOLE): ("Stok harus bilangan bulat", "Stock must be a whole number"),
    ("stock", "range"): ("Stok maksimal 999.999", "Stock can be at most 999,999"),
    ("weight", v.MISSING): (
        "Berat kosong — tulis misalnya 250 gr atau 0,5 kg",
        "Weight is empty — write e.g. 250 gr or 0,5 kg",
    ),
    ("weight", v.NOT_NUMBER): (
        "Berat tidak terbaca — tulis misalnya 250 gr, 0,5 kg atau 2 ons",
        "Weight cannot be read — write e.g. 250 gr, 0,5 kg or 2 ons",
    ),
    ("weight", v.NOT_POSITIVE): ("Berat harus lebih dari 0", "Weight must be more than 0"),
    ("min_order", v.NOT_NUMBER): ("Minimum pemesanan bukan angka", "Minimum order is not a number"),
    ("min_order", v.NEGATIVE): ("Minimum pemesanan tidak boleh negatif", "Minimum order cannot be negative"),
    ("min_order", v.NOT_WHOLE): ("Minimum pemesanan harus bilangan bulat", "Minimum order must be a whole number"),
    ("min_order", "range"): ("Minimum pemesanan harus 1 sampai 9.999", "Minimum order must be 1 to 9,999"),
    ("category", v.MISSING): ("Kategori kosong", "Category is empty"),
    ("category", "no_column"): (
        "Tidak ada kolom Kategori di lembar ini",
        "This sheet has no Category column",
    ),
    ("photo", v.MISSING): (
        "Foto wajib: minimal 1 alamat foto (https://…)",
        "A photo is required: at least 1 picture URL (https://…)",
    ),
    ("photo", "bad_url"): (
        "Bukan alamat foto yang valid — harus diawali https://",
        "Not a valid picture URL — it must start with https://",
    ),
    ("photo", "too_many"): (
        f"Lebih dari {PICTURES_MAX} foto: hanya {PICTURES_MAX} foto pertama dipakai",
        f"More than {PICTURES_MAX} pictures: only the first {PICTURES_MAX} are used",
    ),
    ("condition", "unknown"): ("Kondisi harus 'Baru' atau 'Bekas'", "Condition must be 'Baru' (new) or 'Bekas' (used)"),
    ("status", "unknown"): (
        "Status tidak dikenal, jadi produk ditampilkan (Aktif); tulis 'Aktif' atau 'Nonaktif' bila maksudnya itu",
        "Unknown status, so the product is listed (active); write 'Aktif' or 'Nonaktif' if that is what it means",
    ),
    ("cell", "unreadable"): (
        "Ada huruf yang tidak terbaca (�): simpan berkas sebagai 'CSV UTF-8' atau .xlsx lalu kirim lagi",
        "Holds characters that could not be read (�): the file's text encoding is unknown — save it as "
        "'CSV UTF-8' or .xlsx and resend it",
    ),
    ("cell", "excel_error"): (
        "Sel ini berisi galat Excel (misalnya #N/A atau #REF!): perbaiki rumusnya atau tulis nilainya",
        "The cell shows an Excel error (such as #N/A or #REF!): fix its formula or type the value",
    ),
    ("pirt", "invalid"): (
        "Nomor P-IRT tidak valid: harus minimal 15 angka (contoh: P-IRT No. 1234567890123-45)",
        "Invalid P-IRT number: it needs at least 15 digits (e.g. P-IRT No. 1234567890123-45)",
    ),
}


def too_long_name(length: int, suggestion: str) -> tuple[str, str]:
    return (
        f"Nama produk {length} karakter, maksimal {NAME_MAX}. Usulan: \"{suggestion}\"",
        f"Product name has {length} characters, at most {NAME_MAX}. Suggestion: \"{suggestion}\"",
    )


def too_long_description(length: int) -> tuple[str, str]:
    return (
        f"Deskripsi {length} karakter, maksimal {DESCRIPTION_MAX} (termasuk No. P-IRT dan Halal)",
        f"Description has {length} characters, at most {DESCRIPTION_MAX} (P-IRT and Halal included)",
    )


def duplicate_of(row: int) -> tuple[str, str]:
    return (f"Duplikat dari baris {row} (isi sama persis)", f"Duplicate of row {row} (identical)")


def conflicting(rows: list[int]) -> tuple[str, str]:
    others = ", ".join(str(r) for r in rows)
    return (
        f"Produk yang sama juga tertulis di baris {others} dengan isi berbeda — sisakan satu baris",
        f"The same product is also written on row{'s' if len(rows) > 1 else ''} {others} "
        "with different values — keep one row",
    )


def photo_not_found(name: str) -> tuple[str, str]:
    """A photo cell naming a file (``carica-250.jpg``) that is nowhere to be found."""
    shown = name if len(name) <= 80 else name[:79] + "…"
    return (
        f"Foto '{shown}' tidak ditemukan: taruh berkasnya di folder katalog (atau di ZIP foto), "
        "atau tulis alamat foto — harus diawali https://",
        f"Photo '{shown}' not found: put the file in the catalogue's folder (or the photos ZIP), "
        "or write a picture URL — it must start with https://",
    )


def unknown_category(suggestions: list[str]) -> tuple[str, str]:
    if not suggestions:
        return ("Kategori tidak dikenal: bukan salah satu kategori marketplace dan tidak ada yang mirip — tulis "
                "nama atau kode kategori dari daftar kategori marketplace",
                "Unknown category: not one of the marketplace's categories and none is close — write a category "
                "name or code from the marketplace's category list")
    s = ", ".join(suggestions)
    return (f"Kategori tidak dikenal. Yang mirip: {s}", f"Unknown category. Closest: {s}")


def category_not_leaf(children: list[str]) -> tuple[str, str]:
    s = ", ".join(children)
    return (
        f"Kategori terlalu umum — pilih salah satu: {s}",
        f"Category is too general — choose one of: {s}",
    )
