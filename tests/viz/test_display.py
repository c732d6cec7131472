"""Notebook displays (`_repr_html_`): each shows the numbers it must, read back from the HTML
as a browser would (tables as rows of cell texts), and escapes what the user wrote."""

from __future__ import annotations

import math
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import (
    MLP,
    SGD,
    Adam,
    Op,
    Tensor,
    Value,
    backward_steps,
    check_local_derivatives,
    forward_steps,
    gradcheck,
    optim,
)
from micrograd_plus.viz.display import MAX_PARAMETER_ROWS

SCRIPT = "<script>alert(1)</script>"
OPTIMIZERS = sorted(
    name
    for name, cls in vars(optim).items()
    if isinstance(cls, type) and issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer
)


class Page(HTMLParser):
    """The text of an HTML fragment, its tables (rows of cell texts, with each row's style),
    the texts of its <pre> blocks and its tags, as a browser reads them."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.row_styles: list[list[str]] = []
        self.chunks: list[str] = []
        self.pres: list[str] = []
        self._cell: list[str] | None = None
        self._pre: list[str] | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
            self.row_styles.append([])
        elif tag == "tr":
            self.tables[-1].append([])
            self.row_styles[-1].append(dict(attrs).get("style") or "")
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        if tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        self.chunks.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._pre is not None:
            self._pre.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def numbers_in(text: str) -> list[float]:
    """The numbers of an array's text, in order (read without eval)."""
    return [float(x) for x in text.replace("[", " ").replace("]", " ").replace(",", " ").split()]


def shaded(page: Page, table: int = 0) -> list[bool]:
    """Which body rows of a table are shaded as wrong."""
    return ["#ffe3e3" in style for style in page.row_styles[table][1:]]


floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(data=floats, grad=floats, label=st.text(max_size=20))
def test_a_value_shows_its_label_data_and_grad_exactly(data, grad, label):
    v = Value(data, label=label)
    v.grad = grad
    page = Page(v._repr_html_())
    assert page.tables == [[["Value", "data", "grad"], [label, repr(data), repr(grad)]]]
    assert "script" not in page.tags


def test_a_computed_value_shows_its_op_and_one_that_needs_no_grad_says_so():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + 1.0
    c.backward()
    assert Page(c._repr_html_()).tables == [[["Value", "data", "grad", "op"], ["", "-5.0", "1.0", "+"]]]
    assert Page(a._repr_html_()).tables[0][1] == ["a", "2.0", "-3.0"]
    frozen = Value(0.5, requires_grad=False)
    assert Page(frozen._repr_html_()).tables == [
        [["Value", "data", "grad", "requires_grad"], ["", "0.5", "0.0", "False"]]
    ]


def test_a_tensor_shows_shape_dtype_data_and_grad():
    w = Tensor([[1.5, -2.0, 0.25], [3.0, 4.0, -0.5]], requires_grad=True, dtype=np.float32, label=SCRIPT)
    before = Page(w._repr_html_())
    assert "shape (2, 3), dtype float32, requires_grad=True" in before.text
    assert "None  (no backward pass has reached it)" in before.text
    (w * w).sum().backward()
    page = Page(w._repr_html_())
    assert f"Tensor {SCRIPT!r}" in page.text and "script" not in page.tags
    data, grad = page.pres
    assert np.array_equal(numbers_in(data), w.data.reshape(-1))
    assert np.array_equal(numbers_in(grad), 2 * w.data.reshape(-1))
    y = w.sum()
    assert "op 'sum'" in Page(y._repr_html_()).text


def test_a_gradcheck_report_shows_every_row_and_shades_the_wrong_ones():
    x, y = Value(0.5, label="x"), Value(-1.5, label=SCRIPT)
    report = gradcheck(lambda x, y: (x * y).tanh() + x**3, [x, y])
    page = Page(report._repr_html_())
    assert page.text.startswith("gradcheck: all 2 gradient elements match")
    header, *rows = page.tables[0]
    assert header == ["input", "element", "analytic", "numeric", "abs err", "rel err", ""]
    assert [r[0] for r in rows] == [row.name for row in report.rows]
    assert SCRIPT in rows[1][0] and "script" not in page.tags
    assert [float(r[2]) for r in rows] == pytest.approx([row.analytic for row in report.rows], rel=1e-7)
    assert [float(r[3]) for r in rows] == pytest.approx([row.numeric for row in report.rows], rel=1e-7)
    assert [r[-1] for r in rows] == ["ok", "ok"] and shaded(page) == [False, False]

    bad_cube = Op("cube", lambda x: x**3, lambda g, out, x: (g * 2 * x * x,))
    wrong = gradcheck(lambda x, y: Value.apply(bad_cube, x.sin()) + y, [x, y], raise_exception=False)
    page = Page(wrong._repr_html_())
    assert "1 of 2 gradient elements is wrong" in page.text and "input 0 'x': 1 of 2" not in page.text
    assert [line for line in str(wrong).splitlines() if "largest error" in line][0].strip() in page.text
    header, *rows = page.tables[0]
    assert [r[-1] for r in rows] == ["WRONG", "ok"] and shaded(page) == [True, False]
    assert float(rows[0][2]) == pytest.approx(2 * math.sin(0.5) ** 2 * math.cos(0.5), rel=1e-7)
    assert float(rows[0][3]) == pytest.approx(3 * math.sin(0.5) ** 2 * math.cos(0.5), rel=1e-6)


