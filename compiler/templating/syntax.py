"""Parsing call-variable text into a small tree, refusing everything the language does not have.

The language, in full::

    text    := ( words | "{{" expr "}}" | if | "{#" comment "#}" )*
    expr    := ( Name | 'quoted' | "quoted" ) ( "|" filter [ "(" 'quoted' { "," 'quoted' } ")" ] )*
    if      := "{% if" cond "%}" text { "{% elif" cond "%}" text } [ "{% else %}" text ] "{% endif %}"
    cond    := test { ( "and" | "or" ) test }        (and binds tighter than or)
    test    := [ "not" ] expr [ ( "==" | "!=" ) expr ]

The parser reads the text once, left to right, with an explicit stack for
``{% if %}`` blocks: nothing recurses, so no input can exhaust Python's
stack. The text's length, the ``{% if %}`` nesting and the filters per
expression are bounded, so a tree is always small. A mistake raises
``TemplateError`` with the line it is on and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler.errors import CompilerError
from compiler.templating.filters import FILTERS

MAX_TEXT = 4096  # characters of one text that uses {{ … }} or {% … %}
MAX_DEPTH = 8  # {% if %} inside {% if %} …
MAX_FILTERS = 8  # filters on one expression


class TemplateError(CompilerError, ValueError):
    """A mistake in call-variable text: ``line`` (1-based, None for the text as a whole) and ``message``."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


# --- the tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Quoted:
    value: str


@dataclass(frozen=True)
class Filter:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Expr:
    """A value with its filters: ``From | digits``."""

    base: Name | Quoted
    filters: tuple[Filter, ...]


@dataclass(frozen=True)
class Test:
    """``[not] left [== | != right]``."""

    negated: bool
    left: Expr
    op: str | None = None
    right: Expr | None = None


@dataclass(frozen=True)
class Condition:
    """Tests joined by ``or`` (the outer tuple) of tests joined by ``and`` (the inner ones)."""

    any_of: tuple[tuple[Test, ...], ...]


@dataclass(frozen=True)
class If:
    """``{% if %}`` … ``{% elif %}`` … ``{% else %}`` … ``{% endif %}``: the first branch whose condition holds."""

    branches: tuple[tuple[Condition, tuple], ...]
    otherwise: tuple


Part = str | Expr | If  # words as written, a value, or a choice


# --- tokens ------------------------------------------------------------------------------

_TAG_START = re.compile(r"\{[{%#]")
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|\}\}|%\}|[|(),])
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_KEYWORDS = {"not", "and", "or", "if", "elif", "else", "endif", "true", "false", "none", "True", "False", "None"}

_WHY_NOT = {
    ".": "no attribute or method access (like .upper()); use a filter instead: {{ From | upper }}",
    "[": "no indexing or lists", "]": "no indexing or lists",
    "{": "no dictionaries", "}": "a single } cannot end {{ … }}",
    "%": "no % formatting or arithmetic", "*": "no arithmetic", "/": "no arithmetic", "+": "no arithmetic",
    "-": "no arithmetic (and no {{- … -}} whitespace trimming)", "~": "no joining with ~; write the parts "
    "one after another: {{ A }}{{ B }}",
    "<": "only == and != compare", ">": "only == and != compare", "=": "compare with == (or !=)",
    "!": "use not, or != to compare",
}
_TAGS_NOT_ALLOWED = {
    "for": "no loops", "endfor": "no loops", "while": "no loops", "macro": "no macros", "endmacro": "no macros",
    "call": "no macros", "include": "no includes", "import": "no includes", "from": "no includes",
    "extends": "no includes", "block": "no blocks", "set": "no variables of its own; call variables only",
    "filter": "no filter blocks", "raw": "no raw blocks", "with": "no with blocks",
    "autoescape": "no autoescape blocks", "do": "no statements",
}
_LANGUAGE = "call variable text may use {{ Name }}, {{ 'words' }}, filters and {% if %} … {% endif %}"


