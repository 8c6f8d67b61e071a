"""The month's sales picture of a group: ``reports/<group>/<YYYY-MM>.png``, made to be read on a phone.

Portrait (720 × 1280 pixels, a phone screen's shape), large type, Indonesian with the English
beside it: the group's name and the month, the month's Rupiah and orders, sales per day of the
month (bars on a ``Rp 85.000`` axis) and the best-selling products (horizontal bars, each named
above its bar). Cancelled orders are not counted. Drawn with matplotlib's Agg renderer on a
:class:`~matplotlib.figure.Figure` of its own (no pyplot: no global state shared between threads);
the PNG carries no timestamp or version, so the same month draws the same bytes.
"""

from __future__ import annotations

import calendar
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from connectors.files import private_file
from connectors.sheets.orders import live_lines, month_totals, product_summary, rupiah
from schemas.dates import MONTH_NAMES

PICTURE_SIZE = (720, 1280)
"""Width and height in pixels: a phone screen, upright."""
DPI = 100
TOP_PRODUCTS = 8
NAME_MAX = 34           # characters of a product's name above its bar

# Where things go, in fractions of the picture (left, bottom, width, height): fixed, so a long
# product name or a big Rupiah figure never pushes the rest about.
MARGIN = 0.05
DAYS_BOX = (0.22, 0.50, 0.73, 0.255)       # room on the left for "Rp 1.250.000"
PRODUCTS_BOX = (MARGIN, 0.02, 0.90, 0.37)

INK, MUTED, GRID = "#222222", "#666666", "#dddddd"
DAY_BAR, PRODUCT_BAR, BEST_BAR = "#2a9d8f", "#8ab17d", "#e76f51"
BIG, MEDIUM, SMALL = 22, 17, 14     # points; at 100 dpi a 720-pixel-wide picture reads on a phone

NO_SALES = "Belum ada penjualan / No sales yet"


def _plain(text: object) -> str:
    """Text as written: one line, and a ``$`` is not the start of a formula for matplotlib's mathtext."""
    return " ".join(str(text).split()).replace("$", r"\$")


def _short(text: object, limit: int) -> str:
    text = " ".join(str(text).split())
    return _plain(text if len(text) <= limit else text[: limit - 1] + "…")


def _month_words(month: str) -> str:
    return f"{MONTH_NAMES[int(month[5:]) - 1]} {month[:4]}"


def _bare(ax: Axes) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _title(ax: Axes, text: str) -> None:
    """A chart's title at the picture's left margin, whatever the chart's own margin."""
    _, bottom, _, height = ax.get_position().bounds
    ax.figure.text(MARGIN, bottom + height + 0.035, text, va="bottom", fontsize=MEDIUM, fontweight="bold", color=INK)


def _no_sales(ax: Axes) -> None:
    ax.text(0.5, 0.5, NO_SALES, transform=ax.transAxes, ha="center", va="center", fontsize=MEDIUM, color=MUTED)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)


def _heading(fig: Figure, group_name: str, month: str, totals: dict[str, int]) -> None:
    name = " ".join(str(group_name).split())
    fig.text(MARGIN, 0.975, _short(name, 44), va="top", fontsize=BIG + 2 if len(name) <= 30 else BIG - 4,
             fontweight="bold", color=INK)
    fig.text(MARGIN, 0.928, f"Penjualan / Sales · {_month_words(month)}", va="top", fontsize=MEDIUM + 1, color=INK)
    fig.text(MARGIN, 0.893, f"Total {rupiah(totals['rupiah'])} · {totals['orders']} pesanan / orders",
             va="top", fontsize=MEDIUM + 1, fontweight="bold", color=DAY_BAR)
    fig.text(MARGIN, 0.860, "Pesanan batal tidak dihitung / Cancelled orders excluded", va="top",
             fontsize=SMALL - 2, color=MUTED)


def _by_day(ax: Axes, live: pd.DataFrame, month: str) -> None:
    days = calendar.monthrange(int(month[:4]), int(month[5:]))[1]
    per_day = live.groupby(live["created"].dt.day)["total"].sum().reindex(range(1, days + 1), fill_value=0)
    _title(ax, "Penjualan per hari / Sales by day")
    _bare(ax)
    if not per_day.any():
        _no_sales(ax)
        return
    ax.bar(per_day.index, per_day.to_numpy(), width=0.8, color=DAY_BAR)
    ax.set_xlim(0.3, days + 0.7)
    ax.set_xticks(sorted({1, 5, 10, 15, 20, 25, days}))
    ax.set_xlabel(f"Tanggal / Day of {_month_words(month)}", fontsize=SMALL, color=MUTED)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, min_n_ticks=2))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: rupiah(value)))
    ax.tick_params(labelsize=SMALL, colors=INK, length=0)
    ax.grid(axis="y", color=GRID)
    ax.set_axisbelow(True)


def _top_products(ax: Axes, lines: pd.DataFrame) -> None:
    top = product_summary(lines).head(TOP_PRODUCTS)
    _title(ax, "Produk terlaris / Top products")
    _bare(ax)
    ax.spines["bottom"].set_visible(False)
    if top.empty:
        _no_sales(ax)
        return
    slots = max(len(top), 4)  # a few products keep bars of the same thickness as many
    colours = [BEST_BAR, *[PRODUCT_BAR] * (len(top) - 1)]
    ax.barh(range(len(top)), top["total"].to_numpy(), height=0.42, color=colours)
    ax.set_ylim(slots - 0.5, -0.85)  # the best seller on top; room above it for its name
    ax.set_xlim(0, float(top["total"].max()) * 1.45)
    for i, row in enumerate(top.itertuples(index=False)):
        ax.text(0, i - 0.27, f"{_short(row.product, NAME_MAX)} · {row.qty} unit", va="bottom",
                fontsize=SMALL, color=INK)
        ax.text(row.total, i, f" {rupiah(row.total)}", va="center", fontsize=SMALL, fontweight="bold", color=INK)
    ax.set_xticks([])
    ax.set_yticks([])


def sales_figure(lines: pd.DataFrame, *, group_name: str, month: str) -> Figure:
    """The picture of ``lines`` (:func:`connectors.sheets.orders.order_lines` of one group and ``month``)."""
    width, height = PICTURE_SIZE
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    _heading(fig, group_name, month, month_totals(lines))
    _by_day(fig.add_axes(DAYS_BOX), live_lines(lines), month)
    _top_products(fig.add_axes(PRODUCTS_BOX), lines)
    return fig


def write_sales_png(path: Path, lines: pd.DataFrame, *, group_name: str, month: str) -> Path:
    """Draw the month's picture of ``lines`` to ``path`` (PNG, :data:`PICTURE_SIZE`, no metadata that changes)."""
    path = private_file(Path(path))
    fig = sales_figure(lines, group_name=group_name, month=month)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path
