"""Adam's fused numba kernel (micrograd_plus/optim/adam_kernel.py) changes no number and loads only when it
pays.

- bit for bit equal to the plain formula for drawn settings and gradients with inf, nan and
  signed zeros, in float64 and float32, with amsgrad, maximize and both kinds of weight decay;
- a parameter big enough to load it follows PyTorch's Adam;
- numba is not imported for small models, is switched off by MICROGRAD_PLUS_NUMBA=0, and a
  numba that fails to import gives a warning and the numpy form;
- arrays it cannot take (not C-contiguous, not float32/float64) are left to the numpy form.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_fast_forms_equal_plain import assert_same_runs, fast_run, plain_run, use_form

from micrograd_plus import Adam, AdamW, Tensor
from micrograd_plus.optim import adam_kernel
from micrograd_plus.optim import optimizers as optim

# inf, nan, signed zeros, and numbers at the ends of both dtypes' ranges (denormals among them)
SPECIAL = st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e300, 5e-324, 1e-40, -1e-45, 3e38])


@st.composite
def settings_and_gradients(draw: st.DrawFn) -> tuple[type, dict[str, Any], np.ndarray, list[np.ndarray]]:
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    shape = draw(st.sampled_from([(1,), (9,), (3, 4), (2, 3, 5)]))
    finite = st.floats(-1e3, 1e3, width=32)
    elements = st.one_of(finite, finite, finite, SPECIAL)
    start = draw(hnp.arrays(dtype, shape, elements=finite))
    grads = [draw(hnp.arrays(dtype, shape, elements=elements)) for _ in range(draw(st.integers(1, 4)))]
    kwargs: dict[str, Any] = {
        "lr": draw(st.floats(1e-6, 1e3)),
        "betas": (draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
        "eps": draw(st.sampled_from([0.0, 1e-8, 1e-3])),
        "weight_decay": draw(st.one_of(st.just(0.0), st.floats(0.0, 10.0))),
        "amsgrad": draw(st.booleans()),
        "maximize": draw(st.booleans()),
    }
    return draw(st.sampled_from([Adam, AdamW])), kwargs, start, grads


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the plain formula's inf - inf, as numpy warns
@given(case=settings_and_gradients())
def test_the_kernel_gives_the_plain_formulas_bits(case: Any) -> None:
    cls, kwargs, start, grads = case
    with pytest.MonkeyPatch.context() as patch:
        use_form(patch, "fused")
        fast = fast_run(cls, kwargs, start, grads)
    assert_same_runs(plain_run(cls, kwargs, start, grads), fast)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_a_large_parameter_follows_torch(amsgrad: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = require_torch()
    monkeypatch.setattr(adam_kernel, "_adam_kernel", adam_kernel._NOT_LOADED)  # load it as a user's run would
    monkeypatch.setattr(optim, "_pieces", None)  # the kernel, not the numpy form, must run
    rng = np.random.default_rng(0)
    start = rng.standard_normal((200, 100))  # 20,000 numbers: above FUSED_MIN_SIZE
    assert start.size >= adam_kernel.FUSED_MIN_SIZE
    ours = Tensor(start, requires_grad=True)
    theirs = torch.tensor(start, requires_grad=True)
    opt, topt = Adam([ours], lr=0.01, amsgrad=amsgrad), torch.optim.Adam([theirs], lr=0.01, amsgrad=amsgrad)
    for _ in range(5):
        target = rng.standard_normal(start.shape)
        opt.zero_grad()
        topt.zero_grad()
        ((ours - Tensor(target)) ** 4).sum().backward()
        ((theirs - torch.tensor(target)) ** 4).sum().backward()
        opt.step()
        topt.step()
    assert close_to_torch(ours.data, theirs.detach().numpy())


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


TRAIN = """
    import sys
    import numpy as np
    from micrograd_plus import Adam, Tensor
    from micrograd_plus.optim import adam_kernel

    def train(n):
        p = Tensor(np.ones(n), requires_grad=True)
        opt = Adam([p], lr=0.1)
        (p * p).sum().backward()
        opt.step()
        return round(float(p.data[0]), 6)

    def kernel_in_use():
        return adam_kernel._adam_kernel not in (None, adam_kernel._NOT_LOADED)

    print(train(100), "numba" in sys.modules, kernel_in_use())
    print(train(20000), "numba" in sys.modules, kernel_in_use())
"""


def test_numba_is_imported_only_for_a_large_array() -> None:
    done = run_python(TRAIN)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.9", "False", "False", "0.9", "True", "True"]


def test_the_environment_switch_keeps_numba_out() -> None:
    done = run_python(TRAIN, MICROGRAD_PLUS_NUMBA="0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.9", "False", "False", "0.9", "False", "False"]


def test_numbas_own_jit_switch_leaves_adam_in_numpy() -> None:
    # NUMBA_DISABLE_JIT=1 would turn the kernel into a Python loop, a thousand times slower
    done = run_python(TRAIN, NUMBA_DISABLE_JIT="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.9", "False", "False", "0.9", "True", "False"]


def test_a_broken_numba_gives_a_warning_and_the_numpy_form(tmp_path: Path) -> None:
    (tmp_path / "numba").mkdir()
    (tmp_path / "numba" / "__init__.py").write_text('raise ImportError("Numba needs NumPy 1.0 or less")\n')
    done = run_python(TRAIN, PYTHONPATH=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.9", "False", "False", "0.9", "False", "False"]
    assert "numba could not be imported (Numba needs NumPy 1.0 or less); Adam runs in numpy" in done.stderr
    assert done.stderr.count("numba could not be imported") == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda a: np.asfortranarray(a),  # column-major
        lambda a: a.astype(np.float16),
        lambda a: np.repeat(a, 2, axis=1)[:, ::2],  # a strided view
    ],
    ids=["column-major", "float16", "strided"],
)
def test_arrays_the_kernel_cannot_take_are_left_unchanged(make: Any) -> None:
    assert adam_kernel.adam_kernel() is not None, "numba is part of the test extra: pip install -e '.[test]'"
    data = make(np.random.default_rng(1).standard_normal((3, 4)))
    arrays = [data, data.copy(), np.zeros_like(data), np.zeros_like(data)]
    before = [a.copy() for a in arrays]
    assert not adam_kernel.adam_update(*arrays, None, (0.9, 0.999), 1.0, 1e-8, 0.1)
    assert all(np.array_equal(a, b) for a, b in zip(arrays, before))


def test_a_kernel_that_fails_to_compile_warns_once_and_leaves_the_step_to_numpy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(numba: Any) -> Any:
        raise RuntimeError("no LLVM here")

    monkeypatch.setattr(adam_kernel, "_adam_kernel", adam_kernel._NOT_LOADED)
    monkeypatch.setattr(adam_kernel, "_build_adam", broken)
    start = np.random.default_rng(2).standard_normal(adam_kernel.FUSED_MIN_SIZE)
    grads = [np.random.default_rng(k).standard_normal(start.shape) for k in range(3)]
    kwargs = {"lr": 0.1, "weight_decay": 0.01}
    with pytest.warns(
        UserWarning, match=r"could not compile Adam's kernel \(RuntimeError: no LLVM here\)"
    ) as caught:
        fast = fast_run(AdamW, kwargs, start, grads)
    assert len(caught) == 1
    assert caught[0].filename == fast_run.__code__.co_filename  # at the caller of step(), not the package
    assert fast[1]["step"] == 3
    assert_same_runs(plain_run(AdamW, kwargs, start, grads), fast)
