"""A safe parser for the arithmetic the command line accepts, like `tanh(a*b + c)`.

The text is checked for length and bracket depth before it is parsed, parsed with
`ast`, and every node of the tree must be on a short whitelist: numbers, names,
`+ - * / **`, unary minus (and plus), and calls of the engine's functions by name.
Everything else (attributes, subscripts, strings, lambdas, comparisons, other calls)
is refused with an `ExpressionError` that says what was found. Nothing is ever
`eval`-ed: the tree is walked (with an explicit stack) and each node becomes a Value
operation, so the result is a graph that can be drawn and stepped through.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Mapping

from .. import engine
from ..engine import Op, Value

MAX_LENGTH = 500
MAX_DEPTH = 32

FUNCTIONS: dict[str, Op] = {name: engine.RULES[name] for name in engine.UNARY_FUNCTIONS}
BINARY: dict[type, Op] = {
    ast.Add: engine.ADD,
    ast.Sub: engine.SUB,
    ast.Mult: engine.MUL,
    ast.Div: engine.DIV,
    ast.Pow: engine.POW,
}
_ALLOWED = "numbers, names, + - * / **, unary minus and the functions " + ", ".join(FUNCTIONS)

_REFUSED = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[i])",
    ast.Lambda: "lambda",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "assignment (:=)",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.JoinedStr: "f-strings",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}
_OPERATOR_NAMES = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Invert: "~",
    ast.Not: "not",
}


class ExpressionError(ValueError):
    """The expression or a `--set NAME=VALUE` is not accepted; the message says why."""


def check_text(text: str) -> None:
    """The limits checked before parsing, so no input can make the parser work hard."""
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ExpressionError(f"the expression nests brackets {deepest} deep; the limit is {MAX_DEPTH}")
    if not text.strip():
        raise ExpressionError("the expression is empty; write something like 'a*b + c'")


def parse_expression(text: str) -> ast.expr:
    """Check and parse `text`; return the body of the (whitelisted) expression tree."""
    check_text(text)
    try:
        # Python only warns about text such as "1if x else 2" or "0x1for": an error here, so
        # that nothing is printed behind the user's back and such text is refused plainly.
        with warnings.catch_warnings():
            warnings.simplefilter("error", SyntaxWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        message = (error.msg or "invalid syntax").splitlines()[0]
        raise ExpressionError(f"cannot parse the expression{where}: {message}") from None
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes; pathological nesting
        raise ExpressionError(
            f"cannot parse the expression: {str(error).splitlines()[0] or 'too complex'}"
        ) from None
    for node in ast.walk(tree.body):
        _check_node(node)
    return tree.body


def _check_node(node: ast.AST) -> None:
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Name, ast.Load)):
        if isinstance(node, ast.BinOp) and type(node.op) not in BINARY:
            raise ExpressionError(
                f"not allowed: the operator {_OPERATOR_NAMES.get(type(node.op), '?')}; use {_ALLOWED}"
            )
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(
                f"not allowed: the operator {_OPERATOR_NAMES.get(type(node.op), '?')}; use {_ALLOWED}"
            )
        if isinstance(node, ast.Name):
            _check_name(node.id, "the name")
        return
    if isinstance(node, ast.operator | ast.unaryop):
        return
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings" if isinstance(value, (str, bytes)) else f"the constant {value!r:.20}"
            raise ExpressionError(f"not allowed: {kind}; use {_ALLOWED}")
        return
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} can be called, by name")
        if func.id not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {func.id!r:.40}; the functions are {', '.join(FUNCTIONS)}"
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise ExpressionError(f"{func.id}() takes exactly one argument, like {func.id}(x)")
        return
    what = _REFUSED.get(type(node), type(node).__name__)
    raise ExpressionError(f"not allowed: {what}; use {_ALLOWED}")


def _check_name(name: str, what: str) -> None:
    if not name.isidentifier() or not name.isascii():
        raise ExpressionError(f"{what} {name!r:.40} is not a plain name (letters, digits, underscores)")
    if name.startswith("_"):
        raise ExpressionError(f"{what} {name!r:.40} starts with an underscore; such names are not allowed")


def names_in(tree: ast.expr) -> list[str]:
    """The variable names an expression uses (not its function names), in order of first use."""
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    used = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called]
    used.sort(key=lambda n: (n.lineno, n.col_offset))
    return list(dict.fromkeys(n.id for n in used))


def parse_assignments(items: Iterable[str]) -> dict[str, float]:
    """`["a=2", "b=-3"]` -> `{"a": 2.0, "b": -3.0}`: each a plain name and a float."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep:
            raise ExpressionError(f"--set {item!r:.40} should look like NAME=NUMBER, for example a=2")
        _check_name(name, "--set: the name")
        if name in FUNCTIONS:
            raise ExpressionError(f"--set: {name!r} is a function name; choose another variable name")
        if name in values:
            raise ExpressionError(f"--set: {name!r} is set twice")
        text = number.strip()
        if len(text) > 100:
            raise ExpressionError(
                f"--set {name}=...: the number is {len(text)} characters long; the limit is 100"
            )
        try:
            values[name] = float(text)
        except ValueError:
            raise ExpressionError(f"--set {name}={text!r:.40}: not a number") from None
    return values


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]  # the whitelist let only ints and floats through
    except OverflowError:
        raise ExpressionError(f"the number {str(value)[:20]}... is too large for a float") from None


def build_graph(text: str, values: Mapping[str, float]) -> Value:
    """Parse `text` and compute it with Values: one leaf per name (labelled with the
    name, from `values`), constants for numbers, one node per operation."""
    tree = parse_expression(text)
    used = names_in(tree)
    missing = [n for n in used if n not in values]
    if missing:
        sets = " ".join(f"--set {n}=NUMBER" for n in missing)
        raise ExpressionError(f"no value for {', '.join(repr(n) for n in missing)}: add {sets}")
    unused = [n for n in values if n not in used]
    if unused:
        raise ExpressionError(f"--set {', '.join(unused)}: not used in the expression")
    leaves = {name: Value(_number(values[name]), label=name) for name in used}
    results: dict[int, Value | float] = {}
    stack: list[tuple[ast.expr, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.Constant):
            results[id(node)] = _number(node.value)
        elif isinstance(node, ast.Name):
            results[id(node)] = leaves[node.id]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant) and not ready:
            number = _number(node.operand.value)  # -2 is the constant -2, not neg(2)
            results[id(node)] = -number if isinstance(node.op, ast.USub) else number
        elif not ready:
            stack.append((node, True))
            children = _children(node)
            stack.extend((child, False) for child in reversed(children))
        else:
            args = [results.pop(id(child)) for child in _children(node)]
            results[id(node)] = _apply(node, args)
    result = results[id(tree)]
    if not isinstance(result, Value):
        result = Value(result, requires_grad=False)
        result._origin = "constant"
    return result


def _children(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    raise AssertionError(f"unchecked node {type(node).__name__}")  # parse_expression refused it


def _apply(node: ast.expr, args: list[Value | float]) -> Value | float:
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.UAdd):
            return args[0]
        return Value.apply(engine.NEG, args[0])
    if isinstance(node, ast.BinOp):
        return Value.apply(BINARY[type(node.op)], *args)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return Value.apply(FUNCTIONS[node.func.id], *args)
