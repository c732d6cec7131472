"""save_checkpoint / load_checkpoint: a training run's state in one .safetensors file, without
pickle; what comes back equals what was saved (types included), a resumed run equals an
uninterrupted one bit for bit, PyTorch reads the arrays, and any other file is a LoadError."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
from conftest import close_to_torch, require_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import LoadError, load_checkpoint, save_checkpoint
from micrograd_plus.checkpoints import STRUCTURE_KEY


def same(a: Any, b: Any) -> bool:
    """Equal in type and value, nan equal to nan, arrays in dtype and shape too."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (
            a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def model_and_training(seed: int) -> tuple[mg.Sequential, Any, Any]:
    model = mg.Sequential(mg.Linear(3, 8, seed=seed), mg.ReLU(), mg.Linear(8, 1, seed=seed + 1))
    optimizer = mg.optim.Adam(model.parameters(), lr=0.05)
    scheduler = mg.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[3, 5], gamma=0.5)
    return model, optimizer, scheduler


def train(model: Any, optimizer: Any, scheduler: Any, steps: int) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    for _ in range(steps):
        optimizer.zero_grad()
        ((model(mg.tensor(X)) - mg.tensor(y)) ** 2).mean().backward()
        optimizer.step()
        scheduler.step()


def test_a_checkpoint_comes_back_as_it_was_saved(tmp_path):
    model, optimizer, scheduler = model_and_training(0)
    train(model, optimizer, scheduler, 4)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),  # milestones is a Counter, as in PyTorch
        "plateau": mg.optim.lr_scheduler.ReduceLROnPlateau(optimizer).state_dict(),  # best = inf
        "epoch": 4,
        "note": "after 4 steps",
        "nothing": None,
        "scalar": np.float32(1.5),  # kept as a 0-d array of its dtype
        "pairs": [(1, -0.0), (2, float("nan"))],
    }
    path = tmp_path / "run.safetensors"
    save_checkpoint(checkpoint, path)
    loaded = load_checkpoint(path)
    checkpoint["scalar"] = np.asarray(np.float32(1.5))
    assert same(loaded, checkpoint)
    assert isinstance(loaded["scheduler"]["milestones"], Counter)
    assert list(loaded["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints


def test_a_resumed_run_equals_an_uninterrupted_one_bit_for_bit(tmp_path):
    model, optimizer, scheduler = model_and_training(0)
    train(model, optimizer, scheduler, 4)
    path = tmp_path / "run.safetensors"
    save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path)  # fmt: skip
    train(model, optimizer, scheduler, 4)

    resumed, resumed_optimizer, resumed_scheduler = model_and_training(10)  # other weights
    checkpoint = load_checkpoint(path)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed_scheduler.load_state_dict(checkpoint["scheduler"])
    train(resumed, resumed_optimizer, resumed_scheduler, 4)
    for p, q in zip(model.parameters(), resumed.parameters()):
        assert np.array_equal(p.data, q.data)
    assert resumed_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"] == 0.0125


def test_pytorch_reads_the_model_from_a_checkpoint(tmp_path):
    torch = require_torch()
    import safetensors.torch

    model, optimizer, scheduler = model_and_training(0)
    train(model, optimizer, scheduler, 2)
    path = tmp_path / "run.safetensors"
    save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    tensors = safetensors.torch.load_file(str(path))
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)).double()
    net.load_state_dict(
        {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True
    )
    x = np.random.default_rng(1).normal(size=(5, 3))
    assert close_to_torch(model(mg.tensor(x)).data, net(torch.from_numpy(x)).detach().numpy())
    assert tensors["optimizer.state.0.exp_avg"].shape == (8, 3)


plain = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=8)
)
arrays = hnp.arrays(
    st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_]),
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),  # fmt: skip
)
keys = st.text(alphabet="abc_", min_size=1, max_size=4) | st.integers(0, 50)
nested = st.recursive(
    plain | arrays,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(alphabet="xyz", min_size=1, max_size=3), nested, max_size=4))
