"""Limits for untrusted templates: time, loop iterations, value and output sizes, DOCX package sizes.

A practice's own DOCX template is untrusted input. Jinja's sandbox stops it from reaching Python
internals, but not from running forever or filling memory: two nested ``range(100000)`` loops,
``9**(9**9)``, ``'x'*10**8``, a string doubled in a loop, a 3 GB part inside a 3 MB DOCX. This
module bounds all of them, so that a bad template fails with a
:class:`~consentkit.errors.TemplateError` naming it, in ``templates check``, ``render`` and ``batch``
alike.

How (a render runs in a worker thread, so neither signals nor process limits can be used):

* **Time and iterations.** Every render gets a budget (:func:`render_limits`): a deadline and a
  count of loop iterations. Every ``{% for %}`` loop's iterable is wrapped, when the template is
  compiled, in a guard that counts each iteration and looks at the clock; so do the sandbox's
  hooks for calls, attribute and item access, and ``range`` (itself limited in length). Nested
  loops with empty bodies therefore stop at the deadline instead of running for hours.
* **Sizes.** Operators that can make a value much larger than their operands (``*``, ``**``,
  ``+``, ``%``, the ``~`` concatenation) and the filters and string methods that can (``center``,
  ``indent``, ``replace``, ``join``, ``format``...) compute the size of their result *before*
  making it and refuse one above :data:`MAX_VALUE` characters (or items); integers are kept under
  :data:`MAX_INT_BITS` bits. String methods are allow-listed; the rest are refused.
* **Output.** Everything a render writes, including what macros, ``{% set %}`` blocks and filter
  blocks capture, is counted against :data:`MAX_OUTPUT` characters: expressions through the
  environment's ``finalize`` hook, static text inside loops and captures through a counting
  wrapper added at compile time.
* **The package.** A DOCX whose parts would decompress to more than :data:`MAX_PART_BYTES` each
  (or :data:`MAX_PACKAGE_BYTES` together) is refused before anything reads it (Python's
  ``zipfile`` never inflates a member past its declared size).

These bounds are far above what a consent form needs (the stock templates render in a few
milliseconds, with outputs of about 100 KB) and far below what would hurt a server.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import string
import threading
import time
import types
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from ..errors import TemplateError

__all__ = [
    "MAX_INT_BITS",
    "MAX_ITERATIONS",
    "MAX_OUTPUT",
    "MAX_PACKAGE_BYTES",
    "MAX_PART_BYTES",
    "MAX_RANGE",
    "MAX_VALUE",
    "RENDER_SECONDS",
    "BoundedEnvironment",
    "LimitError",
    "check_package",
    "render_limits",
]

#: The time one document's render may take.
RENDER_SECONDS = 5.0
#: Loop iterations in one render (every loop, nested ones included).
MAX_ITERATIONS = 1_000_000
#: The longest ``range`` a template may make.
MAX_RANGE = 100_000
#: The largest string (characters) or list (items) one operation may make.
MAX_VALUE = 1_000_000
#: The largest integer, in bits.
MAX_INT_BITS = 4096
#: Characters one render may write (all parts of the document together).
MAX_OUTPUT = 16_000_000
#: Decompressed size limits of a DOCX template: one part, the whole package, and member count.
MAX_PART_BYTES = 32 * 1024 * 1024
MAX_PACKAGE_BYTES = 96 * 1024 * 1024
MAX_MEMBERS = 2000
#: How often (in iterations) a loop looks at the clock.
_CLOCK_EVERY = 256


class LimitError(SecurityError):
    """A template went past one of the limits (a Jinja ``SecurityError``, so Jinja and docxtpl
    pass it on unchanged)."""


# --- the budget of the render in progress ------------------------------------------------------


class _Budget:
    __slots__ = ("deadline", "iterations", "output", "ticks")

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.iterations = 0
        self.output = 0
        self.ticks = 0


_CURRENT = threading.local()


@contextlib.contextmanager
def render_limits(seconds: float = RENDER_SECONDS) -> Iterator[None]:
    """Apply the limits to the renders done in this thread inside the ``with`` block."""
    previous = getattr(_CURRENT, "budget", None)
    _CURRENT.budget = _Budget(seconds)
    try:
        yield
    finally:
        _CURRENT.budget = previous


def _budget() -> _Budget | None:
    budget: _Budget | None = getattr(_CURRENT, "budget", None)
    return budget


def _clock(budget: _Budget) -> None:
    if time.monotonic() > budget.deadline:
        raise LimitError(f"ran past the {RENDER_SECONDS:g} s time limit")


def _tick() -> None:
    budget = _budget()
    if budget is not None:
        budget.ticks += 1
        if budget.ticks % 64 == 0:
            _clock(budget)


def _iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _budget()
    for item in iterable:
        if budget is not None:
            budget.iterations += 1
            if budget.iterations > MAX_ITERATIONS:
                raise LimitError(f"runs loops more than {MAX_ITERATIONS:,} times")
            if budget.iterations % _CLOCK_EVERY == 0:
                _clock(budget)
        yield item


def _count_output(value: Any) -> Any:
    """The environment's ``finalize``: every value written (captured or not) is counted."""
    size = _weight(value)
    budget = _budget()
    if budget is not None:
        budget.output += size
        if budget.output > MAX_OUTPUT:
            raise LimitError(f"writes more than {MAX_OUTPUT:,} characters")
    elif size > MAX_OUTPUT:
        raise LimitError(f"writes more than {MAX_OUTPUT:,} characters")
    return value