def test_a_long_report_keeps_its_wrong_rows_and_says_how_many_are_left_out():
    leaky = Op("double", lambda x: 2 * x, lambda g, out, x: (g * (2.0 if x < 0.9 else 3.0),))
    xs = [Value(k / 100) for k in range(95)]
    report = gradcheck(lambda *xs: sum(Value.apply(leaky, x) for x in xs), xs, raise_exception=False)
    failing = [row.name for row in report.rows if row.failed]
    assert len(failing) == 5
    page = Page(report._repr_html_())
    rows = page.tables[0][1:]
    assert len(rows) == 40 and "... 55 more rows not shown (report.rows has them all)" in page.text
    assert [r[0] for r in rows if r[-1] == "WRONG"] == failing
    assert [r[0] for r in rows] == [row.name for row in report.rows if row.name in {r[0] for r in rows}]


def test_a_local_derivative_report_names_the_wrong_rule_and_the_skipped_kinks():
    bad_cube = Op("cube", lambda x: x**3, lambda g, out, x: (g * 2 * x * x,))
    x = Value(1.5, label="x")
    kink = Value(0.0, label="k")
    out = Value.apply(bad_cube, x.sin()) * 2 + kink.relu()
    report = check_local_derivatives(out, raise_exception=False)
    page = Page(report._repr_html_())
    assert page.text.startswith("check_local_derivatives: the derivative rule of op 'cube' is wrong")
    header, *rows = page.tables[0]
    assert header[:2] == ["node", "op"] and header[4:6] == ["rule", "numeric"]
    assert [(r[1], r[-1]) for r in rows if r[-1] == "WRONG"] == [("cube", "WRONG")]
    cube_row = next(r for r in rows if r[1] == "cube")
    g = 0.75
    assert float(cube_row[4]) == pytest.approx(g * 2 * math.sin(1.5) ** 2, rel=1e-7)
    assert float(cube_row[5]) == pytest.approx(g * 3 * math.sin(1.5) ** 2, rel=1e-6)
    assert any(r[1] == "relu" and r[-1].startswith("skipped: ") for r in rows)
    assert shaded(page) == [r[-1] == "WRONG" for r in rows]
    assert {r[1] for r in rows} == {c.op for c in report.checks}


def test_steps_show_their_narration_and_print_it_in_ipython():
    from IPython.lib.pretty import pretty

    a, b = Value(2.0, label=SCRIPT), Value(-3.0, label="b")
    L = a * b
    forward = list(forward_steps(L))
    page = Page(forward[0]._repr_html_())
    assert page.text == f"Forward step 1{forward[0]}" and "script" not in page.tags
    steps = list(backward_steps(L))
    seed, step = (Page(s._repr_html_()) for s in steps)
    assert seed.text == f"Backward step 0: the seed{steps[0]}"
    assert step.text == f"Backward step 1: L sends its gradient back{steps[1]}"
    assert f"d{SCRIPT} += dL/dL * dL/d{SCRIPT} = 1.0 * -3.0 = -3.0" in step.text
    assert "script" not in step.tags
    assert pretty(steps[1]) == str(steps[1])


def test_reports_print_their_table_in_ipython():
    from IPython.lib.pretty import pretty

    bad_cube = Op("cube", lambda x: x**3, lambda g, out, x: (g * 2 * x * x,))
    report = gradcheck(lambda x: Value.apply(bad_cube, x), [Value(1.5)], raise_exception=False)
    assert pretty(report) == str(report) and "<-- WRONG" in pretty(report)
    local = check_local_derivatives(Value.apply(bad_cube, Value(1.5)), raise_exception=False)
    assert pretty(local) == str(local)


