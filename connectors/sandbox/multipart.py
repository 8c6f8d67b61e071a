"""A small, strict ``multipart/form-data`` reader (RFC 7578 / RFC 2046) for the picture upload.

The sandbox does not depend on ``python-multipart`` (FastAPI's ``UploadFile``/``Form`` need it),
so the one endpoint that takes a form reads the raw body here. Part bodies come back exactly as
received (no transfer decoding: RFC 7578 deprecates ``Content-Transfer-Encoding``). Anything
malformed raises :class:`MultipartError` with a sentence saying what.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from email.utils import collapse_rfc2231_value

CRLF = b"\r\n"
BOUNDARY_MAX = 70  # RFC 2046: 1 to 70 characters


class MultipartError(ValueError):
    """The request is not a well-formed ``multipart/form-data`` body."""


@dataclass(frozen=True)
class Part:
    """One part: its form field ``name`` and ``filename`` (``None`` when absent) and its bytes."""

    name: str | None
    filename: str | None
    data: bytes


def _param(msg: Message, key: str, header: str = "content-type") -> str | None:
    value = msg.get_param(key, header=header)
    if value is None or value == "":
        return None
    return collapse_rfc2231_value(value) if isinstance(value, tuple) else str(value)


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type, as bytes."""
    msg = Message()
    msg["content-type"] = content_type or "text/plain"
    if msg.get_content_type() != "multipart/form-data":
        raise MultipartError(f"Content-Type must be multipart/form-data, not {msg.get_content_type()}")
    boundary = _param(msg, "boundary")
    if boundary is None or not 1 <= len(boundary) <= BOUNDARY_MAX:
        raise MultipartError(f"Content-Type needs a boundary of 1 to {BOUNDARY_MAX} characters")
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        raise MultipartError("the multipart boundary must be ASCII") from None


def _part(raw: bytes) -> Part:
    if raw.startswith(CRLF):  # a part with no header lines
        head, data = b"", raw[2:]
    else:
        head, sep, data = raw.partition(CRLF + CRLF)
        if not sep:
            raise MultipartError("a part has no blank line between its headers and its body")
    msg = Parser().parsestr(head.decode("utf-8", "surrogateescape"), headersonly=True)
    if msg.defects:
        raise MultipartError(f"a part's headers are malformed ({type(msg.defects[0]).__name__})")
    return Part(_param(msg, "name", "content-disposition"), _param(msg, "filename", "content-disposition"), data)


def parse_form(content_type: str, body: bytes) -> list[Part]:
    """Every part of a ``multipart/form-data`` body, in order (the preamble and epilogue ignored)."""
    delimiter = b"--" + boundary_of(content_type)
    if body.startswith(delimiter):
        pos = len(delimiter)
    else:
        first = body.find(CRLF + delimiter)
        if first < 0:
            raise MultipartError("the body holds no multipart boundary")
        pos = first + len(CRLF + delimiter)
    parts: list[Part] = []
    while not body.startswith(b"--", pos):  # "--" after a delimiter closes the body
        eol = body.find(CRLF, pos)
        if eol < 0 or body[pos:eol].strip(b" \t"):
            raise MultipartError("a multipart boundary line is malformed")
        end = body.find(CRLF + delimiter, eol + 2)
        if end < 0:
            raise MultipartError("the body ends before its closing multipart boundary")
        parts.append(_part(body[eol + 2:end]))
        pos = end + len(CRLF + delimiter)
    return parts