class _Tokens:
    """The tokens of one tag, read one at a time as the parser asks for them, so the first mistake
    reported is the first one in the text. The closing ``}}`` / ``%}`` reads as ``("end", "")``;
    ``pos`` is then just past it."""

    def __init__(self, text: str, pos: int, end_mark: str, line: int) -> None:
        self.text, self.pos, self.end_mark, self.line = text, pos, end_mark, line
        self._next: tuple[str, str] | None = None

    def peek(self) -> tuple[str, str]:
        if self._next is None:
            self._next = self._lex()
        return self._next

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] != "end":
            self._next = None
        return token

    def fail(self, message: str) -> TemplateError:
        return TemplateError(self.line, message)

    def _lex(self) -> tuple[str, str]:
        text = self.text
        while self.pos < len(text):
            m = _TOKEN.match(text, self.pos)
            kind = m.lastgroup
            value = m.group(kind)
            self.pos = m.end()
            if kind == "space":
                continue
            if kind == "op" and value in ("}}", "%}"):
                if value == self.end_mark:
                    return "end", ""
                raise self.fail(f"{value} cannot end a tag opened with {'{{' if self.end_mark == '}}' else '{%'}")
            if kind == "other":
                raise self.fail(_why_not(value))
            return kind, value
        opened = "{{" if self.end_mark == "}}" else "{%"
        raise self.fail(f"{opened} is not closed with {self.end_mark}")


def _why_not(char: str) -> str:
    if char in "'\"":
        return f"a quoted text starting with {char} is not closed"
    if char.isdigit():
        return f"numbers must be written as quoted text, like '{char}'; and there is no arithmetic"
    return f"{char!r} is not allowed: {_WHY_NOT.get(char, _LANGUAGE)}"


def _unquote(token: str) -> str:
    return _ESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), token[1:-1])


# --- expressions and conditions ----------------------------------------------------------


def _expr(tokens: _Tokens) -> Expr:
    kind, value = tokens.take()
    if kind == "name" and value not in _KEYWORDS:
        base: Name | Quoted = Name(value)
        if tokens.peek() == ("op", "("):
            raise tokens.fail(f"{value}(…) is not allowed: no functions or calls; "
                              "use a filter on a value, like {{ From | digits }}")
    elif kind == "string":
        base = Quoted(_unquote(value))
    elif kind == "end":
        raise tokens.fail("a call variable name or 'quoted words' is missing")
    elif (kind, value) == ("op", "("):
        raise tokens.fail("brackets are not allowed: call variable text has no arithmetic or grouping")
    else:
        raise tokens.fail(f"{value!r} cannot start a value; use a call variable name or 'quoted words'")
    filters: list[Filter] = []
    while tokens.peek() == ("op", "|"):
        tokens.take()
        if len(filters) == MAX_FILTERS:
            raise tokens.fail(f"more than {MAX_FILTERS} filters on one value")
        filters.append(_filter(tokens))
    return Expr(base, tuple(filters))


def _filter(tokens: _Tokens) -> Filter:
    kind, name = tokens.take()
    if kind != "name":
        raise tokens.fail("a filter name must follow |")
    spec = FILTERS.get(name)
    if spec is None:
        raise tokens.fail(f"No filter named {name!r}; use one of {', '.join(FILTERS)}")
    args: list[str] = []
    if tokens.peek() == ("op", "("):
        tokens.take()
        while tokens.peek() != ("op", ")"):
            kind, value = tokens.take()
            if kind != "string":
                shown = "the end" if kind == "end" else repr(value)
                raise tokens.fail(f"the filter {name} takes quoted words, like {name}('friend'); found {shown}")
            args.append(_unquote(value))
            if tokens.peek() == ("op", ","):
                tokens.take()
            elif tokens.peek() != ("op", ")"):
                raise tokens.fail(f"the filter {name}(…) is missing a , or )")
        tokens.take()
    if len(args) != spec.arguments:
        wanted = "no arguments" if not spec.arguments else f"one quoted argument, like {name}('friend')"
        raise tokens.fail(f"the filter {name} takes {wanted}")
    return Filter(name, tuple(args))


def _condition(tokens: _Tokens) -> Condition:
    groups: list[list[Test]] = [[]]
    while True:
        negated = tokens.peek() == ("name", "not")
        if negated:
            tokens.take()
        left = _expr(tokens)
        op = right = None
        if tokens.peek() in (("op", "=="), ("op", "!=")):
            op = tokens.take()[1]
            right = _expr(tokens)
        groups[-1].append(Test(negated, left, op, right))
        joiner = tokens.peek()
        if joiner == ("name", "and"):
            tokens.take()
        elif joiner == ("name", "or"):
            tokens.take()
            groups.append([])
        else:
            return Condition(tuple(tuple(g) for g in groups))


