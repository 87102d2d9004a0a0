"""Worked arithmetic written out step by step, as a pupil does it on paper.

Column addition and subtraction name every carry and borrow, and long multiplication splits
the second factor into tens and ones: a 135M-parameter model cannot add 478 + 356 in one
token, but it can copy a digit-by-digit procedure it has seen many times.

    >>> add_steps(478, 356)[0]
    'Add the ones: 8 + 6 = 14, write 4 and carry 1.'
    >>> add_steps(478, 356)[-1]
    'So $478 + 356 = 834$.'
"""

from __future__ import annotations

import math

PLACES = ("ones", "tens", "hundreds", "thousands", "ten thousands")


def _digits(value: int, width: int) -> list[int]:
    """Digits from the ones place up, padded with zeros to `width`."""
    return [int(digit) for digit in str(value).zfill(width)[::-1]]


def add_steps(a: int, b: int) -> list[str]:
    """Column addition of two non-negative integers; one line when no carry can occur."""
    if a < 10 or b < 10:
        return [f"${a} + {b} = {a + b}$."]
    width = len(str(max(a, b)))
    steps, carry = [], 0
    for place, x, y in zip(PLACES, _digits(a, width), _digits(b, width), strict=False):
        total = x + y + carry
        carried = f" + {carry}" if carry else ""
        new_carry, digit = divmod(total, 10)
        tail = f", write {digit} and carry {new_carry}." if new_carry else f", write {digit}."
        steps.append(f"Add the {place}: {x} + {y}{carried} = {total}{tail}")
        carry = new_carry
    if carry:
        steps[-1] = steps[-1][:-1] + f"; the carried {carry} starts the next place."
    return [*steps, f"So ${a} + {b} = {a + b}$."]


def subtract_steps(a: int, b: int) -> list[str]:
    """Column subtraction `a - b` for a >= b >= 0, naming every borrow."""
    if b < 10 or a < 10:
        return [f"${a} - {b} = {a - b}$."]
    width = len(str(a))
    steps, borrow = [], 0
    for place, x, y in zip(PLACES, _digits(a, width), _digits(b, width), strict=False):
        top = x - borrow
        shown = f"{x} - {borrow}" if borrow else str(x)
        if top < y:
            steps.append(
                f"Subtract the {place}: {shown} is less than {y}, so borrow 10: "
                f"{top + 10} - {y} = {top + 10 - y}."
            )
            borrow = 1
        else:
            steps.append(f"Subtract the {place}: {shown} - {y} = {top - y}.")
            borrow = 0
    return [*steps, f"So ${a} - {b} = {a - b}$."]


def multiply_steps(a: int, b: int) -> list[str]:
    """`a × b` for non-negative integers: by one digit with carries, or split into tens and ones."""
    if a < 10 or b < 10 and a < 20:
        return [f"${a} \\times {b} = {a * b}$."]
    if b >= 10:
        tens, ones = b - b % 10, b % 10
        steps = [f"Split {b} into {tens} + {ones}."]
        steps += [f"${a} \\times {tens} = {a * tens}$.", f"${a} \\times {ones} = {a * ones}$."]
        steps += add_steps(a * tens, a * ones)
        return [*steps, f"So ${a} \\times {b} = {a * b}$."]
    steps, carry = [], 0
    digits = _digits(a, len(str(a)))
    for index, (place, digit) in enumerate(zip(PLACES, digits, strict=False)):
        product = digit * b + carry
        carried = f" + {carry}" if carry else ""
        if index == len(digits) - 1:
            steps.append(f"Multiply the {place}: ${digit} \\times {b}{carried} = {product}$.")
            break
        carry, written = divmod(product, 10)
        steps.append(
            f"Multiply the {place}: ${digit} \\times {b}{carried} = {product}$, write {written}"
            + (f" and carry {carry}." if carry else ".")
        )
    return [*steps, f"So ${a} \\times {b} = {a * b}$."]


def frac(numerator: int, denominator: int) -> str:
    """A fraction in lowest terms as LaTeX, or the integer it equals.

    >>> frac(6, 8), frac(8, 4), frac(-3, 6)
    ('\\\\frac{3}{4}', '2', '-\\\\frac{1}{2}')
    """
    common = math.gcd(numerator, denominator)
    top, bottom = numerator // common, denominator // common
    if bottom == 1:
        return str(top)
    sign = "-" if top < 0 else ""
    return f"{sign}\\frac{{{abs(top)}}}{{{bottom}}}"


def decimal(hundredths: int) -> str:
    """An amount in hundredths written as a plain decimal without trailing zeros.

    >>> decimal(345), decimal(270), decimal(400)
    ('3.45', '2.7', '4')
    """
    whole, part = divmod(hundredths, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".")
