"""Folding free text to comparable letters: the one rule names, towns and streets share."""

from __future__ import annotations

import unicodedata

_APOSTROPHES = frozenset("'’‘`´ʼ")
# Letters that NFKD does not decompose into a base letter plus a combining mark.
_SPECIAL_LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h", "ŧ": "t"}
)


def _fold_once(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_SPECIAL_LETTERS)
    out = []
    for ch in decomposed:
        if ch.isalnum():
            out.append(ch)
        elif not (unicodedata.combining(ch) or ch in _APOSTROPHES):
            out.append(" ")
    return " ".join("".join(out).split())


# ASCII text folds in one pass of bytes.translate: upper case to lower, apostrophes dropped, other
# punctuation a space. (str.translate looks each character up in a dict: three times slower, and every
# address line of every candidate is folded.)
_ASCII_TABLE = bytes(c + 32 if 65 <= c <= 90 else c if chr(c).isalnum() else 32 for c in range(256))
_ASCII_APOSTROPHES = "".join(q for q in _APOSTROPHES if q.isascii()).encode()


def _fold_ascii(text: str) -> str:
    return text.encode().translate(_ASCII_TABLE, _ASCII_APOSTROPHES).decode()


def fold(text: str) -> str:
    """Case-fold, strip diacritics, drop apostrophes, turn every other non-alphanumeric into a space.

    A few compatibility characters fold into characters that fold again, so repeat to a fixed point
    (normalisation must be idempotent). ASCII text (nearly every name and address) takes one
    translation instead: every address line of every candidate is folded.
    """
    if text.isascii():
        return " ".join(_fold_ascii(text).split())
    folded = _fold_once(text)
    for _ in range(4):
        again = _fold_once(folded)
        if again == folded:
            break
        folded = again
    return folded


def fold_tokens(text: str) -> list[str]:
    """``fold(text).split()``, without joining the words only to split them again."""
    return _fold_ascii(text).split() if text.isascii() else fold(text).split()
