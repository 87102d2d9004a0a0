r"""The numeric meaning of an expression: its value at fixed sample points of its symbols.

Two expressions are taken as equal when they agree at every sample point (`x+1` and `1+x`,
`2\sqrt{2}` and `\sqrt{8}`). Arithmetic on rationals is exact while the numbers stay below
`MAX_EXACT_BITS`, so `2^{100}+1` differs from `2^{100}`; roots, logarithms and trigonometry
use complex floats. Every step is O(1) on bounded numbers, so no input can hang: sympy's
evalf never returns on `10^{10^{10^{10}}}` or `\sin(10^{10^{10}})`, here they are undefined.

    >>> evaluate_expression("(x+1)^2") == evaluate_expression("x^2+2x+1")
    True
    >>> evaluate_expression(r"\sqrt{8}").samples
    ((2.8284271247461903+0j),)
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from mathtune.expressions import Node, parse_expression

SAMPLE_POINTS = 3
MAX_SYMBOLS = 8
MAX_EXACT_BITS = 20_000  # ~6000 digits: 2^{2023} stays exact, 10^{10^{10}} does not
MAX_EXACT_FACTORIAL = 2_000
MAX_EXACT_BINOMIAL = 5_000

# Symbol i takes value _POINTS[SAMPLE_POINTS * i + k] at sample k: ratios of distinct primes,
# unrelated to each other, so different polynomials almost never agree at all of them while
# exact arithmetic still applies. Every third one is negative, to tell |x| and sqrt(x^2)
# from x.
_NUMERATORS = (109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173)
_DENOMINATORS = (11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89)
_POINTS = tuple(
    Fraction(_NUMERATORS[j % 12] * (-1 if j % 3 == 2 else 1), _DENOMINATORS[j % 20])
    for j in range(SAMPLE_POINTS * MAX_SYMBOLS)
)
_CONSTANTS = {"pi": complex(math.pi), "e": complex(math.e), "i": 1j}
_FUNCTIONS: dict[str, Callable[[complex], complex]] = {
    "sin": cmath.sin,
    "cos": cmath.cos,
    "tan": cmath.tan,
    "cot": lambda z: 1 / cmath.tan(z),
    "sec": lambda z: 1 / cmath.cos(z),
    "csc": lambda z: 1 / cmath.sin(z),
    "arcsin": cmath.asin,
    "arccos": cmath.acos,
    "arctan": cmath.atan,
    "sinh": cmath.sinh,
    "cosh": cmath.cosh,
    "tanh": cmath.tanh,
    "ln": cmath.log,
    "log": cmath.log,  # unsubscripted \log is natural, as in sympy and latex2sympy
    "exp": cmath.exp,
}

Scalar = Fraction | complex


class _Undefined(ArithmeticError):
    """The expression has no finite value at this point."""


@dataclass(frozen=True)
class Value:
    """An answer's free symbols and its value at each sample point (None: undefined there)."""

    symbols: tuple[str, ...]
    samples: tuple[Scalar | float | None, ...]
    rounded: bool = False  # written with decimals, so compared with a tolerance
    ulp: Fraction | None = None  # unit in the last printed place, for a plain decimal


@lru_cache(maxsize=4096)
def evaluate_expression(text: str) -> Value | None:
    """The Value of a LaTeX expression, or None if it cannot be parsed or is never defined."""
    node = parse_expression(text)
    if node is None:
        return None
    symbols = tuple(sorted(_symbols(node)))
    if len(symbols) > MAX_SYMBOLS:
        return None
    points = SAMPLE_POINTS if symbols else 1
    samples = tuple(
        _evaluate_at(node, {name: _POINTS[SAMPLE_POINTS * i + k] for i, name in enumerate(symbols)})
        for k in range(points)
    )
    if all(sample is None for sample in samples):
        return None
    return Value(symbols, samples, rounded=_has_decimal(node))


def _symbols(node: Node) -> set[str]:
    if node[0] == "sym":
        return {node[1]}
    return set().union(*(_symbols(child) for child in node[1:] if isinstance(child, tuple)))


def _has_decimal(node: Node) -> bool:
    if node[0] == "num":
        return node[2]
    return any(_has_decimal(child) for child in node[1:] if isinstance(child, tuple))


def _evaluate_at(node: Node, point: dict[str, Fraction]) -> Scalar | None:
    try:
        value = _evaluate(node, point)
    except (ArithmeticError, ValueError, RecursionError):
        return None  # division by zero, overflow, log(0), or outside a function's domain
    if isinstance(value, complex) and not cmath.isfinite(value):
        return None
    return value


