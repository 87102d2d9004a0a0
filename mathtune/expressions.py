r"""Parse a LaTeX arithmetic expression into a small tree, in time linear in its length.

The subset covers what final answers are written in: numbers, symbols with subscripts,
`+ - * / ^ !`, implicit products, `\frac`, `\sqrt[n]{}`, `\binom`, `|x|`, floor and ceiling,
`\pi`, `e`, `i` and the elementary functions. Anything else (sets, relations, matrices,
`\int`) is refused with None; the caller splits structure off before it gets here.

We do not hand such strings to latex2sympy2_extended: its ANTLR parser takes 48 s on
`x^x^...^2` (101 characters), 7 s on 50 nested braces, and up to 3.7 s on first sight of a
shape even in SLL mode, and it cannot be interrupted without signals or a process.

    >>> parse_expression(r"2\sqrt{x}")
    ('mul', ('num', Fraction(2, 1), False), ('root', ('sym', 'x'), None))
"""

from __future__ import annotations

import re
from fractions import Fraction

MAX_TOKENS = 200  # final answers are far shorter; the cap bounds the work per string
MAX_NESTING = 24  # deeper input is refused rather than recursed into
MAX_DIGITS = 400  # longer numerals are refused (Python will not even parse 4300 digits)

Node = tuple  # ("num", Fraction, is_decimal) | ("sym", name) | (operation, *children)

FUNCTIONS = frozenset(
    {"sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan"}
    | {"sinh", "cosh", "tanh", "ln", "log", "exp"}
)
GREEK = frozenset(
    {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta"}
    | {"vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau"}
    | {"upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta"}
    | {"Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega"}
)
_MULTIPLY = frozenset({"*", "\\cdot", "\\times"})
_DIVIDE = frozenset({"/", "\\div"})
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+|\\[a-zA-Z]+|[a-zA-Z]|[-+*/^_()\[\]{}|!'])")
_SIZING = frozenset({"\\left", "\\right", "\\big", "\\Big", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr"})


class _Refused(Exception):
    """The text is outside the supported subset."""


def parse_expression(text: str) -> Node | None:
    """The expression tree of `text`, or None when it is not a supported expression."""
    tokens = _tokenize(text)
    if not tokens:
        return None
    try:
        return _Parser(tokens).parse()
    except (_Refused, RecursionError):
        return None


def _tokenize(text: str) -> list[str] | None:
    tokens: list[str] = []
    position, end = 0, len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or len(tokens) >= MAX_TOKENS or len(match.group(1)) > MAX_DIGITS:
            return None
        if match.group(1) not in _SIZING:
            tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over tokens: expr > term > signed > power > postfix > atom."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0
        self.bars = 0  # open |...| pairs, so a "|" inside one closes it

    def parse(self) -> Node:
        node = self.expr()
        if self.peek() is not None:
            raise _Refused(self.peek())
        return node

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _Refused(expected)
        self.position += 1
        return token

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Refused("nesting")
        node = self.term()
        while self.peek() in ("+", "-"):
            operation = "add" if self.take() == "+" else "sub"
            node = (operation, node, self.term())
        self.depth -= 1
        return node

    def term(self) -> Node:
        node = self.signed()
        while (token := self.peek()) is not None:
            if token in _MULTIPLY or token in _DIVIDE:
                self.take()
                node = ("mul" if token in _MULTIPLY else "div", node, self.signed())
            elif self.starts_factor(token):
                node = ("mul", node, self.power())
            else:
                break
        return node

    def starts_factor(self, token: str) -> bool:
        """Whether `token` can begin an implicit product's next factor ("2x", "x(x+1)")."""
        if token[0].isdigit() or token[0] == ".":
            return False  # "2 3" is not 6: digits never multiply implicitly
        if token == "|":
            return self.bars == 0
        if token.startswith("\\"):
            return token[1:] not in ("cdot", "times", "div", "right", "rfloor", "rceil")
        return token.isalpha() or token in _PAIRS

    def signed(self) -> Node:
        if self.peek() == "-":
            self.take()
            return ("neg", self.signed())
        if self.peek() == "+":
            self.take()
            return self.signed()
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.peek() != "^":
            return base
        self.take()
        return ("pow", base, self.exponent())

    def exponent(self) -> Node:
        if self.peek() == "-":
            self.take()
            return ("neg", self.exponent())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.atom()
        while self.peek() == "!":
            self.take()
            node = ("fact", node)
        return node

    def group(self) -> Node:
        """A `{...}` argument, or a single token as in `\\frac12` or `x^2`."""
        token = self.peek()
        if token == "{":
            self.take()
            node = self.expr()
            self.take("}")
            return node
        if token is not None and token.isdigit() and len(token) > 1:
            self.tokens[self.position] = token[1:]  # \frac12 is \frac{1}{2}: one digit each
            return ("num", Fraction(token[0]), False)
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token[0].isdigit() or token[0] == ".":
            return ("num", Fraction(token), "." in token)
        if token.isalpha():
            return self.symbol(token)
        if token in _PAIRS:
            node = self.expr()
            self.take(_PAIRS[token])
            return node
        if token == "|":
            self.bars += 1
            node = self.expr()
            self.take("|")
            self.bars -= 1
            return ("abs", node)
        if token.startswith("\\"):
            return self.command(token[1:])
        raise _Refused(token)

    def symbol(self, letter: str) -> Node:
        name = letter
        if self.peek() == "_":
            self.take()
            name += "_" + self.subscript()
        while self.peek() == "'":
            self.take()
            name += "'"
        if name in ("e", "i"):
            return ("const", name)
        return ("sym", name)

    def subscript(self) -> str:
        if self.peek() != "{":
            return self.take()
        self.take()
        parts = []
        while self.peek() not in ("}", None) and len(parts) < 8:
            parts.append(self.take())
        self.take("}")
        return "".join(parts)

    def command(self, name: str) -> Node:
        if name == "frac":
            return ("div", self.group(), self.group())
        if name == "binom":
            return ("binom", self.group(), self.group())
        if name == "sqrt":
            index = None
            if self.peek() == "[":
                self.take()
                index = self.expr()
                self.take("]")
            return ("root", self.group(), index)
        if name in ("lfloor", "lceil"):
            node = self.expr()
            self.take("\\rfloor" if name == "lfloor" else "\\rceil")
            return ("floor" if name == "lfloor" else "ceil", node)
        if name == "pi":
            return ("const", "pi")
        if name in GREEK:
            return self.symbol("\\" + name)
        if name in FUNCTIONS:
            return self.function(name)
        raise _Refused(name)

    def function(self, name: str) -> Node:
        base, power = None, None
        if name == "log" and self.peek() == "_":
            self.take()
            base = self.group()
        if self.peek() == "^":
            self.take()
            power = self.exponent()
        if power == ("neg", ("num", Fraction(1), False)) and name in ("sin", "cos", "tan"):
            name, power = "arc" + name, None  # \sin^{-1} x is arcsin x
        node = ("func", name, self.argument(), base)
        return node if power is None else ("pow", node, power)

    def argument(self) -> Node:
        """`(x)`, `{x}`, or the implicit product up to the next operator: `\\sin 2x`."""
        if self.peek() in ("(", "{"):
            return self.atom()
        node = self.power()
        while (token := self.peek()) is not None and self.starts_factor(token):
            if token.startswith("\\") and token[1:] in FUNCTIONS:
                break  # \sin x \cos x is sin(x)·cos(x)
            node = ("mul", node, self.power())
        return node
