"""The search columns' folding (``search.normalise_text``, what the merge writes for the
cross-group search): the fast version gives byte for byte what the plain definition
gives."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from lets_site.search import normalise_text


def reference(value: str) -> str:
    """The definition: case-folded, NFKD, without combining characters (one Python step
    per character: what normalise_text was)."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


CORPUS = [
    "",
    "Fietsherstelling en kleine klusjes",
    "Crème BRÛLÉE, café, naïef, coöperatie, Ærø, Øresund",
    "ﬁets ﬂes ﬀ Œuvre straße STRASSE ß ẞ ĳsje Ĳssel",  # ligatures, sharp s
    "Ἀθῆναι ΆΈΉΊΌΎΏ ΣΊΣΥΦΟΣ ς ά ϊ ΐ ᾳ ᾼ \u0345",  # Greek: tonos, final sigma, iota
    "Москва Йошкар-Ола ёлка Ё й Ў ї",  # Cyrillic with breves and diaereses
    "👍🏽 👨‍👩‍👧 🏳️‍🌈 ❤️ 🇧🇪 #️⃣",  # emoji: modifiers, ZWJ, variation selectors, keycap
    "e\u0301 a\u0300\u0316 o\u0308\u0304 \u0301 x\u20dd \u0338",  # bare and stacked marks
    "Z̷̢͎a̴̹l̸g̵o̶ ṭ̶e̸x̷t̵",
    "İstanbul ıi K\u212a Å \u212b µ ſ",  # noqa: RUF001 - dotted I, Kelvin, Ångström, micro, long s
    "Ｆｕｌｌ　ｗｉｄｔｈ ① ⑵ ² ½ Ⅻ ㎏ ™ ℃ ﹏",  # noqa: RUF001 - compatibility forms
    "Tiếng Việt: Nguyễn, Phở, Đà Nẵng",
    "한국어 조선말 ㄱㅏ",  # Hangul syllables decompose to jamo
    "עִבְרִית العَرَبِيَّة हिन्दी தமிழ் ไทย",  # points, harakat, virama
    "日本語のテキスト ガ ｶﾞ",  # dakuten (combining after NFKD)
    "\u00a0\u2009\u200b\u200d\ufeff tab\tnew\nline",
    "\U0001d400\U0001d41a \U0001f600 \U00010400",  # outside the BMP
]


@pytest.mark.parametrize("text", CORPUS)
def test_the_folding_is_the_definitions(text: str) -> None:
    assert normalise_text(text) == reference(text)


def test_the_folding_is_the_definitions_over_every_code_point() -> None:
    # Every character once (the lone surrogates, which no stored text holds, left out),
    # in one string (marks after their neighbours, as in text); the BMP's each on its own
    # and after a letter.
    every = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    text = "".join(every)
    assert normalise_text(text) == reference(text)
    plane = [c for c in every if c <= "\uffff"]
    assert [normalise_text(c) for c in plane] == [reference(c) for c in plane]
    assert [normalise_text("E" + c) for c in plane] == [reference("E" + c) for c in plane]


def test_plain_ascii_is_only_lowered() -> None:
    assert normalise_text("Crème BRULEE") == "creme brulee"
    assert normalise_text("ABC xyz 123 !?") == "abc xyz 123 !?"
