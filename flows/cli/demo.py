"""``lapak demo``: the embedded end-to-end run on the bundled sample groups.

Starts both sandboxes (the first marketplace and the TikTok-shaped second channel) on free local
ports, points a copy of ``samples/lapak.toml`` at them (Wonosobo's group sells on both; its
TikTok shop is authorised with ``lapak authorize``'s code), and runs the pipeline as Prefect
flows: a full catalogue sync of the four sample groups (one group's photos uploaded from its own
files to both channels, one product kept inactive as its catalogue says), an unchanged re-sync
(zero writes), a few simulated orders on both channels (one later cancelled) pulled back, stock
corrected on every channel, order sheets written, and three groups told what to pack through
Prefect custom webhook blocks (a local receiver stands in for their chat apps). It ends by
printing what happened and where to look. The simulated orders come from the sandboxes' admin
surfaces, standing in for buyers; the pipeline itself only speaks the channels' contracts.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import as_file, files
from pathlib import Path

from PIL import Image

from connectors.config import load_config
from connectors.sandbox import running_sandbox
from connectors.state import StateStore
from connectors.state.tokens import SealedTokens
from connectors.tiktok import authorize
from connectors.tiktok_sandbox import running_tiktok_sandbox
from schemas.messages import rupiah


def _demo_config(work: Path, url: str, rate_limit: float | None, tiktok_url: str) -> Path:
    """Copy the samples shipped with the package into ``work`` and point their config at the sandbox."""
    with as_file(files("flows") / "samples") as samples:
        shutil.copytree(samples, work / "samples", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("out", "var", "*.py", "*.md", "*.json", "__pycache__"))
    cfg = work / "samples" / "lapak.toml"
    text = cfg.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^(api_url|auth_url) = ".*"$', lambda m: f'{m.group(1)} = "{url}"', text)
    # The client paces itself to the limit of the marketplace it talks to: this sandbox allows
    # DEFAULT_RATE_LIMIT items/s per path (the samples' 5 items/s is the contract's example).
    if rate_limit:
        text = re.sub(r'(?m)^(client_id = .*)$', lambda m: f"{m.group(1)}\nrate_limit_per_second = {rate_limit:g}",
                      text, count=1)
    cfg.write_text(with_tiktok(text, tiktok_url, TIKTOK_SHOP), encoding="utf-8")
    return cfg


TIKTOK_GROUP = "wonosobo-sekar-carica"
TIKTOK_SHOP = 7494001


def with_tiktok(config_text: str, url: str, shop_id: int | str, group: str = TIKTOK_GROUP) -> str:
    """The samples' config with the second channel turned on (its commented block) for ``group``."""
    block = config_text[config_text.index("#[tiktok]"):]
    live = "\n".join(line[1:] if line.startswith("#[") or (line.startswith("#") and "=" in line) else line
                     for line in block.splitlines())
    live = re.sub(r'(?m)^(api_url|auth_url) = ".*"$', lambda m: f'{m.group(1)} = "{url}"', live)
    text = config_text[:config_text.index("#[tiktok]")] + live + "\n"
    return re.sub(rf'(?m)^(id = "{group}"\n(?:.*\n)*?shop_id = .*)$',
                  lambda m: f'{m.group(1)}\ntiktok_shop_id = "{shop_id}"', text, count=1)


# Wonosobo (both channels) and the shared shop's two groups are told of new orders to pack.
NOTIFY_GROUPS = ("wonosobo-sekar-carica", "banyuwangi-gajah-oling", "jember-pandan-sari")


