"""Optional fused kernel for Adam's update of large arrays, compiled with numba.

Why (issue 7): Adam in numpy is a dozen passes over the weights, one ufunc each, and its square
roots and divisions cost most. A numba loop does the whole update in one pass, element by
element, in the CPU's vector registers: about 2.6 times faster on the Keras-style sine model's
395,521 weights. One thread, on purpose: numba's thread pools spin between calls and fight with
BLAS's own threads (a step of that model then took three times longer).

numba is optional (`pip install micrograd_plus[fast]`). Without it, or with the environment
variable MICROGRAD_PLUS_NUMBA=0, `adam_update` declines and the optimizer uses its numpy form.
numba is imported, and the kernel compiled, only when an optimizer first meets an array of at
least `FUSED_MIN_SIZE` elements, so small models never pay for it.

The kernel performs the numpy form's operations in the same order and in the array's own dtype
(every Python float is first rounded to it, as numpy does), and numba emits no fused
multiply-adds unless asked, so both forms give bit-for-bit the same weights (tests/optim/test_adam_kernel.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..modes import warn

# The size of array that makes importing numba and compiling the kernel (about half a second)
# worth it. Once compiled, the kernel serves arrays of any size: a call costs a few microseconds,
# the numpy form's dozen ufunc calls about fifteen.
FUSED_MIN_SIZE = 16384

_NOT_LOADED: Any = object()
_adam_kernel: Any = _NOT_LOADED  # tests set it to None to run the numpy form


def adam_kernel() -> Callable[..., None] | None:
    """The compiled kernel (compiled on the first call, for float64 and float32), or None where
    numba is not installed, is switched off (MICROGRAD_PLUS_NUMBA=0, or numba's own
    NUMBA_DISABLE_JIT, which would leave a Python loop a thousand times slower), or fails to
    import or compile (a warning then says why, once)."""
    global _adam_kernel
    if _adam_kernel is _NOT_LOADED:
        _adam_kernel = _compile_adam()
    return _adam_kernel  # type: ignore[no-any-return]


def _compile_adam() -> Callable[..., None] | None:
    if os.environ.get("MICROGRAD_PLUS_NUMBA", "1") == "0":
        return None
    try:
        import numba
    except ImportError as error:
        if getattr(error, "name", None) != "numba":  # installed, but broken or mismatched
            warn(f"numba could not be imported ({error}); Adam runs in numpy")
        return None
    if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]
        return None
    try:
        return _build_adam(numba)
    except Exception as error:  # noqa: BLE001 - any failure of the compiler: numpy still works
        warn(f"numba could not compile Adam's kernel ({type(error).__name__}: {error}); Adam runs in numpy")
        return None


def _build_adam(numba: Any) -> Callable[..., None]:
    # Compiled here, for both dtypes at once, so that a failure shows before a step has begun.
    signatures = [
        numba.void(*[numba.types.Array(t, 1, "C")] * 5, numba.boolean, *[t] * 7)
        for t in (numba.float64, numba.float32)
    ]

    # error_model="numpy": x / 0 is inf or nan as in numpy, not a ZeroDivisionError (whose check
    # in every iteration would also keep the loop from being vectorized).
    @numba.njit(signatures, error_model="numpy", nogil=True)
    def adam(d, g, m, v, vmax, amsgrad, beta1, beta1c, beta2, beta2c, root2, eps, step_size):  # type: ignore[no-untyped-def]
        # Adam._update_array's operations, element by element (beta1c, beta2c: 1 - beta1, 1 - beta2)
        for i in range(d.size):
            m_i = m[i] * beta1 + g[i] * beta1c
            v_i = v[i] * beta2 + g[i] * beta2c * g[i]
            m[i] = m_i
            v[i] = v_i
            if amsgrad:
                largest = vmax[i]
                if v_i != v_i or v_i > largest:  # as np.maximum: a nan wins
                    largest = v_i
                vmax[i] = largest
                v_i = largest
            d[i] -= m_i * step_size / (np.sqrt(v_i) / root2 + eps)

    return adam  # type: ignore[no-any-return]


def adam_update(
    data: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    betas: tuple[float, float],
    root2: float,
    eps: float,
    step_size: float,
) -> bool:
    """Adam's update of float arrays in place, in one fused pass. Returns False, having changed
    nothing, where the kernel does not apply (numba missing or switched off; arrays not all
    writable, aligned, C-contiguous and of one dtype, float32 or float64; or a small array before
    the kernel was compiled): the caller then runs its numpy form."""
    arrays = [data, grad, exp_avg, exp_avg_sq] + ([] if max_exp_avg_sq is None else [max_exp_avg_sq])
    if data.dtype not in (np.float32, np.float64) or not all(
        a.dtype == data.dtype and a.flags.c_contiguous and a.flags.aligned and a.flags.writeable
        for a in arrays
    ):  # the types the kernel was compiled for
        return False
    if _adam_kernel is _NOT_LOADED and data.size < FUSED_MIN_SIZE:
        return False
    kernel = adam_kernel()
    if kernel is None:
        return False
    d, g, m, v, *vmax = (a.reshape(-1) for a in arrays)
    scalar = data.dtype.type  # round each Python float to the arrays' dtype, as numpy does
    beta1, beta2 = betas
    kernel(
        d, g, m, v, vmax[0] if vmax else v, bool(vmax),
        scalar(beta1), scalar(1 - beta1), scalar(beta2), scalar(1 - beta2),
        scalar(root2), scalar(eps), scalar(step_size),
    )  # fmt: skip
    return True
