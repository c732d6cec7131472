"""Making Tensors as PyTorch does: `tensor`, `as_tensor`, `from_numpy`, `zeros`, `ones`, `full`,
`empty`, `eye`, `arange`, `linspace`, `rand`, `randn`, `normal`, `randint`, `randperm`, and the `_like` forms;
and the package's random stream, `manual_seed`.

Sizes are given as in PyTorch, `zeros(2, 3)` or `zeros((2, 3))` alike. The dtype is float64
unless `dtype=` says float32, int64 or bool (`arange(5)` is float64 here, int64 in PyTorch;
`randint` and `randperm` are int64, as PyTorch's). `device=` may be "cpu", the one device here. Random numbers never come from numpy's
global state: a call with `seed=` (an int) or `generator=` (a numpy Generator) draws from that
alone, and gives the same numbers every time; every other draw, here and in the layers, Dropout
and DataLoader, takes the next numbers of one package stream, `default_generator`, which
`manual_seed` restarts, as `torch.manual_seed` does.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable
from typing import Any, Union

import numpy as np

from .arguments import real_number
from .tensors import Tensor, _as_array, requested_dtype, sizes_given, tensor_dtype

Shape = tuple[int, ...]
SeedLike = Union[int, np.random.Generator, random.Random, None]

# The two dtypes a Tensor holds, by PyTorch's names, so that `dtype=torch.float64` ports as
# `dtype=mg.float64` and `t.dtype == mg.float64` reads as in PyTorch. (No `mg.float` nor
# `mg.double`: they would hide Python's `float` after `from micrograd_plus import *`.)
float32 = np.dtype(np.float32)
"""float32, by PyTorch's name (`torch.float32`): `dtype=mg.float32`."""
float64 = np.dtype(np.float64)
"""float64, by PyTorch's name (`torch.float64`), the default dtype of a Tensor."""
int64 = np.dtype(np.int64)
"""int64, by PyTorch's name (`torch.int64`): indices and class labels, without gradient."""
long = int64
"""int64 by its other PyTorch name (`torch.long`)."""
bool_ = np.dtype(np.bool_)
"""bool (`mg.bool`, as `torch.bool`): masks, without gradient."""


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new Tensor holding a copy of `data` (numbers, nested lists or an array), as `torch.tensor`,
    but float64 unless `data` is float32 or `dtype=` says otherwise: `tensor([0, 2, 1])` is float64
    here (int64 in PyTorch); write `dtype=mg.long` for labels and indices, `dtype=mg.bool` for masks."""
    _on_cpu(device, "tensor")
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing the memory of a float64, float32, int64 or bool numpy array (a change to
    one shows in the other), as `torch.from_numpy`; convert other arrays first (`a.astype(np.int64)`)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"from_numpy() takes a numpy array, got {type(array).__name__}; tensor(...) takes the rest"
        )
    if tensor_dtype(array.dtype) is None:
        raise TypeError(
            f"from_numpy(): a Tensor holds float64, float32, int64 or bool, got an array of {array.dtype}; "
            "convert it with a.astype(np.float64) (or np.int64 for class labels)"
        )
    shared = Tensor(0.0, dtype=array.dtype)
    shared.data = array
    return shared


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a Tensor, sharing memory where it can, as `torch.as_tensor`: a Tensor of that
    dtype is returned as it is, a float64 or float32 numpy array is shared (`from_numpy`), and
    anything else is copied (`tensor(data)`); the result is cut from any graph only when copied."""
    _on_cpu(device, "as_tensor")
    wanted = requested_dtype((dtype,), "as_tensor", integers=True)
    if isinstance(data, Tensor):
        return data if wanted in (None, data.dtype) else data.to(wanted)
    if (
        isinstance(data, np.ndarray)
        and data.dtype in (np.float64, np.float32)
        and wanted in (None, data.dtype)
    ):
        return from_numpy(data)
    return Tensor(data, dtype=wanted)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A Tensor of zeros: `zeros(2, 3)` or `zeros((2, 3))`."""
    _on_cpu(device, "zeros")
    return _filled(_shape(size, "zeros"), 0.0, dtype, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A Tensor of ones: `ones(2, 3)` or `ones((2, 3))`."""
    _on_cpu(device, "ones")
    return _filled(_shape(size, "ones"), 1.0, dtype, requires_grad)