def _evaluate(node: Node, point: dict[str, Fraction]) -> Scalar:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "sym":
        return point[node[1]]
    if kind == "const":
        return _CONSTANTS[node[1]]
    if kind == "func":
        base = None if node[3] is None else _evaluate(node[3], point)
        return _function(node[1], _evaluate(node[2], point), base)
    if kind == "root":
        index = Fraction(2) if node[2] is None else _evaluate(node[2], point)
        return _root(_evaluate(node[1], point), index)
    arguments = [_evaluate(child, point) for child in node[1:]]
    return _OPERATIONS[kind](*arguments)


def _bounded(value: Scalar) -> Scalar:
    """Keep exact rationals small: past MAX_EXACT_BITS they become floats (or overflow)."""
    if isinstance(value, Fraction):
        bits = max(value.numerator.bit_length(), value.denominator.bit_length())
        if bits > MAX_EXACT_BITS:
            return complex(value)  # OverflowError past 1e308, caught by _evaluate_at
    return value


def _power(base: Scalar, exponent: Scalar) -> Scalar:
    if isinstance(base, Fraction) and isinstance(exponent, Fraction):
        if base in (0, 1) and exponent > 0 or base == 1:
            return base
        if exponent.denominator == 1:
            bits = max(base.numerator.bit_length(), base.denominator.bit_length())
            if bits * abs(exponent.numerator) <= MAX_EXACT_BITS:
                return base**exponent.numerator
        elif base > 0 and (root := _exact_root(base, exponent.denominator)) is not None:
            return _power(root, Fraction(exponent.numerator))
    return complex(base) ** complex(exponent)


def _exact_root(value: Fraction, degree: int) -> Fraction | None:
    """The rational `degree`-th root of a positive rational, if it has one (√4 = 2)."""
    if degree > 12 or max(value.numerator.bit_length(), value.denominator.bit_length()) > 1000:
        return None
    parts = []
    for part in (value.numerator, value.denominator):
        guess = round(part ** (1 / degree))
        candidates = (guess - 1, guess, guess + 1)
        root = next((r for r in candidates if r >= 0 and r**degree == part), None)
        if root is None:
            return None
        parts.append(root)
    return Fraction(parts[0], parts[1])


def _root(radicand: Scalar, index: Scalar) -> Scalar:
    if index == 0:
        raise _Undefined("zeroth root")
    odd = isinstance(index, Fraction) and index.denominator == 1 and index.numerator % 2 == 1
    if isinstance(radicand, Fraction) and radicand < 0 and odd:
        return -_power(-radicand, 1 / index)  # the real cube root of -8 is -2
    return _power(radicand, 1 / index)


def _function(name: str, argument: Scalar, base: Scalar | None) -> complex:
    value = _FUNCTIONS[name](complex(argument))
    if base is not None:
        value /= cmath.log(complex(base))
    return value


def _factorial(value: Scalar) -> Scalar:
    if isinstance(value, Fraction) and value.denominator == 1:
        if value < 0:
            raise _Undefined("factorial of a negative integer")
        if value <= MAX_EXACT_FACTORIAL:
            return Fraction(math.factorial(value.numerator))
    real = complex(value).real
    if complex(value).imag != 0 or real > 170:
        raise _Undefined("factorial past float range")
    return complex(math.gamma(real + 1))


def _binomial(n: Scalar, k: Scalar) -> Scalar:
    integers = all(isinstance(v, Fraction) and v.denominator == 1 for v in (n, k))
    if not integers or not 0 <= k <= MAX_EXACT_BINOMIAL or not 0 <= n <= MAX_EXACT_BINOMIAL:
        raise _Undefined("binomial outside small non-negative integers")
    return Fraction(math.comb(int(n), int(k)))


def _rounding(function: Callable[[float], int]) -> Callable[[Scalar], Scalar]:
    def apply(value: Scalar) -> Scalar:
        if isinstance(value, complex) and value.imag != 0:
            raise _Undefined("floor of a complex number")
        return Fraction(function(value.real if isinstance(value, complex) else value))

    return apply


_OPERATIONS: dict[str, Callable[..., Scalar]] = {
    "neg": lambda a: -a,
    "add": lambda a, b: _bounded(a + b),
    "sub": lambda a, b: _bounded(a - b),
    "mul": lambda a, b: _bounded(a * b),
    "div": lambda a, b: _bounded(a / b),
    "pow": lambda a, b: _bounded(_power(a, b)),
    "fact": _factorial,
    "binom": _binomial,
    "abs": lambda a: abs(a) if isinstance(a, Fraction) else complex(abs(a)),
    "floor": _rounding(math.floor),
    "ceil": _rounding(math.ceil),
}
