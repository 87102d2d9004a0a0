r"""Read a written number: integers, decimals, thousands separators, decimal commas,
scientific notation, fractions, mixed numbers and infinity.

A `Number` keeps the exact value as a Fraction and, for decimals, the unit in the last
printed place (`ulp`), so comparison can tell an exact answer from a rounded one.

    >>> parse_number(r"-2\frac{1}{4}")
    Number(value=Fraction(-9, 4), ulp=None)
    >>> parse_number(r"1.5 \times 10^{3}")
    Number(value=Fraction(1500, 1), ulp=Fraction(100, 1))
    >>> resolve_digit_commas(r"1,000,000 and 2{,}5 and 3,4")
    '1000000 and 2.5 and 3,4'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

# Exponents and digit counts beyond these are not read as numbers (10**400 is already far
# past any answer), so no input can make us build a gigantic integer.
MAX_EXPONENT = 400
MAX_DIGITS = 400

_SIGN = r"(?P<sign>[-+]?)\s*"
_DECIMAL = r"(?:\d+(?:\.\d+)?|\.\d+)"
_INT_OR_DEC = rf"(?P<digits>{_DECIMAL})"
_POWER_OF_TEN = r"(?:\\times|\\cdot|\*)\s*10\s*\^\s*\{?\s*(?P<power>[-+]?\d+)\s*\}?"
_SCIENTIFIC = re.compile(rf"{_SIGN}{_INT_OR_DEC}(?:[eE](?P<e>[-+]?\d+)|\s*{_POWER_OF_TEN})?")
_BARE_POWER = re.compile(r"(?P<sign>[-+]?)\s*10\s*\^\s*\{?\s*(?P<power>[-+]?\d+)\s*\}?")
_FRAC = r"\\frac\s*\{\s*(?P<num>[-+]?\s*\d+(?:\.\d+)?)\s*\}\s*\{\s*(?P<den>\d+(?:\.\d+)?)\s*\}"
_SLASH = r"(?P<snum>\d+(?:\.\d+)?)\s*/\s*(?P<sden>\d+(?:\.\d+)?)"
_FRACTION = re.compile(rf"{_SIGN}(?:{_FRAC}|{_SLASH})")
_MIXED = re.compile(rf"{_SIGN}(?P<whole>\d+)\s*(?:{_FRAC}|\s{_SLASH})")
_INFINITY = re.compile(r"(?P<sign>[-+]?)\s*(?:\\infty|infinity|inf)", re.IGNORECASE)

# "1,234,567", "1{,}000" and "1 000": groups of exactly three digits are thousands.
# LaTeX's decimal comma "2{,}5" (how answers translated from Russian or German write
# decimals) is a decimal point. A bare comma otherwise separates values: "2,3" and "0,5"
# are lists, because bare lists are far more common in answers than decimal commas.
# Inside round or square brackets "(100,200)" is a point, not 100200.
_THOUSANDS = re.compile(r"(?<![\d.(\[])[1-9]\d{0,2}(?:(?:,|\{,\})\d{3})+(?![\d)\]]|\{,\})")
_DECIMAL_COMMA = re.compile(r"(?<![\d.])(\d+)\{,\}(\d+)")
_SPACED_THOUSANDS = re.compile(r"(?<![\d.])[1-9]\d{0,2}(?:(?:\s|\\,|\\ |~)\d{3})+(?![\d])")


@dataclass(frozen=True)
class Number:
    """A number read from text; `ulp` is set for decimals and None for exact values."""

    value: Fraction | float  # float only for infinities
    ulp: Fraction | None = None


def resolve_digit_commas(text: str) -> str:
    """Drop thousands separators and turn decimal commas into points; other commas stay."""
    text = _THOUSANDS.sub(lambda m: re.sub(r"\{,\}|,", "", m.group()), text)
    text = _SPACED_THOUSANDS.sub(lambda m: re.sub(r"\\,|\\ |~|\s", "", m.group()), text)
    return _DECIMAL_COMMA.sub(r"\1.\2", text)


def parse_number(text: str) -> Number | None:
    """The number `text` spells out in full, or None if it is anything else."""
    text = text.strip()
    if not text or len(text) > MAX_DIGITS:
        return None
    for parse in (_parse_decimal, _parse_fraction, _parse_mixed, _parse_power, _parse_infinity):
        number = parse(text)
        if number is not None:
            return number
    return None


def _parse_decimal(text: str) -> Number | None:
    match = _SCIENTIFIC.fullmatch(text)
    if match is None:
        return None
    digits = match["digits"]
    exponent = int(match["e"] or match["power"] or 0)
    if abs(exponent) > MAX_EXPONENT:
        return None
    value = Fraction(digits) * Fraction(10) ** exponent
    places = len(digits.partition(".")[2])
    rounded = "." in digits or match["e"] is not None or match["power"] is not None
    ulp = Fraction(10) ** (exponent - places) if rounded else None
    return Number(_signed(match["sign"], value), ulp)


def _parse_fraction(text: str) -> Number | None:
    match = _FRACTION.fullmatch(text)
    if match is None:
        return None
    numerator = Fraction(re.sub(r"\s", "", match["num"] or match["snum"]))
    denominator = Fraction(match["den"] or match["sden"])
    if denominator == 0:
        return None
    return Number(_signed(match["sign"], numerator / denominator))


def _parse_mixed(text: str) -> Number | None:
    match = _MIXED.fullmatch(text)
    if match is None:
        return None
    numerator = Fraction(match["num"] or match["snum"])
    denominator = Fraction(match["den"] or match["sden"])
    # Only a proper fraction makes a mixed number: "2 3/2" is not how anyone writes 3.5.
    if denominator == 0 or not 0 <= numerator < denominator:
        return None
    return Number(_signed(match["sign"], int(match["whole"]) + numerator / denominator))


def _parse_power(text: str) -> Number | None:
    match = _BARE_POWER.fullmatch(text)
    if match is None or abs(int(match["power"])) > MAX_EXPONENT:
        return None
    return Number(_signed(match["sign"], Fraction(10) ** int(match["power"])))


def _parse_infinity(text: str) -> Number | None:
    match = _INFINITY.fullmatch(text)
    if match is None:
        return None
    return Number(-math.inf if match["sign"] == "-" else math.inf)


def _signed(sign: str, value: Fraction) -> Fraction:
    return -value if sign == "-" else value