def test_any_checkpoint_of_arrays_and_plain_values_comes_back_equal(tmp_path_factory, checkpoint):
    path = tmp_path_factory.mktemp("c") / "c.safetensors"
    try:
        save_checkpoint(checkpoint, path)
    except ValueError as error:  # two keys that join to one dotted name: refused, never mixed up
        assert "an array cannot be stored as" in str(error)
        return
    assert same(load_checkpoint(path), checkpoint)


@pytest.mark.parametrize(
    ("checkpoint", "error", "says"),
    [
        ([1, 2], TypeError, "takes a dict, got list"),
        ({"w": mg.tensor([1.0])}, TypeError, "the value at 'w' is a Tensor"),
        ({"m": {"f": print}}, TypeError, "the value at 'm.f' is a builtin_function_or_method"),
        ({"z": np.array([1j])}, TypeError, "the array at 'z' holds complex128"),
        ({"k": {1.5: 0}}, TypeError, "the key 1.5 at 'k'"),
        ({"k": {True: 0}}, TypeError, "the key True at 'k'"),
        ({"a.b": np.zeros(1), "a": {"b": np.ones(1)}}, ValueError, "an array cannot be stored as 'a.b'"),
        ({"__metadata__": np.zeros(1)}, ValueError, "an array cannot be stored as '__metadata__'"),
        (
            {"m": np.ma.masked_array([1.0, 2.0], mask=[True, False])},
            TypeError,
            "the value at 'm' is a MaskedArray",
        ),
    ],
)
def test_what_a_checkpoint_cannot_hold_is_refused_and_leaves_the_file(tmp_path, checkpoint, error, says):
    path = tmp_path / "run.safetensors"
    save_checkpoint({"epoch": 1}, path)
    with pytest.raises(error, match=says.replace("(", r"\(").replace(".", r"\.")):
        save_checkpoint(checkpoint, path)
    assert load_checkpoint(path) == {"epoch": 1}


def test_a_checkpoint_is_a_safetensors_file(tmp_path):
    with pytest.raises(ValueError, match=r"end the path .*run\.npz.* with \.safetensors"):
        save_checkpoint({"epoch": 1}, tmp_path / "run.npz")


def _file_with(tmp_path: Any, structure: Any, arrays: dict[str, np.ndarray]) -> Any:
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(safetensors.numpy.save(arrays, metadata={STRUCTURE_KEY: json.dumps(structure)}))
    return path


@pytest.mark.parametrize(
    ("structure", "arrays"),
    [
        ({"dict": [["a", {"array": "x"}], ["b", {"array": "x"}]]}, {"x": np.zeros(2)}),  # one array twice
        ({"dict": [["a", 1]]}, {"x": np.zeros(2)}),  # an array no entry names
        ({"dict": [["a", {"array": "y"}]]}, {"x": np.zeros(2)}),  # a name that is not in the file
        ({"dict": [["a", 1], ["a", 2]]}, {}),  # a key twice
        ({"set": [1, 2]}, {}),  # a tag save_checkpoint never writes
        ({"dict": [["a", [1, 2]]]}, {}),  # a bare JSON list
        ({"list": [1]}, {}),  # not a dict at the top
        ({"dict": [[1.5, 0]]}, {}),  # a float key
        ({"dict": [["a", {"array": ["x"]}]]}, {"x": np.zeros(2)}),  # a name that is not a string
        ({"dict": [["a", {"array": "x"}]]}, {"x": np.zeros(2, np.complex64)}),  # not numbers
    ],
)
def test_metadata_that_save_checkpoint_never_writes_is_a_load_error(tmp_path, structure, arrays):
    with pytest.raises(LoadError):
        load_checkpoint(_file_with(tmp_path, structure, arrays))


def test_metadata_beyond_a_checkpoints_size_is_refused_unparsed(tmp_path, monkeypatch):
    from micrograd_plus import checkpoints

    path = _file_with(tmp_path, {"dict": [["note", "x" * 100]]}, {})
    assert load_checkpoint(path) == {"note": "x" * 100}
    monkeypatch.setattr(checkpoints, "MAX_STRUCTURE_BYTES", 99)
    with pytest.raises(LoadError, match="of at most 16 MiB"):
        load_checkpoint(path)