def test_a_module_shows_its_named_parameters_with_data_and_grad():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, -2.0]).backward()
    named = list(model.named_parameters())
    page = Page(model._repr_html_())
    assert page.text.startswith("MLP: 13 parameters, 13 numbers")
    assert repr(model) in page.text
    header, *rows = page.tables[0]
    assert header == ["parameter", "shape", "data", "grad"]
    assert [r[0] for r in rows] == [name for name, _ in named]
    assert [float(r[2]) for r in rows] == pytest.approx([p.data for _, p in named], rel=1e-5)
    assert [float(r[3]) for r in rows] == pytest.approx([p.grad for _, p in named], rel=1e-5, abs=1e-12)

    big = MLP(2, [16, 16, 1], seed=0)
    page = Page(big._repr_html_())
    n = len(big.parameters())
    assert len(page.tables[0]) == 1 + MAX_PARAMETER_ROWS
    assert (
        f"... {n - MAX_PARAMETER_ROWS} more rows not shown (model.named_parameters() has them all)"
        in page.text
    )


def test_an_optimizer_shows_its_settings_and_the_state_it_keeps():
    w = Tensor([1.0, -2.0], requires_grad=True, label="w")
    b = Value(0.5, label=SCRIPT)
    opt = SGD([w, b], lr=0.1, momentum=0.9)
    page = Page(opt._repr_html_())
    assert page.text.startswith("SGD: 2 parameters, 3 numbers")
    settings = dict(zip(*page.tables[0]))
    assert settings["lr"] == "0.1" and settings["momentum"] == "0.9" and settings["nesterov"] == "False"
    assert page.tables[1] == [
        ["#", "shape", "data", "grad"],
        ["0", "(2,)", "[1.0, -2.0]", "None"],
        ["1", "scalar", "0.5", "0.0"],
    ]
    (w * w).sum().backward()
    (b * 3).backward()
    opt.step()
    page = Page(opt._repr_html_())
    assert page.tables[1][0] == ["#", "shape", "data", "grad", "momentum_buffer"]
    assert page.tables[1][1][4] == "[2.0, -4.0]" and page.tables[1][2][4] == "3.0"
    assert page.tables[1][1][2] == "[0.8, -1.6]" and float(page.tables[1][2][2]) == pytest.approx(0.2)
    assert "script" not in page.tags

    adam = Adam([b], lr=0.01)
    adam.step()
    adam_page = Page(adam._repr_html_())
    assert adam_page.tables[1][0] == ["#", "shape", "data", "grad", "step", "exp_avg", "exp_avg_sq"]
    assert adam_page.tables[1][1][4] == "1"


def test_an_optimizer_shows_a_row_of_options_per_parameter_group():
    w, b = Tensor([1.0, -2.0], requires_grad=True), Value(0.5)
    opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.5, "momentum": 0.0}], lr=0.1, momentum=0.9)
    table = Page(opt._repr_html_()).tables[0]
    assert table[0][:3] == ["lr", "momentum", "dampening"]
    assert [row[:2] for row in table[1:]] == [["0.1", "0.9"], ["0.5", "0.0"]]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_shows_the_state_it_keeps_after_a_step(name):
    """A column per state entry (LBFGS's history lists by their length), a cell per parameter."""
    w, u = Tensor([1.0, -2.0], requires_grad=True), Tensor([[0.5]], requires_grad=True)
    opt = getattr(optim, name)([w, u])

    def closure():
        opt.zero_grad()
        loss = (w * w).sum() + (u * u).sum()
        loss.backward()
        return loss

    opt.step(closure)
    page = Page(opt._repr_html_())
    assert page.text.startswith(f"{name}: 2 parameters, 3 numbers")
    assert page.tables[0][0][0] == "lr" and len(page.tables[0]) == 2
    header, *rows = page.tables[1]
    assert header == ["#", "shape", "data", "grad", *opt.state[w]]
    assert [row[:2] for row in rows] == [["0", "(2,)"], ["1", "(1, 1)"]]
    for key, cell in zip(opt.state[w], rows[0][4:]):
        value = opt.state[w][key]
        if isinstance(value, list):
            assert cell == f"list of {len(value)}"
        elif isinstance(value, np.ndarray):
            assert numbers_in(cell) == pytest.approx(value.ravel().tolist(), rel=1e-5)


def test_ipython_picks_up_the_html_displays():
    from IPython.core.formatters import DisplayFormatter

    formatter = DisplayFormatter()
    a = Value(2.0, label="a")
    report = gradcheck(lambda a: a * a, [a])
    for obj in (a, Tensor([1.0]), MLP(1, [1], seed=0), SGD([a], lr=0.1), report, next(backward_steps(a * a))):
        bundle, _ = formatter.format(obj)
        assert bundle["text/html"] == obj._repr_html_()