def _end_of(tokens: _Tokens, what: str) -> None:
    kind, value = tokens.peek()
    if kind != "end":
        raise tokens.fail(f"{value!r} is not allowed after {what}")


# --- the whole text ----------------------------------------------------------------------


@dataclass
class _Open:
    """An ``{% if %}`` being read: the branches so far and the body being filled."""

    line: int
    branches: list[tuple[Condition, list]]
    otherwise: list | None = None

    @property
    def body(self) -> list:
        return self.branches[-1][1] if self.otherwise is None else self.otherwise


def parse(text: str) -> tuple[Part, ...]:
    """The tree of one text; raises TemplateError. Never recurses, whatever the text."""
    if len(text) > MAX_TEXT:
        raise TemplateError(None, f"call variable text is {len(text):,} characters; at most {MAX_TEXT:,} "
                                  "may use {{ … }} or {% … %}")
    top: list = []
    stack: list[_Open] = []
    pos, line = 0, 1
    while pos < len(text):
        m = _TAG_START.search(text, pos)
        words = text[pos:m.start()] if m else text[pos:]
        if words:
            (stack[-1].body if stack else top).append(words)
        if m is None:
            break
        line += words.count("\n")
        opener = m.group()
        if opener == "{#":
            end = text.find("#}", m.end())
            if end < 0:
                raise TemplateError(line, "a comment {# is not closed with #}")
            line += text.count("\n", m.start(), end)
            pos = end + 2
            continue
        tokens = _Tokens(text, m.end(), "}}" if opener == "{{" else "%}", line)
        if opener == "{{":
            expr = _expr(tokens)
            _end_of(tokens, "a value; write {{ Name | filter }}")
            (stack[-1].body if stack else top).append(expr)
        else:
            _statement(tokens, stack, top)
        pos = tokens.pos
        line += text.count("\n", m.start(), pos)
    if stack:
        raise TemplateError(stack[-1].line, "{% if %} is not closed with {% endif %}")
    return tuple(top)


def _statement(tokens: _Tokens, stack: list[_Open], top: list) -> None:
    """One ``{% … %}`` tag: opens, continues or closes an ``{% if %}``."""
    kind, word = tokens.take()
    if kind != "name":
        raise tokens.fail("{% must be followed by if, elif, else or endif")
    if word in _TAGS_NOT_ALLOWED:
        raise tokens.fail(f"{{% {word} %}} is not allowed: {_TAGS_NOT_ALLOWED[word]}; {_LANGUAGE}")
    if word == "if":
        if len(stack) == MAX_DEPTH:
            raise tokens.fail(f"{{% if %}} is nested more than {MAX_DEPTH} deep")
        condition = _condition(tokens)
        _end_of(tokens, "the condition")
        stack.append(_Open(tokens.line, [(condition, [])]))
        return
    if word not in ("elif", "else", "endif"):
        raise tokens.fail(f"{{% {word} %}} is not allowed; {_LANGUAGE}")
    if not stack:
        raise tokens.fail(f"{{% {word} %}} without an {{% if %}} before it")
    block = stack[-1]
    if word != "endif" and block.otherwise is not None:
        raise tokens.fail(f"{{% {word} %}} after {{% else %}}; the else part comes last")
    if word == "elif":
        condition = _condition(tokens)
        _end_of(tokens, "the condition")
        block.branches.append((condition, []))
        return
    _end_of(tokens, f"{word}")
    if word == "else":
        block.otherwise = []
        return
    stack.pop()
    done = If(tuple((c, tuple(body)) for c, body in block.branches), tuple(block.otherwise or ()))
    (stack[-1].body if stack else top).append(done)


def names(tree: tuple[Part, ...]) -> set[str]:
    """Every variable name a tree reads."""
    out: set[str] = set()
    todo: list[tuple] = [tree]
    while todo:
        for part in todo.pop():
            if isinstance(part, Expr):
                out |= _expr_names(part)
            elif isinstance(part, If):
                for condition, body in part.branches:
                    for group in condition.any_of:
                        for test in group:
                            out |= _expr_names(test.left) | (_expr_names(test.right) if test.right else set())
                    todo.append(body)
                todo.append(part.otherwise)
    return out


def _expr_names(expr: Expr) -> set[str]:
    return {expr.base.name} if isinstance(expr.base, Name) else set()
