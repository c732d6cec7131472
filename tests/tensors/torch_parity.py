"""One check shared by the tests of tensor_methods.py's methods: a function of Tensors against the
same function of torch float64 tensors, data and gradient (of a weighted sum of every output, so
that each element's gradient is seen), and strategies for the arrays they draw."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from conftest import close_to_torch, require_torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from micrograd_plus import Tensor

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
finite = st.floats(-10.0, 10.0, allow_nan=False)
# Few distinct values: ties and zeros are common.
tied = st.sampled_from([-1.5, 0.0, 0.0, 0.5, 2.0, 2.0])


def arrays(shape: Any = shapes, elements: Any = finite) -> Any:
    return hnp.arrays(np.float64, shape, elements=elements)


def _outputs(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def weights_for(outputs: Sequence[Any]) -> list[np.ndarray]:
    """Distinct weights for each output element (1, -2, 3, ...), one array per output."""
    made, start = [], 1
    for o in outputs:
        size = int(np.prod(o.shape))
        w = np.arange(start, start + size, dtype=np.float64) * np.where(np.arange(size) % 2, -1.0, 1.0)
        made.append(w.reshape(tuple(o.shape)))
        start += size
    return made


def assert_matches_torch(
    ours: Callable[..., Any], theirs: Callable[..., Any], *datas: np.ndarray, grad: bool = True
) -> None:
    """ours(*Tensors) and theirs(*torch tensors) give the same data and, for `grad`, the same
    gradient to every input (the |ours - torch| <= 1e-9 max(1, |torch|) of conftest)."""
    torch = require_torch()
    xs = [Tensor(d, requires_grad=True) for d in datas]
    ts = [torch.tensor(d, requires_grad=True) for d in datas]
    outs, refs = _outputs(ours(*xs)), _outputs(theirs(*ts))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.shape == tuple(r.shape), (o.shape, r.shape)
        assert close_to_torch(o.data, r.detach().numpy()), (o.data, r)
    if not grad:
        return
    ws = weights_for(refs)
    sum(((o * w).sum() for o, w in zip(outs, ws)), Tensor(0.0)).backward()
    sum((r * torch.tensor(w)).sum() for r, w in zip(refs, ws)).backward()
    for x, t in zip(xs, ts):
        theirs_grad = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        ours_grad = np.zeros(x.shape) if x.grad is None else x.grad
        assert close_to_torch(ours_grad, theirs_grad), (ours_grad, theirs_grad)