class Receiver:
    """A tiny HTTP receiver on 127.0.0.1 standing in for the groups' chat webhooks: it keeps what
    each POST says (JSON) and answers ``status`` (a failing one keeps nothing)."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[dict] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.status < 300:
                    try:
                        said = json.loads(raw or b"{}")
                    except ValueError:
                        said = {"body": raw.decode("utf-8", "replace")}
                    outer.messages.append({"path": self.path, **said})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, name="lapak-demo-receiver", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _notify_blocks(cfg: Path, receiver: Receiver) -> None:
    """A Prefect custom webhook block per notified group, saved on the demo's Prefect server, and
    ``notify = "custom-webhook/<name>"`` on those groups in the demo's copy of the config."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    config = load_config(cfg)
    text = cfg.read_text(encoding="utf-8")
    for gid in NOTIFY_GROUPS:
        name = f"demo-wa-{gid}"
        CustomWebhookNotificationBlock(
            name=config.group(gid).name, url=f"{receiver.url}/wa/{gid}",
            json_data={"subject": "{{subject}}", "body": "{{body}}"},
        ).save(name, overwrite=True)
        text = re.sub(rf'(?m)^(id = "{gid}")$', lambda m, n=name: f'{m.group(1)}\nnotify = "custom-webhook/{n}"',
                      text, count=1)
    cfg.write_text(text, encoding="utf-8")


def _messages(receiver: Receiver) -> None:
    """Where the groups' messages went, and what the first one said."""
    got = receiver.messages
    print(f"\n   Pesan ke kelompok / Messages to the groups: {len(got)} received by the local receiver "
          f"{receiver.url} (custom webhook blocks custom-webhook/demo-wa-<group>)")
    for m in got:
        print(f"      {m['path']}: {m.get('subject', '')}")
    if got:
        print("   The first one said / Pesan pertama:")
        print("\n".join(f"      | {line}" for line in str(got[0].get("body", "")).splitlines()))


def _by_name(market, shop_id: int) -> dict[str, dict]:
    return {p["name"]: p for p in market.admin.products(shop_id)}


BUYERS = [
    dict(name="Siti Aminah", phone="+6281234567801", city="Semarang"),
    dict(name="Dewi Lestari", phone="+6281234567802", city="Surabaya"),
    dict(name="Rina Marlina", phone="+6281234567803", city="Bandung"),
]


def _place_orders(market) -> list[dict]:
    """Three buyers: one in Wonosobo's shop, one across the shared shop's two groups, one in Indramayu's."""
    wonosobo, shared, indramayu = market.shops
    picks = [
        (wonosobo, [("Manisan Carica 250 gr", 3), ("Keripik Jamur Tiram", 2)]),
        (shared, [("Selendang Batik Gajah Oling", 1), ("Tas Anyaman Pandan Motif Kawung", 1)]),
        (indramayu, [("Masker Kain 3 Lapis Batik Paoman", 5)]),
    ]
    orders = []
    for buyer, (shop, items) in zip(BUYERS, picks):
        products = _by_name(market, shop)
        lines = [{"sku": products[name]["sku"], "quantity": qty} for name, qty in items if name in products]
        recipient = {"name": buyer["name"], "phone": buyer["phone"],
                     "address": {"address_full": f"Jl. Melati No. 7, {buyer['city']}", "city": buyer["city"]}}
        orders.append(market.admin.place_order(shop, lines, buyer={"name": buyer["name"], "phone": buyer["phone"]},
                                               recipient=recipient))
    return orders


def _stock_table(market, config, orders: list[dict]) -> None:
    """Every ordered product's stock: the catalogue's, what was pushed, what the marketplace shows."""
    print("\nStock now (catalogue − sold since it was recorded), agreeing with the marketplace:")
    store = StateStore(config.state_url)
    try:
        for o in orders:
            shop = o["shop_id"]
            market_now = {p["sku"]: p for p in market.admin.products(shop)}
            mine = {k.sku: k for k in store.listings(shop_id=shop)}
            for p in o["products"]:
                k, there = mine[p["sku"]], market_now[p["sku"]]["stock"]
                flag = "ok" if k.stock == there else "MISMATCH"
                print(f"   {k.name[:40]:40} catalogue {k.recorded_stock:4}  pushed {k.stock:4}  "
                      f"marketplace {there:4}  {flag}")
    finally:
        store.close()


def _carries_metadata(jpeg: bytes) -> bool:
    with Image.open(io.BytesIO(jpeg)) as im:
        return bool(len(im.getexif()) or "exif" in im.info)