# --- sizes ----------------------------------------------------------------------------------------


def _weight(value: Any, seen: set[int] | None = None) -> int:
    """About how many characters ``value`` is as text (strings: their length; containers: their
    items' weights), without making the text."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, int | float | bool) or value is None:
        return 24
    if isinstance(value, list | tuple | set | frozenset | dict):
        seen = set() if seen is None else seen
        if id(value) in seen:
            return 0
        seen.add(id(value))
        items = value.items() if isinstance(value, dict) else value
        total = len(value) * 2
        for item in items:
            total += _weight(item, seen)
            if total > MAX_OUTPUT:
                return total
        return total
    return 64


def _check_value(value: Any, what: str = "a value") -> Any:
    if isinstance(value, str | list | tuple | dict | set | frozenset) and _weight(value) > MAX_VALUE:
        raise LimitError(f"makes {what} of more than {MAX_VALUE:,} characters")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise LimitError(f"makes a number of more than {MAX_INT_BITS} bits")
    return value


def _limit(size: int, what: str = "a value") -> None:
    if size > MAX_VALUE:
        raise LimitError(f"would make {what} of more than {MAX_VALUE:,} characters")


def _int_arg(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _check_printf(template: str) -> None:
    """Refuse ``%`` formats with a width or precision above :data:`MAX_VALUE` or taken from ``*``."""
    index = 0
    while True:
        index = template.find("%", index)
        if index < 0 or index + 1 >= len(template):
            return
        end = index + 1
        while end < len(template) and template[end] in "#0- +(":
            if template[end] == "(":
                close = template.find(")", end)
                end = len(template) if close < 0 else close + 1
            else:
                end += 1
        digits = ""
        while end < len(template) and (template[end].isdigit() or template[end] in ".*"):
            digits += template[end]
            end += 1
        if "*" in digits or any(int(part or 0) > MAX_VALUE for part in digits.split(".") if part.isdigit()):
            raise LimitError("uses a %-format width or precision that is too large")
        index = end + 1 if end < len(template) and template[end] == "%" else end


def _check_format_spec(template: str) -> None:
    """Refuse ``str.format`` fields with a width or precision above :data:`MAX_VALUE` or nested."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return  # str.format raises the same error itself
    for _text, _name, spec, _conversion in fields:
        if not spec:
            continue
        if "{" in spec:
            raise LimitError("uses a nested format field")
        numbers = "".join(c if c.isdigit() else " " for c in spec).split()
        if any(int(n) > MAX_VALUE for n in numbers):
            raise LimitError("uses a format width or precision that is too large")


# --- operators ------------------------------------------------------------------------------------


