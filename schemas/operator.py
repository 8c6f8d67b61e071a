"""What a run that needs an operator says, and where: one line per cause, with the action.

An expected failure (a catalogue that can't be read, a shrink held, credentials refused, a shop
authorisation ended, a shop failing after its retries) is a :class:`Problem`: its cause, what it
is about (a group or a shop) and a short detail. :func:`operator_lines` folds a run's problems
into one line per cause — never one per shop — of at most :data:`LINE_LIMIT` characters naming
the groups or shops, the cause and what to do. Those lines are the run's state message, its last
log line and its ``needs-operator`` artifact; the README's "When a run fails" table is
:func:`causes_markdown` (a test keeps the two the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from schemas.errors import AuthError, CatalogueError, ChannelError, LapakError, NeedsOperator, ShopAuthorisationError

LINE_LIMIT = 200
DETAIL_LIMIT = 70
SUBJECTS_SHOWN = 3


@dataclass(frozen=True)
class Cause:
    """A kind of failure an operator acts on the same way, whatever group or shop it hits."""

    key: str
    reason: str  # how the run page's message starts
    action: str  # what to do, as the README's table says it
    about: str   # "group", "shop" or "file": what the message names


CATALOGUE = Cause("catalogue", "Catalogue unreadable",
                  "fix or restore the catalogue file (or its URL), then Quick run", "group")
SHRINK = Cause("shrink", "Catalogue shrank, deactivations held",
               "check with the group; if right, Custom run with accept_shrink ticked (or lapak sync --accept-shrink)",
               "group")
CREDENTIALS = Cause("credentials", "Marketplace refused the credentials",
                    "check LAPAK_CLIENT_SECRET (or the Secret block), then restart lapak serve", "shop")
TIKTOK_CREDENTIALS = Cause("tiktok-credentials", "TikTok refused the app key or secret",
                           "check LAPAK_TIKTOK_APP_KEY and LAPAK_TIKTOK_APP_SECRET, then restart lapak serve", "shop")
AUTHORISATION = Cause("authorisation", "Shop authorisation missing or ended",
                      "authorise again: lapak authorize tiktok --shop ID --code CODE", "shop")
SHOP = Cause("shop", "Shop failed after retries",
             "the next scheduled run retries; if it keeps failing, check the shop is linked to the app", "shop")
CONFIG_MISMATCH = Cause("config", "Run refused, another config file asked",
                        "runs use the deployment's config_path only; find who started this one", "file")
OTHER = Cause("other", "Run step failed", "read the run's logs (a traceback is there); Quick run once fixed", "shop")

CAUSES = (CATALOGUE, SHRINK, CREDENTIALS, TIKTOK_CREDENTIALS, AUTHORISATION, SHOP, CONFIG_MISMATCH)
"""The expected causes, in the order the README's table and a run's message list them."""
BY_KEY = {c.key: c for c in (*CAUSES, OTHER)}


@dataclass(frozen=True)
class Problem:
    """One group's or shop's failure: its cause, what it is about, and a short detail."""

    cause: Cause
    subject: str  # a group id, or a shop as channel:id
    detail: str = ""

    def as_dict(self) -> dict:
        return {"cause": self.cause.key, "subject": self.subject, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: dict) -> Problem:
        return cls(BY_KEY.get(d.get("cause", ""), OTHER), str(d.get("subject", "")), str(d.get("detail", "")))


def cause_of(err: BaseException) -> Cause:
    """The cause an error of a group's catalogue or of a shop is an instance of."""
    if isinstance(err, CatalogueError):
        return CATALOGUE
    if isinstance(err, ShopAuthorisationError):
        return AUTHORISATION
    if isinstance(err, AuthError):
        return TIKTOK_CREDENTIALS if (err.endpoint or "").startswith("tiktok") else CREDENTIALS
    if isinstance(err, ChannelError):
        return SHOP
    return OTHER


def detail(err: BaseException) -> str:
    """What an operator's message says of one failure, short (its cause says the rest)."""
    if isinstance(err, CatalogueError):
        return f"{PurePath(err.file).name}: {err.message_en}"
    if isinstance(err, ChannelError):  # the status, code and the server's words; the endpoint is noise here
        said = " ".join(x for x in (f"HTTP {err.status}" if err.status else "", err.error_code or "") if x)
        return f"{said}: {err.message}" if said else err.message
    if isinstance(err, LapakError):
        return str(err)
    return f"{type(err).__name__}: {err}"


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def operator_lines(problems: list[Problem]) -> list[str]:
    """One line per cause, in :data:`CAUSES` order: ``<cause>: <subjects> (<detail>). Do: <action>``.

    The subjects are listed once each (a group held on two channels is one group); beyond
    :data:`SUBJECTS_SHOWN` they are counted. The detail is the first problem's, shortened."""
    by_cause: dict[str, list[Problem]] = {}
    for p in problems:
        by_cause.setdefault(p.cause.key, []).append(p)
    order = [c.key for c in CAUSES] + [OTHER.key]
    lines = []
    for key in sorted(by_cause, key=lambda k: order.index(k) if k in order else len(order)):
        found = by_cause[key]
        cause = found[0].cause
        subjects = list(dict.fromkeys(p.subject for p in found))
        named = ", ".join(subjects[:SUBJECTS_SHOWN])
        if len(subjects) > SUBJECTS_SHOWN:
            named += f" +{len(subjects) - SUBJECTS_SHOWN} more"
        detail = next((p.detail for p in found if p.detail), "")
        head = f"{cause.reason}: {named}"
        tail = f". Do: {cause.action}"
        room = LINE_LIMIT - len(head) - len(tail) - 3
        if detail and room > 12:
            head += f" ({_clip(detail, min(room, DETAIL_LIMIT))})"
        lines.append(_clip(head + tail, LINE_LIMIT))
    return lines


def every_shop(err: BaseException) -> Problem:
    """An error that stopped the whole run before any shop (credentials refused)."""
    return Problem(cause_of(err), "every shop", detail(err))


def operator_failure(problems: list[Problem], summary: dict | None = None,
                     kind: type[NeedsOperator] = NeedsOperator) -> NeedsOperator | None:
    """The run's failure saying :func:`operator_lines` of ``problems`` (None when there are none)."""
    lines = operator_lines(problems)
    return kind("\n".join(lines), summary=summary, lines=lines) if lines else None


def causes_markdown() -> str:
    """The README's "When a run fails" table: how each message starts, and what to do."""
    rows = ["| the run's message starts with | about | what to do |", "|---|---|---|"]
    rows += [f"| `{c.reason}: …` | the {c.about}s named | {c.action} |" for c in CAUSES]
    return "\n".join(rows)