def _photo_line(market, uploaded: int) -> str:
    """How many photos went up, checked on the marketplace's own copies: none may carry EXIF (GPS)."""
    kept = market.admin.pictures()
    dirty = sum(_carries_metadata(market.admin.picture(p["sha256"])) for p in kept)
    checked = (f"none of the {len(kept)} on the marketplace carries EXIF or GPS" if not dirty
               else f"{dirty} of the {len(kept)} on the marketplace STILL CARRY EXIF")
    return f"   {uploaded} photos uploaded from the groups' own files / foto diunggah; {checked}."


def _tiktok_photo_line(tiktok, uploaded: int) -> str:
    """The same check on the second channel's copies (it takes uploaded images only)."""
    kept = tiktok.admin.images(TIKTOK_SHOP)
    dirty = sum(_carries_metadata(tiktok.admin.image(p["uri"])) for p in kept)
    checked = "none carries EXIF or GPS" if not dirty else f"{dirty} STILL CARRY EXIF"
    return f"   {uploaded} of them uploaded to TikTok Shop too; {checked}."


def _summary(market, config, cfg: Path, first: dict, orders: list[dict], cancelled: dict, tiktok) -> None:
    out = config.output_dir
    listed = sum(r["listings"] for r in first["groups"])
    rejected = sum(r["rejected"] for r in first["groups"])
    inactive = sum(p["status"] != "ACTIVE" for shop in market.shops for p in market.admin.products(shop))
    sold = sum(p["quantity"] * p["price"] for o in orders if o is not cancelled for p in o["products"])
    print("\nSummary / Ringkasan")
    print(f"   {listed} products listed from 4 village groups; {rejected} catalogue rows sent back to be fixed.")
    print(f"   {inactive} of them kept inactive on the marketplace, as their catalogue says (Status Nonaktif).")
    photos = first.get("photos_by_channel") or {}
    print(_photo_line(market, photos.get("marketplace", 0)))
    print(_tiktok_photo_line(tiktok, photos.get("tiktok", 0)))
    on_tiktok = tiktok.admin.products(TIKTOK_SHOP)
    print(f"   {len(on_tiktok)} of Wonosobo's products also on TikTok Shop, the same stock on both channels.")
    print(f"   {len(orders)} orders pulled ({len(orders) - 1} kept, 1 cancelled): {rupiah(sold)} of sales "
          "on the marketplace, and 1 order on TikTok Shop.")
    print(f"   Rejects reports, one per group (Indonesian + English): {out / 'rejects'}")
    print(f"   Order sheets, per group and month (open in Excel):    {out / 'orders'}")
    print(f"   State database:                                       {config.state_url}")
    print(f"   Try:  lapak check {cfg.parent / 'catalogues' / 'jember' / 'anyaman-pandan-sari.csv'} --config {cfg}")


def _authorise(cfg: Path, tiktok) -> None:
    """What ``lapak authorize tiktok --shop ID --code code-<ID>`` does, for the demo's TikTok shop."""
    config = load_config(cfg)
    store = StateStore(config.state_url)
    try:
        tokens = authorize(config.tiktok, SealedTokens(store), str(TIKTOK_SHOP), f"code-{TIKTOK_SHOP}")
    finally:
        store.close()
    print(f"TikTok shop {TIKTOK_SHOP} ({tokens.seller_name}) authorised; its tokens are kept encrypted in the "
          "state store")


def _tiktok_order(tiktok) -> dict:
    """A fourth buyer, on TikTok Shop, buys Wonosobo's products the marketplace sells too."""
    shown = {p["doc"]["title"]: p["seller_sku"] for p in tiktok.admin.products(TIKTOK_SHOP)}
    sku = next(sku for title, sku in sorted(shown.items()) if title.startswith("Manisan Carica"))
    return tiktok.admin.place_order(TIKTOK_SHOP, [{"seller_sku": sku, "quantity": 2}],
                                    buyer={"name": "Wulan Sari", "phone": "+6281234567804",
                                           "address": "Jl. Kenanga No. 3, Yogyakarta", "postal_code": "55281"})