def test_a_tensor_numpy_cannot_hold_is_named(tmp_path):
    torch = require_torch()
    import safetensors.torch

    path = tmp_path / "bf16.safetensors"
    safetensors.torch.save_file(
        {"x": torch.zeros(2, dtype=torch.bfloat16)}, str(path), metadata={STRUCTURE_KEY: "{}"}
    )
    with pytest.raises(LoadError, match="a tensor of dtype BF16, which numpy lacks"):
        load_checkpoint(path)


@pytest.mark.parametrize("max_bytes", ["x", True, 1.5])
def test_max_bytes_is_a_whole_number(tmp_path, max_bytes):
    save_checkpoint({"epoch": 1}, tmp_path / "run.safetensors")
    with pytest.raises(TypeError, match="max_bytes must be a whole number"):
        load_checkpoint(tmp_path / "run.safetensors", max_bytes=max_bytes)
    with pytest.raises(ValueError, match=r"load_checkpoint\(\): max_bytes must be >= 0, got -1"):
        load_checkpoint(tmp_path / "run.safetensors", max_bytes=-1)


def test_other_files_are_load_errors(tmp_path):
    model = mg.Sequential(mg.Linear(2, 2, seed=0))
    mg.save(model, tmp_path / "model.safetensors")  # a model file, not a checkpoint
    with pytest.raises(LoadError, match="not a checkpoint written by save_checkpoint"):
        load_checkpoint(tmp_path / "model.safetensors")
    save_checkpoint({"model": model.state_dict()}, tmp_path / "run.safetensors")
    content = (tmp_path / "run.safetensors").read_bytes()
    with pytest.raises(LoadError, match="larger than max_bytes=100"):
        load_checkpoint(tmp_path / "run.safetensors", max_bytes=100)
    for cut in range(0, len(content), 7):  # every truncation
        (tmp_path / "cut.safetensors").write_bytes(content[:cut])
        with pytest.raises(LoadError):
            load_checkpoint(tmp_path / "cut.safetensors")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_a_load_error_and_nothing_else(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("r") / "r.safetensors"
    path.write_bytes(content)
    with pytest.raises(LoadError):
        load_checkpoint(path)


_SAVED: dict[str, bytes] = {}


def _a_saved_checkpoint(tmp_path: Any) -> bytes:
    if not _SAVED:
        model, optimizer, scheduler = model_and_training(0)
        train(model, optimizer, scheduler, 1)
        save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1}, tmp_path / "c.safetensors")  # fmt: skip
        _SAVED["content"] = (tmp_path / "c.safetensors").read_bytes()
    return _SAVED["content"]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_damaged_checkpoint_loads_as_a_dict_or_is_a_load_error(tmp_path_factory, data):
    """Bytes of a real checkpoint overwritten anywhere (header, metadata or numbers): a byte
    inside an array's numbers changes a number, anything else is a LoadError, never another error."""
    folder = tmp_path_factory.mktemp("d")
    content = bytearray(_a_saved_checkpoint(folder))
    for _ in range(data.draw(st.integers(1, 4))):
        content[data.draw(st.integers(0, len(content) - 1))] = data.draw(st.integers(0, 255))
    (folder / "d.safetensors").write_bytes(bytes(content))
    try:
        assert isinstance(load_checkpoint(folder / "d.safetensors"), dict)
    except LoadError:
        pass


def test_a_file_name_near_the_file_systems_limit_is_written(tmp_path):
    """The temporary file beside it takes only the name's start: 252 bytes of name still work."""
    path = tmp_path / ("r" * 240 + ".safetensors")
    save_checkpoint({"epoch": 1}, path)
    mg.save(mg.Sequential(mg.Linear(1, 1, seed=0)), path)  # io.save writes through the same helper
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