def _binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large, before computing it."""
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                _limit(_weight(seq) * max(count, 0))
                return
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > MAX_INT_BITS
        ):
            raise LimitError(f"makes a number of more than {MAX_INT_BITS} bits")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if left.bit_length() * right > MAX_INT_BITS:
                raise LimitError(f"makes a number of more than {MAX_INT_BITS} bits")
        elif not isinstance(left, int | float) or not isinstance(right, int | float):
            raise LimitError("uses ** on something other than numbers")
    elif operator == "+":
        if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            _limit(_weight(left) + _weight(right))
    elif operator == "%" and isinstance(left, str):
        _check_printf(left)


# --- filters and string methods -------------------------------------------------------------------


def _bound(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(inspect.signature(function).bind(*args, **kwargs).arguments)
    except TypeError:
        return {}


def _filter_check(
    name: str, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """The checks a filter needs before it runs (those that can make a result much larger)."""
    if name not in _AMPLIFYING_FILTERS:
        return
    bound = _bound(function, args, kwargs)
    text = bound.get("s", bound.get("value"))
    if name == "center":
        _limit(_int_arg(bound.get("width", 80)))
    elif name == "indent":
        width = bound.get("width", 4)
        size = len(width) if isinstance(width, str) else _int_arg(width)
        _limit(_weight(text) + (str(text).count("\n") + 1) * size)
    elif name == "format":
        if isinstance(text, str):
            _check_printf(text)
    elif name == "replace":
        old, new = bound.get("old", ""), bound.get("new", "")
        if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
            occurrences = len(text) + 1 if not old else text.count(old)
            _limit(len(text) + occurrences * len(new))
    elif name in ("batch", "slice"):
        _limit(_int_arg(bound.get("linecount", bound.get("slices", 0))), "a list")
    elif name == "wordwrap":
        _limit(_int_arg(bound.get("width", 79)))
    elif name == "sum":
        values = bound.get("iterable")
        if isinstance(values, list | tuple) and any(not isinstance(v, int | float) for v in values):
            raise LimitError("sum is only for numbers in templates")


_AMPLIFYING_FILTERS = frozenset(
    {"center", "indent", "format", "replace", "batch", "slice", "wordwrap", "sum"}
)
#: Filters a template may use (Jinja's built-ins minus none; listed so that a new Jinja filter is
#: not allowed without a look at what it can make).
_FILTERS = frozenset(
    {
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e",
        "escape", "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent",
        "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "pprint",
        "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "slice",
        "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper",
        "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
    }
)  # fmt: skip


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        _filter_check(name, function, args, kwargs)
        if name == "join":
            return _join(function, args, kwargs)
        return _check_value(function(*args, **kwargs), f"a value (filter {name})")

    return guarded


def _join(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    bound = _bound(function, args, kwargs)
    value = bound.get("value")
    if isinstance(value, Iterable) and not isinstance(value, str | dict):
        items = list(_iterate(value))
        separator = bound.get("d", "")
        _limit(sum(_weight(i) for i in items) + len(items) * _weight(separator))
        bound["value"] = items
        rebuilt = [bound[p] for p in inspect.signature(function).parameters if p in bound]
        return function(*rebuilt)
    return _check_value(function(*args, **kwargs))


#: String methods a template may call: those whose result is never much larger than their input.
_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
        "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable",
        "isspace", "istitle", "isupper", "lower", "lstrip", "partition", "removeprefix",
        "removesuffix", "rfind", "rindex", "rpartition", "rsplit", "rstrip", "split", "splitlines",
        "startswith", "strip", "swapcase", "title", "upper", "striptags", "unescape", "escape",
        # checked below before they run:
        "center", "ljust", "rjust", "zfill", "replace", "join", "format", "expandtabs",
    }
)  # fmt: skip


def _check_str_method(owner: str, name: str, args: tuple[Any, ...]) -> None:
    if name not in _STR_METHODS:
        raise LimitError(f"calls str.{name}, which templates may not use")
    if name in ("center", "ljust", "rjust", "zfill") and args:
        _limit(_int_arg(args[0]))
    elif name == "expandtabs":
        tab = _int_arg(args[0]) if args else 8
        _limit(len(owner) + owner.count("\t") * tab)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        occurrences = len(owner) + 1 if not args[0] else owner.count(args[0])
        _limit(len(owner) + occurrences * len(args[1]))
    elif name == "join" and args and isinstance(args[0], list | tuple):
        _limit(sum(_weight(i) for i in args[0]) + len(args[0]) * len(owner))
    elif name == "format":
        _check_format_spec(owner)


# --- the environment ------------------------------------------------------------------------------


def _guarded_range(*args: Any) -> Iterator[int]:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise LimitError(f"makes a range of more than {MAX_RANGE:,} numbers")
    return _iterate(numbers)


@jinja2.pass_eval_context
def _concat(eval_ctx: Any, pieces: list[Any]) -> Any:
    """The ``~`` operator, refusing a result above the value limit before it is made."""
    _limit(sum(_weight(p) for p in pieces))
    return markup_join(pieces) if eval_ctx.autoescape else str_join(pieces)


@jinja2.pass_context  # a context filter is never folded into a constant when compiling
def _static(_context: Any, text: str) -> Markup:
    """Static template text inside a loop or a capture: passed through ``finalize`` (which counts
    it) as markup, so that autoescaping leaves it as it is."""
    return Markup(text)  # noqa: S704 - the template's own XML, written as it is without the guard


_CAPTURES = (nodes.For, nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.AssignBlock)


def _rewrite(node: nodes.Node, repeated: bool = False) -> None:
    """Add the guards to a parsed template (see the module's docstring)."""
    for child in node.iter_child_nodes():
        _rewrite(child, repeated or isinstance(node, _CAPTURES))
        if isinstance(child, nodes.Concat):
            _replace(node, child, _filter(nodes.List(child.nodes, lineno=child.lineno), "_ck_concat"))
        elif (
            (repeated or isinstance(node, _CAPTURES))
            and isinstance(node, nodes.Output)
            and isinstance(child, nodes.TemplateData)
        ):
            _replace(node, child, _filter(nodes.Const(child.data, lineno=child.lineno), "_ck_static"))
    if isinstance(node, nodes.For) and isinstance(node.iter, nodes.Expr):
        node.iter = _filter(node.iter, "_ck_loop")


def _filter(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


def _replace(parent: nodes.Node, old: nodes.Node, new: nodes.Node) -> None:
    for field, value in parent.iter_fields():
        if value is old:
            setattr(parent, field, new)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if item is old:
                    value[index] = new


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the limits of this module (autoescaped, strict undefined)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=True, finalize=_count_output)
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items() if name in _FILTERS}
        self.filters["_ck_loop"] = _iterate
        self.filters["_ck_concat"] = _concat
        self.filters["_ck_static"] = _static
        self.globals = {key: value for key, value in self.globals.items() if key != "lipsum"}
        self.globals["range"] = _guarded_range

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _rewrite(tree)
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        _binop(operator, left, right)
        return _check_value(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and isinstance(__obj, types.BuiltinMethodType | types.MethodType):
            _check_str_method(owner, __obj.__name__, args)
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_VALUE * 10:
                raise LimitError("passes a number that is too large to a function")
        return _check_value(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        if isinstance(obj, str) and not attribute.startswith("_") and callable(getattr(obj, attribute, None)):
            # Checked here too: the sandbox hands out str.format as a wrapper of its own.
            if attribute not in _STR_METHODS:
                raise LimitError(f"uses str.{attribute}, which templates may not use")
            if attribute == "format":
                _check_format_spec(obj)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return super().getitem(obj, argument)


# --- the package ----------------------------------------------------------------------------------


def check_package(data: bytes, *, template: str) -> None:
    """Refuse a DOCX whose members would decompress past the limits, before anything reads it.

    Raises:
        TemplateError: the package is too large inside, or not a zip archive.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise TemplateError("not a DOCX file (not a readable zip archive)", template=template) from exc
    if len(members) > MAX_MEMBERS:
        raise TemplateError(f"the DOCX holds more than {MAX_MEMBERS} parts", template=template)
    total = 0
    for member in members:
        if member.file_size > MAX_PART_BYTES:
            raise TemplateError(
                f"part {member.filename[:80]} would unpack to more than {MAX_PART_BYTES >> 20} MB",
                template=template,
            )
        total += member.file_size
    if total > MAX_PACKAGE_BYTES:
        raise TemplateError(
            f"the DOCX would unpack to more than {MAX_PACKAGE_BYTES >> 20} MB", template=template
        )