def _both_channels(market, tiktok, config) -> None:
    """Wonosobo's products on both channels: one stock, the same figure everywhere."""
    print("\nOne stock on both channels (Wonosobo) / Satu stok di dua kanal:")
    on_market = {p["sku"]: p for p in market.admin.products(market.shops[0])}
    for p in sorted(tiktok.admin.products(TIKTOK_SHOP), key=lambda p: p["doc"]["title"]):
        there, here = sum(p["doc"]["inventory"].values()), on_market[p["seller_sku"]]["stock"]
        flag = "ok" if there == here else "DIFFERENT"
        print(f"   {p['doc']['title'][:52]:52} marketplace {here:4}  TikTok Shop {there:4}  {flag}")


def _run(market, tiktok, cfg: Path, receiver: Receiver) -> None:
    from flows.cli.runs import format_orders_summary, print_sync_summary
    from flows.orders import pull_orders
    from flows.sync import sync_catalogues

    _notify_blocks(cfg, receiver)
    config = load_config(cfg)
    _authorise(cfg, tiktok)
    print("\n1. Catalogue sync / Sinkronisasi katalog (Wonosobo also on TikTok Shop)")
    first = sync_catalogues(config_path=str(cfg))
    print_sync_summary(first)
    print("\n2. The same catalogues again: nothing changed, so nothing is written")
    again = sync_catalogues(config_path=str(cfg))
    print(f"   {sum(again['writes'].values())} marketplace writes.")

    print("\n3. Buyers order (simulated on the sandboxes) / Pembeli memesan")
    orders = _place_orders(market)
    for o in orders:
        items = ", ".join(f"{p['quantity']} × {p['Name']}" for p in o["products"])
        print(f"   {o['invoice_ref_num']}: {o['buyer']['name']} — {items}")
    on_tiktok = _tiktok_order(tiktok)
    print(f"   TikTok Shop {on_tiktok['id']}: {on_tiktok['recipient_address']['name']} — "
          f"{len(on_tiktok['line_items'])} × {on_tiktok['line_items'][0]['product_name']}")
    print(_indent(format_orders_summary(pull_orders(config_path=str(cfg)))))
    _messages(receiver)
    told = len(receiver.messages)
    cancelled = orders[1]
    market.admin.set_order_status(cancelled["order_id"], 0)
    print(f"\n4. {cancelled['buyer']['name']} cancels {cancelled['invoice_ref_num']}: its units go back to stock")
    print(_indent(format_orders_summary(pull_orders(config_path=str(cfg)))))
    print(f"   {len(receiver.messages) - told} new messages: nothing new to pack (each order is told once).")
    _stock_table(market, config, orders)
    _both_channels(market, tiktok, config)
    _summary(market, config, cfg, first, orders, cancelled, tiktok)


def run_demo(keep: str | None = None) -> int:
    """``lapak demo``: both sandboxes, the samples, a sync, orders, stock, sheets; what happened and where."""
    # Prefect reads these when the flows are imported (in ``_run``): set them first.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The temporary server may need more than Prefect's 20 s to start on a busy laptop.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    work = Path(keep).resolve() if keep else Path(tempfile.mkdtemp(prefix="lapak-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"Lapak Desa demo — working folder {work}")
    print("Starting both sandbox marketplaces and a temporary Prefect server (about 20 s)…", flush=True)
    with (running_sandbox(work / "sandbox") as market, running_tiktok_sandbox(work / "sandbox-tiktok") as tiktok,
          Receiver() as receiver):
        cfg = _demo_config(work, market.url, market.rate_limit, tiktok.url)
        os.environ["LAPAK_CLIENT_SECRET"] = market.client_secret
        os.environ["LAPAK_TIKTOK_APP_SECRET"] = tiktok.app_secret
        os.environ.setdefault("LAPAK_SECRET_KEY", secrets.token_urlsafe(32))  # the demo's own, for its tokens
        print(f"Sandbox marketplace: {market.url} (fs_id {market.fs_id}, shops {', '.join(map(str, market.shops))})")
        print(f"Sandbox TikTok Shop: {tiktok.url} (shops {', '.join(map(str, tiktok.shops))})")
        _run(market, tiktok, cfg, receiver)
    if not keep:
        print(f"(demo files are in {work}; pass --keep DIR to choose the folder)")
    return 0


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())
