"""Format conversions shared by the readers: dates, gender and ability-to-share codes.

Anything not recognised is returned stripped but otherwise unchanged, so the server can reject it with a
reason the school understands.
"""

from __future__ import annotations

import datetime as dt
import re

# A time of day that spreadsheet and MIS exports append to a date ("2009-04-03 00:00:00", "03/04/2009
# 00:00"): dropped.
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
# Year first: 2009-04-03, 2009-4-3, 2009/04/03.
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME)
# Spreadsheets rewrite dates as DD/MM/YYYY (or D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY); UK order is assumed,
# never US.
_UK = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})" + _TIME)


def normalise_date(value: str) -> str:
    """ISO ``YYYY-MM-DD`` for a date written year first (``YYYY-MM-DD``, ``YYYY-M-D``, ``YYYY/MM/DD``) or day
    first (``DD/MM/YYYY``, ``D/M/YYYY``, ``DD-MM-YYYY``, ``DD.MM.YYYY``), a time of day after it dropped;
    else ``value`` raw."""
    text = value.strip()
    if m := _ISO.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _UK.fullmatch(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    else:
        return text
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return text


_GENDERS = {
    "0": "not-known",
    "1": "male",
    "2": "female",
    "9": "not-specified",
    "m": "male",
    "f": "female",
    "u": "not-known",
    "male": "male",
    "female": "female",
    "notknown": "not-known",
    "unknown": "not-known",
    "notspecified": "not-specified",
}


def _key(value: str) -> str:
    return re.sub(r"[\s_\-']+", "", value).lower()


def normalise_gender(value: str) -> str:
    """Map LRS codes 0/1/2/9, CTF M/F/U and the words to 'not-known' | 'male' | 'female' | 'not-specified'."""
    text = value.strip()
    return _GENDERS.get(_key(text), text)


_SHARING = {
    "1": "not-seen",
    "2": "share",
    "3": "do-not-share",
    "notseen": "not-seen",
    "privacynoticenotseen": "not-seen",
    "share": "share",
    "seenshare": "share",
    "donotshare": "do-not-share",
    "dontshare": "do-not-share",
    "seendonotshare": "do-not-share",
}


def normalise_ability_to_share(value: str) -> str:
    """Map LRB AbilityToShare (1 not seen, 2 seen and share, 3 seen and do not share) and the words."""
    text = value.strip()
    if not text:
        return ""
    return _SHARING.get(_key(text).replace(",", ""), text)


_GENDER_CODES = {"not-known": "0", "male": "1", "female": "2", "not-specified": "9"}
_SHARING_CODES = {"not-seen": "1", "share": "2", "do-not-share": "3"}


def gender_code(value: str) -> str:
    """The LRS code for a normalised gender (the inverse of normalise_gender); raw values pass through."""
    return _GENDER_CODES.get(value, value)


def ability_to_share_code(value: str) -> str:
    """The LRB code for a normalised ability-to-share value; raw values pass through."""
    return _SHARING_CODES.get(value, value)