def full(
    size: Any, fill_value: float, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A Tensor of `size` (a tuple, or one int) with every element `fill_value`."""
    _on_cpu(device, "full")
    if isinstance(fill_value, bool) and (dtype is None or tensor_dtype(dtype) == np.bool_):
        return _filled(_shape((size,), "full"), fill_value, np.bool_, requires_grad)  # a mask, as PyTorch's
    return _filled(_shape((size,), "full"), _number(fill_value, "full(): fill_value"), dtype, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """`torch.empty(2, 3)`: here a Tensor of zeros (PyTorch leaves the memory as it finds it,
    so a script that reads it before writing it was wrong anyway)."""
    _on_cpu(device, "empty")
    return _filled(_shape(size, "empty"), 0.0, dtype, requires_grad)


def zeros_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of `input`'s shape and (unless `dtype` is given) dtype."""
    _on_cpu(device, "zeros_like")
    shape, kind = _like(input, dtype, "zeros_like")
    return _filled(shape, 0.0, kind, requires_grad)


def ones_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of `input`'s shape and (unless `dtype` is given) dtype."""
    _on_cpu(device, "ones_like")
    shape, kind = _like(input, dtype, "ones_like")
    return _filled(shape, 1.0, kind, requires_grad)


def full_like(
    input: Any, fill_value: float, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """`fill_value` in `input`'s shape and (unless `dtype` is given) dtype, as `torch.full_like`."""
    _on_cpu(device, "full_like")
    shape, kind = _like(input, dtype, "full_like")
    return _filled(shape, _number(fill_value, "full_like(): fill_value"), kind, requires_grad)


def empty_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """`torch.empty_like(x)`: here zeros of `input`'s shape and dtype (see `empty`)."""
    _on_cpu(device, "empty_like")
    shape, kind = _like(input, dtype, "empty_like")
    return _filled(shape, 0.0, kind, requires_grad)


def eye(
    n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """The n x m identity matrix (n x n when m is None): ones on the diagonal."""
    _on_cpu(device, "eye")
    rows = _count(n, "eye(): n")
    cols = rows if m is None else _count(m, "eye(): m")
    return Tensor(np.eye(rows, cols), requires_grad=requires_grad, dtype=dtype)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... up to but excluding `end` (`arange(5)` is 0, 1, 2, 3, 4), as
    `torch.arange`: ceil((end - start) / step) numbers, the i-th computed as start + i * step
    (for int64, of start, end and step truncated toward 0 first, as PyTorch's)."""
    _on_cpu(device, "arange")
    if end is None:
        start, end = 0, start
    start, end, step = (
        _number(v, f"arange(): {name}") for v, name in ((start, "start"), (end, "end"), (step, "step"))
    )
    if not all(math.isfinite(v) for v in (start, end)):
        raise ValueError(f"arange(): start and end must be finite, got {start} and {end}")
    if tensor_dtype(dtype) == np.int64:  # PyTorch truncates them to int64 first: arange(0, 3.5) is 0, 1, 2
        start, end, step = (
            int(_as_array(v, np.int64, f"arange(): {name}"))
            for v, name in ((start, "start"), (end, "end"), (step, "step"))
        )
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(
            f"arange({start}, {end}, {step}): the step goes away from end; use a step of the other sign"
        )
    span = (end - start) / step
    if not span < np.iinfo(np.intp).max:
        raise ValueError(f"arange({start}, {end}, {step}): about {span:.3g} numbers, too many for an array")
    count = math.ceil(span)
    return Tensor(start + np.arange(count) * step, requires_grad=requires_grad, dtype=dtype)


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """`steps` evenly spaced numbers from start to end, both included, as `torch.linspace`."""
    _on_cpu(device, "linspace")
    first = _number(start, "linspace(): start")
    last = _number(end, "linspace(): end")
    return Tensor(
        np.linspace(first, last, _count(steps, "linspace(): steps")), requires_grad=requires_grad, dtype=dtype
    )


def rand(
    *sizes: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    seed: Any = None,
    generator: Any = None,
) -> Tensor:
    """Uniform random numbers in [0, 1), from `seed=` (an int), `generator=`, or else the package's
    stream (`manual_seed`). The sizes as ints, one tuple, or `size=` (PyTorch's keyword)."""
    shape = _drawn_shape(sizes, size, "rand")
    return _drawn("rand", lambda rng: rng.random(shape), dtype, device, requires_grad, seed, generator)


def randn(
    *sizes: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    seed: Any = None,
    generator: Any = None,
) -> Tensor:
    """Standard normal random numbers, from `seed=` (an int), `generator=`, or else the package's
    stream (`manual_seed`). The sizes as ints, one tuple, or `size=` (PyTorch's keyword)."""
    shape = _drawn_shape(sizes, size, "randn")
    return _drawn(
        "randn", lambda rng: rng.standard_normal(shape), dtype, device, requires_grad, seed, generator
    )


def normal(
    mean: Any,
    std: Any,
    size: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    seed: Any = None,
    generator: Any = None,
) -> Tensor:
    """Normal random numbers of one `mean` and standard deviation `std` (numbers, bools or 0-d
    Tensors that do not require grad, as PyTorch takes), in a Tensor of `size`: PyTorch's
    `torch.normal(0, 0.01, (2, 1))`. Drawn from `seed=` (an int), `generator=`, or else the
    package's stream (`manual_seed`)."""
    if size is None:
        raise TypeError(
            f"normal() takes numbers mean and std and a size, as normal(0.0, 1.0, (2, 3)), got mean={mean!r:.40}, "
            f"std={std!r:.40}, size={size!r:.40}; for Tensors of means and deviations write "
            "mean + std * randn_like(mean)"
        )
    average, deviation = _moment(mean, "normal(): mean"), _moment(std, "normal(): std")
    if not deviation >= 0:
        raise ValueError(f"normal(): std must be >= 0, got {deviation}")
    shape = _shape((size,), "normal")
    return _drawn(
        "normal",
        lambda rng: rng.normal(average, deviation, shape),
        dtype,
        device,
        requires_grad,
        seed,
        generator,
    )


def _drawn(
    who: str,
    draw: Callable[[np.random.Generator], np.ndarray],
    dtype: Any,
    device: Any,
    requires_grad: bool,
    seed: Any,
    generator: Any,
) -> Tensor:
    """A new Tensor of random floats: `draw`'s numbers from the call's Generator (`seed=`,
    `generator=`, or the package's stream)."""
    _on_cpu(device, who)
    kind = _floats(dtype, who)  # before drawing: a refused call leaves the stream as it was
    return Tensor(draw(generator_from(seed, generator)), requires_grad=requires_grad, dtype=kind)


def _moment(x: Any, what: str) -> float:
    """normal()'s mean or std: a number, a bool or a 0-d Tensor without gradient, as PyTorch
    takes (a Tensor that requires grad would lose its gradient: PyTorch refuses it too)."""
    if isinstance(x, Tensor):
        if x.ndim != 0 or x.requires_grad:
            raise TypeError(
                f"{what} must be a number or a 0-d Tensor that does not require grad (as in PyTorch), "
                f"got a Tensor of shape {x.shape}{' that requires grad' if x.requires_grad else ''}; "
                "for Tensors of means write mean + std * randn_like(mean), for a mean with a gradient "
                "mean + std * randn(size)"
            )
        x = x.item()
    return real_number(float(x) if isinstance(x, (bool, np.bool_)) else x, what)


def randint(
    low: Any = 0,
    high: Any = None,
    size: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    seed: Any = None,
    generator: Any = None,
) -> Tensor:
    """Random whole numbers from `low` (included, 0 unless given) to `high` (excluded), each equally
    likely, as `torch.randint(0, 10, (5,))` or `torch.randint(10, (5,))`: an int64 Tensor (unless
    `dtype=` says float or bool), as PyTorch's; they index Tensors (`x[randint(0, n, (8,))]`) and
    serve as class labels of `cross_entropy`. The numbers must fit the dtype (float64: exact up to
    `2**53` in size)."""
    _on_cpu(device, "randint")
    if size is None and high is not None and not isinstance(high, numbers.Number):
        low, high, size = 0, low, high  # randint(high, size)
    elif high is None:
        low, high = 0, low  # randint(high, size=...)
    if size is None:
        raise TypeError("randint() needs a size, as in randint(0, 10, (5,)) or randint(10, (5,))")
    shape = _shape((size,), "randint")
    first, stop = _whole(low, "randint(): low"), _whole(high, "randint(): high")
    if first >= stop:
        raise ValueError(
            f"randint(): low must be less than high (the numbers are drawn from low to high - 1), got "
            f"low={first} >= high={stop}"
        )
    _exact_in(dtype, first, stop - 1, "randint")
    return Tensor(
        generator_from(seed, generator).integers(first, stop, shape),
        requires_grad=requires_grad,
        dtype=int64 if dtype is None else dtype,
    )


def randperm(
    n: int,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    seed: Any = None,
    generator: Any = None,
) -> Tensor:
    """0, 1, ..., n - 1 in a random order, as `torch.randperm(n)`: an int64 Tensor (unless `dtype=`
    says a float one), as PyTorch's; `x[randperm(len(x))]` shuffles rows."""
    _on_cpu(device, "randperm")
    count = _count(n, "randperm(): n")
    _exact_in(dtype, 0, count - 1, "randperm")
    return Tensor(
        generator_from(seed, generator).permutation(count),
        requires_grad=requires_grad,
        dtype=int64 if dtype is None else dtype,
    )


def rand_like(
    input: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    seed: Any = None,
    generator: Any = None,
) -> Tensor:
    """`rand` of `input`'s shape and (unless `dtype` is given) dtype, as `torch.rand_like`."""
    return _random_like(rand, "rand_like", input, dtype, device, requires_grad, seed, generator)


def randn_like(
    input: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    seed: Any = None,
    generator: Any = None,
) -> Tensor:
    """`randn` of `input`'s shape and (unless `dtype` is given) dtype, as `torch.randn_like`."""
    return _random_like(randn, "randn_like", input, dtype, device, requires_grad, seed, generator)


def _random_like(
    make: Callable[..., Tensor],
    name: str,
    input: Any,
    dtype: Any,
    device: Any,
    requires_grad: bool,
    seed: Any,
    generator: Any,
) -> Tensor:
    _on_cpu(device, name)
    shape, kind = _like(input, dtype, name)
    return make(shape, dtype=_floats(kind, name), requires_grad=requires_grad, seed=seed, generator=generator)


# --- helpers ---------------------------------------------------------------------------------------


def _on_cpu(device: Any, who: str) -> None:
    """PyTorch's `device=`: the CPU is the one device here ("cpu" changes nothing, others are refused)."""
    if requested_dtype((device,), who) is not None:
        raise TypeError(
            f'{who}(): device= takes a device ("cpu"), got the dtype {device!r:.60}; pass it as dtype='
        )


def _shape(size: tuple[Any, ...], who: str) -> Shape:
    """Sizes given as ints or as one tuple/list of ints, each >= 0."""
    return tuple(_count(n, f"{who}(): size") for n in sizes_given(size))


def _drawn_shape(sizes: tuple[Any, ...], size: Any, who: str) -> Shape:
    """The shape of a draw, given as ints, one tuple, or by PyTorch's keyword `size=` (not both)."""
    if size is None:
        return _shape(sizes, who)
    if sizes:
        raise TypeError(f"{who}(): give the sizes once, as {who}(2, 3) or {who}(size=(2, 3)), not both")
    return _shape((size,), who)


def _count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}: {n!r:.60}")
    if n < 0:
        raise ValueError(f"{what} must be >= 0, got {n}")
    return int(n)


def _number(x: Any, what: str) -> float:
    if isinstance(x, Tensor) and x.numel() == 1:
        return x.item()
    return real_number(x, what)


def _floats(dtype: Any, who: str) -> Any:
    """`dtype` if it is a float one (or None): random fractions have no int64 or bool form, and
    PyTorch refuses them too (with NotImplementedError)."""
    wanted = requested_dtype((dtype,), who, integers=True)
    if wanted is not None and wanted not in (np.float32, np.float64):
        raise NotImplementedError(
            f"{who}(): draws floats (float32 or float64), not {wanted}; use randint for random whole "
            "numbers, or rand(...) < p for a random mask"
        )
    return dtype


def _whole(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}: {n!r:.60}")
    return int(n)


# The whole numbers each dtype holds exactly: (least, greatest, in words)
_WHOLE_RANGES = {
    np.dtype(np.int64): (-(2**63), 2**63 - 1, "int64 holds -2**63 to 2**63 - 1"),
    np.dtype(np.bool_): (0, 1, "bool holds 0 and 1 (False and True) only"),
    np.dtype(np.float64): (-(2**53), 2**53, "float64 holds whole numbers exactly only up to 2**53 in size"),
    np.dtype(np.float32): (-(2**24), 2**24, "float32 holds whole numbers exactly only up to 2**24 in size"),
}


def _exact_in(dtype: Any, first: int, last: int, who: str) -> None:
    """Whole numbers from `first` to `last` are exact in the dtype asked for (int64 if none)."""
    least, greatest, words = _WHOLE_RANGES[
        requested_dtype((dtype,), who, integers=True) or np.dtype(np.int64)
    ]
    if first < least or last > greatest:
        raise ValueError(
            f"{who}(): {words}, and these numbers go from {first} to {last}; choose another dtype="
        )


def _filled(shape: Shape, value: float, dtype: Any, requires_grad: bool) -> Tensor:
    return Tensor(np.full(shape, value), requires_grad=requires_grad, dtype=dtype)


def _like(input: Any, dtype: Any, who: str) -> tuple[Shape, Any]:
    if isinstance(input, Tensor):
        return input.shape, input.dtype if dtype is None else dtype
    if isinstance(input, np.ndarray):
        # float32 stays float32 and anything else gives float64, as Tensor(array) does
        return input.shape, (input.dtype if input.dtype == np.float32 else None) if dtype is None else dtype
    raise TypeError(f"{who}() takes a Tensor or a numpy array, got {type(input).__name__}: {input!r:.60}")


# The package's random stream: every draw made without `seed=` or `generator=` (rand, randn, randint,
# randperm, their `_like` forms, layer initialisation, Dropout masks, DataLoader shuffling, the data
# sets given seed=None) takes its next numbers from this one Generator. It starts from fresh entropy
# (a new stream each run); `manual_seed` restarts it in place, so whoever holds it sees the new stream.
default_generator = np.random.default_rng()
"""The package's default numpy Generator, as `torch.default_generator`: what every draw without
`seed=` or `generator=` uses, restarted by `manual_seed`."""


def manual_seed(seed: int) -> np.random.Generator:
    """Restart the package's random stream from `seed`, as `torch.manual_seed(0)` at the top of
    a script: from here on, every draw without `seed=` or `generator=` (random Tensors, layer
    weights, Dropout masks, DataLoader order, data sets given `seed=None`) is the same on every
    run. Draws given `seed=`/`generator=` are their own streams and stay as they are. Returns
    the default Generator, numpy's (PyTorch returns its own `torch.Generator`).

    `seed` is an int from `-2**63` to `2**64 - 1`, as in PyTorch (a negative seed counts as
    `seed + 2**64`, as PyTorch's does); a float or a string is refused, where PyTorch truncates
    or parses it. The stream is one for the whole process: threads drawing from it at once get
    numbers in no fixed order (give each thread its own `generator=` for repeatable runs), and
    a forked process continues the same stream as its parent."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"manual_seed() takes an int, got {type(seed).__name__}: {seed!r:.60}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"manual_seed(): the seed must be from -2**63 to 2**64 - 1, got {seed}")
    default_generator.bit_generator.state = np.random.PCG64(seed % 2**64).state
    return default_generator


def make_generator(seed: SeedLike) -> np.random.Generator:
    """The numpy Generator of a draw: an int seeds a new one, a Generator is used as it is (to share
    one stream between layers), a `random.Random` seeds one from its stream, None gives the
    package's `default_generator` (fresh numbers each run until `manual_seed`). numpy's global
    state is never read or changed."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, random.Random):
        return np.random.default_rng(seed.getrandbits(64))
    if seed is None:
        return default_generator
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be an int, a numpy Generator, a random.Random or None, got {type(seed).__name__}: {seed!r:.60}"
        )
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(int(seed))


def generator_from(seed: Any, generator: Any) -> np.random.Generator:
    """The Generator of one call: `generator` as given, or one made from `seed` (the default
    Generator when both are None)."""
    if generator is None:
        return make_generator(seed)
    if seed is not None:
        raise ValueError("give seed or generator, not both")
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"generator must be a numpy Generator (np.random.default_rng(seed)), got "
            f"{type(generator).__name__}: {generator!r:.60}"
        )
    return generator
