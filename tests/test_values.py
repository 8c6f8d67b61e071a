"""Every number form of ../shared/catalogue-formats.md, pinned; and properties over all numbers."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import values as v


def one(parser, text, **kw):
    p = parser(pd.Series([text], dtype="str"), **kw)
    return (None if math.isnan(p.value[0]) else p.value[0]), int(p.error[0])


@pytest.mark.parametrize("text, rupiah", [
    ("Rp 15.000", 15000), ("Rp15.000,-", 15000), ("15.000", 15000), ("15.000,00", 15000),
    ("15000", 15000), ("15rb", 15000), ("15 ribu", 15000), ("1,5 jt", 1_500_000), ("1.5jt", 1_500_000),
    ("Rp. 7.500", 7500), ("15000.0", 15000), ("1,500,000", 1_500_000), ("Rp 1.250.000", 1_250_000),
    ("7,5rb", 7500), ("IDR 20000", 20000), ("85rb,-", 85000), ("  Rp  25.000  ", 25000), ("RP 10.000", 10000),
    ("2 juta", 2_000_000),
])
def test_price_forms(text, rupiah):
    assert one(v.parse_price, text) == (rupiah, v.OK)


@pytest.mark.parametrize("text, code", [
    ("nego", v.NOT_NUMBER), ("hubungi kami", v.NOT_NUMBER), ("-", v.NOT_NUMBER), ("", v.MISSING),
    (None, v.MISSING), ("15,000", v.AMBIGUOUS), ("1,500", v.AMBIGUOUS), ("15.000,50", v.NOT_WHOLE),
    ("15.5", v.NOT_WHOLE), ("Rp 15.000 / pack", v.NOT_NUMBER),
])
def test_price_rejects_never_guess(text, code):
    assert one(v.parse_price, text) == (None, code)


def test_price_header_unit_multiplies_bare_numbers():
    assert one(v.parse_price, "15", unit="rb") == (15000, v.OK)
    assert one(v.parse_price, "1,5", unit="jt") == (1_500_000, v.OK)


@pytest.mark.parametrize("text, grams", [
    ("250 gr", 250), ("250g", 250), ("250 gram", 250), ("0,5 kg", 500), ("1/2 kg", 500), ("1 kg", 1000),
    ("2 ons", 200), ("1 pon", 500), ("300", 300), ("1.500 gr", 1500), ("0.5 kg", 500), ("1,25kg", 1250),
    ("3 Ons", 300), ("250 GR", 250),
])
def test_weight_forms(text, grams):
    value, code = one(v.parse_weight, text)
    assert code == v.OK and value == pytest.approx(grams)


def test_weight_bare_number_takes_header_unit():
    assert one(v.parse_weight, "0,5", unit="kg") == (500, v.OK)
    assert one(v.parse_weight, "2", unit="ons") == (200, v.OK)
    assert one(v.parse_weight, "2 gr", unit="kg") == (2, v.OK)  # a written unit wins over the header's


@pytest.mark.parametrize("text, code", [
    ("secukupnya", v.NOT_NUMBER), ("", v.MISSING), ("0 gr", v.NOT_POSITIVE), ("5 lbs", v.NOT_NUMBER),
])
def test_weight_rejects(text, code):
    assert one(v.parse_weight, text) == (None, code)


@pytest.mark.parametrize("text, count", [
    ("40", 40), ("40 pcs", 40), ("40 buah", 40), ("habis", 0), ("Kosong", 0), ("-", 0), ("1.000", 1000),
    ("12 Pcs", 12), ("7 bungkus", 7), ("0", 0),
])
def test_count_forms(text, count):
    assert one(v.parse_count, text) == (count, v.OK)


@pytest.mark.parametrize("text, code", [
    ("-5", v.NEGATIVE), ("- 5", v.NEGATIVE), ("2,5", v.NOT_WHOLE), ("banyak", v.NOT_NUMBER), ("", v.MISSING),
])
def test_count_rejects(text, code):
    assert one(v.parse_count, text) == (None, code)


def id_thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=100, max_value=100_000_000))
def test_any_whole_rupiah_in_indonesian_forms_parses_exactly(p):
    forms = [str(p), id_thousands(p), "Rp " + id_thousands(p), "Rp" + id_thousands(p) + ",-",
             id_thousands(p) + ",00", f"{p}.0"]
    if p % 1000 == 0:
        forms += [f"{p // 1000}rb", f"{p // 1000} ribu"]
    if p % 100_000 == 0:
        forms += [f"{p / 1e6:g}".replace(".", ",") + " jt"]
    parsed = v.parse_price(pd.Series(forms, dtype="str"))
    assert (parsed.error == v.OK).all(), list(zip(forms, parsed.error))
    assert (parsed.value == p).all(), list(zip(forms, parsed.value))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 999), st.integers(0, 999))
def test_a_single_comma_group_of_three_is_never_guessed(a, b):
    assert one(v.parse_price, f"{a},{b:03d}") == (None, v.AMBIGUOUS)
    assert one(v.parse_price, f"Rp {a},{b:03d}") == (None, v.AMBIGUOUS)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 50_000))
def test_weights_in_every_unit_agree(g):
    forms = {f"{g} gr": g, f"{g}g": g, f"{g / 1000:g}".replace(".", ",") + " kg": g}
    if g % 100 == 0:
        forms[f"{g // 100} ons"] = g
    parsed = v.parse_weight(pd.Series(list(forms), dtype="str"))
    assert (parsed.error == v.OK).all()
    np.testing.assert_allclose(parsed.value, list(forms.values()), rtol=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 999_999))
def test_counts_parse_exactly(n):
    forms = [str(n), f"{n} pcs", id_thousands(n), f"{n} buah"]
    parsed = v.parse_count(pd.Series(forms, dtype="str"))
    assert (parsed.error == v.OK).all() and (parsed.value == n).all()
    assert one(v.parse_count, f"-{n + 1}") == (None, v.NEGATIVE)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), min_size=1, max_size=20))
def test_parsers_never_crash_and_value_iff_ok(texts):
    s = pd.Series(texts, dtype="str")
    for parser in (v.parse_price, v.parse_weight, v.parse_count):
        p = parser(s)
        assert len(p.value) == len(texts) == len(p.error)
        assert set(np.unique(p.error)) <= {v.OK, *v.CODE_NAMES}
        assert (np.isnan(p.value) == (p.error != v.OK)).all()
