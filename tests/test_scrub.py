"""The connectors' scrubber: what a server quotes back never carries a secret or a token."""

import base64
from urllib.parse import quote

from connectors.scrub import Scrubber

SECRET = "cs-very-secret-123"
TOKEN = "eyJhbGciOi.token-abc.def"


def test_secrets_their_basic_form_and_tokens_are_masked_in_every_encoding():
    s = Scrubber()
    s.hide_basic("client-7", SECRET)
    s.hide(TOKEN)
    basic = base64.b64encode(f"client-7:{SECRET}".encode()).decode()
    echoed = (f"400 Bad Request: we got Authorization: Basic {basic} and Authorization: Bearer {TOKEN}; "
              f"body client_secret={quote(SECRET, safe='')}&x={base64.b64encode(TOKEN.encode()).decode()}")
    out = s(echoed, limit=10_000)
    for leak in (SECRET, basic, TOKEN, quote(SECRET, safe=""), base64.b64encode(TOKEN.encode()).decode().rstrip("=")):
        assert leak not in out
    assert "400 Bad Request" in out and "***" in out


def test_unknown_credentials_and_secret_fields_are_masked_too():
    s = Scrubber()
    out = s('proxy says: Authorization: Bearer abcdefghijkl, "access_token": "zzz-123456", '
            "https://x.example/token?app_secret=shh-secret&app_key=k")
    assert "abcdefghijkl" not in out and "zzz-123456" not in out and "shh-secret" not in out
    assert "app_key=k" in out


def test_text_is_capped_and_ordinary_words_survive():
    s = Scrubber(limit=50)
    s.hide("ab", "")  # too short to be a secret: ignored rather than masking every "ab"
    out = s("about the label " * 20)
    assert len(out) == 50 and out.endswith("…") and out.startswith("about the label")
    assert s(None) == ""
