"""PyTorch's habit `torch.save(net.state_dict(), PATH)` / `net.load_state_dict(torch.load(PATH))`:
`save` takes a state dict and `load(path)` gives one back, in both formats, exchanged with
PyTorch through safetensors both ways; what is not a flat dict of arrays (an optimizer's state,
nested dicts) is refused naming `save_checkpoint`, and each kind of file names its reader."""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
from conftest import close_to_torch, require_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import LoadError, load, load_checkpoint, save, save_checkpoint
from micrograd_plus.optim import SGD, Adam

FORMATS = [".npz", ".safetensors"]
formats = pytest.mark.parametrize("suffix", FORMATS)


def model(seed: int) -> mg.Sequential:
    """Linear layers and a BatchNorm (its int64 `num_batches_tracked` is a buffer of shape [])."""
    return mg.Sequential(
        mg.Linear(3, 4, seed=seed), mg.BatchNorm1d(4), mg.ReLU(), mg.Linear(4, 2, seed=seed + 1)
    )


def trained(seed: int) -> mg.Sequential:
    net = model(seed)
    net(mg.tensor(np.random.default_rng(seed).normal(size=(8, 3))))  # moves the running statistics
    return net


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same names, and per name the same dtype, shape and bits."""
    a = {k: np.asarray(v) for k, v in a.items()}
    b = {k: np.asarray(v) for k, v in b.items()}
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes() for k in a
    )


# -- the habit, both formats -------------------------------------------------------------------------


@formats
def test_a_state_dict_saved_loads_into_a_model_of_the_same_shape(tmp_path, suffix):
    net = trained(0)
    PATH = tmp_path / ("net" + suffix)  # noqa: N806 (the tutorials' name)
    save(net.state_dict(), PATH)
    other = model(5)
    assert not same_state(other.state_dict(), net.state_dict())
    other.load_state_dict(load(PATH))
    assert same_state(other.state_dict(), net.state_dict())
    assert other.state_dict()["1.num_batches_tracked"].dtype == np.int64
    x = mg.tensor(np.random.default_rng(1).normal(size=(5, 3)))
    net.eval(), other.eval()
    assert np.array_equal(net(x).data, other(x).data)


@formats
def test_the_file_is_the_one_save_of_the_model_writes(tmp_path, suffix):
    """`save(net.state_dict(), p)` and `save(net, p)` write the same entries, so either loads
    either way: `load(model, path)` and `model.load_state_dict(load(path))`."""
    net = trained(0)
    save(net.state_dict(), tmp_path / ("a" + suffix))
    save(net, tmp_path / ("b" + suffix))
    assert same_state(load(tmp_path / ("a" + suffix)), load(tmp_path / ("b" + suffix)))
    other = model(7)
    load(other, tmp_path / ("a" + suffix))
    assert same_state(other.state_dict(), net.state_dict())


@formats
def test_a_value_mlps_numbers_come_back_as_0d_arrays_that_load(tmp_path, suffix):
    mlp = mg.MLP(2, [3, 1], seed=0)
    save(mlp.state_dict(), tmp_path / ("mlp" + suffix))
    state = load(tmp_path / ("mlp" + suffix))
    assert all(a.shape == () and a.dtype == np.float64 for a in state.values())
    other = mg.MLP(2, [3, 1], seed=1)
    other.load_state_dict(state)
    assert [p.data for p in other.parameters()] == [p.data for p in mlp.parameters()]


@formats
def test_tensors_in_the_dict_are_saved_as_their_arrays(tmp_path, suffix):
    w = mg.randn(3, 2, requires_grad=True, dtype=np.float32)
    save({"w": w, "b": mg.tensor([1.0, 2.0]), "n": 3, "x": 0.5}, tmp_path / ("t" + suffix))
    state = load(tmp_path / ("t" + suffix))
    assert same_state(state, {"w": w.data, "b": np.array([1.0, 2.0]), "n": np.array(3), "x": np.array(0.5)})


names = st.text(alphabet="ab._0", min_size=1, max_size=6).filter(lambda n: n != "__metadata__")
state_dicts = st.dictionaries(
    names,
    hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
        elements={"allow_nan": True, "allow_infinity": True},
    ),
    max_size=5,
)


@settings(max_examples=80, deadline=None)
@given(suffix=st.sampled_from(FORMATS), state=state_dicts)
def test_any_dict_of_float_arrays_comes_back_bit_for_bit_and_writable(tmp_path_factory, suffix, state):
    path = tmp_path_factory.mktemp("s") / ("s" + suffix)
    save(state, path)
    back = load(path)
    assert same_state(back, state)
    for array in back.values():
        array[...] = 0  # the caller's own copy, as state_dict() gives
    assert same_state(load(path), state)


@formats
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, np.bool_, ">f8"])
def test_integers_bools_and_other_byte_orders_come_back_native(tmp_path, suffix, dtype):
    array = np.arange(6).reshape(2, 3).astype(dtype)
    save({"a": array}, tmp_path / ("a" + suffix))
    back = load(tmp_path / ("a" + suffix))["a"]
    assert back.dtype == np.dtype(dtype).newbyteorder("=") and np.array_equal(back, array)


# -- PyTorch, both ways ------------------------------------------------------------------------------


def torch_twin(torch: Any) -> Any:
    nn = torch.nn
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()


def test_pytorch_reads_a_saved_state_dict_with_safetensors_and_loads_it_strictly(tmp_path):
    torch = require_torch()
    import safetensors.torch

    net = trained(0)
    save(net.state_dict(), tmp_path / "net.safetensors")
    tensors = safetensors.torch.load_file(str(tmp_path / "net.safetensors"))
    theirs = torch_twin(torch)
    theirs.load_state_dict(tensors, strict=True)
    assert tensors["1.num_batches_tracked"].dtype == torch.int64
    x = np.random.default_rng(2).normal(size=(5, 3))
    net.eval(), theirs.eval()
    assert close_to_torch(net(mg.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy())


def test_a_pytorch_state_dict_written_by_save_file_loads_here(tmp_path):
    torch = require_torch()
    import safetensors.torch

    torch.manual_seed(0)
    theirs = torch_twin(torch)
    theirs(torch.randn(8, 3))  # moves the running statistics
    safetensors.torch.save_file(theirs.state_dict(), str(tmp_path / "theirs.safetensors"))
    state = load(tmp_path / "theirs.safetensors")
    assert state.keys() == theirs.state_dict().keys()
    net = model(3)
    net.load_state_dict(state)
    x = np.random.default_rng(3).normal(size=(5, 3))
    net.eval(), theirs.eval()
    assert close_to_torch(net(mg.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy())


@settings(max_examples=40, deadline=None)
@given(state=state_dicts)
def test_any_dict_of_float_arrays_crosses_to_pytorch_and_back_bit_for_bit(tmp_path_factory, state):
    torch = require_torch()
    import safetensors.torch

    folder = tmp_path_factory.mktemp("t")
    save(state, folder / "ours.safetensors")
    tensors = safetensors.torch.load_file(str(folder / "ours.safetensors"))
    assert same_state({k: t.numpy() for k, t in tensors.items()}, state)
    safetensors.torch.save_file(
        {k: torch.from_numpy(a) for k, a in state.items()}, str(folder / "theirs.safetensors")
    )
    assert same_state(load(folder / "theirs.safetensors"), state)


# -- what a state dict cannot hold, and which function reads which file ------------------------------


def _optimizer_state() -> dict:
    net = model(0)
    optimizer = Adam(net.parameters(), lr=0.1)
    net(mg.tensor(np.ones((4, 3)))).sum().backward()
    optimizer.step()
    return optimizer.state_dict()


@pytest.mark.parametrize(
    "given_obj, says",
    [
        ([np.ones((40, 40))], r"takes a Module \(such as an MLP\) or a state dict .*, got list: \[array"),
        ("net.pt", r"got str: 'net.pt'"),
        (_optimizer_state(), r"an optimizer's state_dict\(\).*use save_checkpoint\(obj, path\)"),
        (
            {"model": {"w": np.ones((40, 40))}},
            r"the entry 'model' is of type dict: \{'w': array.*use save_checkpoint",
        ),
        ({"w": [1.0, 2.0]}, r"the entry 'w' is of type list: \[1.0, 2.0\]; use save_checkpoint"),
        ({"note": "hello"}, r"the entry 'note' is of type str"),
        ({"w": None}, r"the entry 'w' is of type NoneType"),
        ({3: np.ones(2)}, r"keys are parameter names .*got 3; for other keys use save_checkpoint"),
        ({"": np.ones(2)}, r"keys are parameter names .*got ''"),
        ({"__metadata__": np.ones(2)}, r"other than '__metadata__'"),
        ({"w": np.ones((40, 40), dtype=complex)}, r"the entry 'w' holds complex128, not numbers"),
        ({"w": np.array(["a"])}, r"the entry 'w' holds <U1, not numbers"),
        ({"w": np.array([None])}, r"the entry 'w' holds object, not numbers"),
    ],
)
@formats
def test_what_a_state_dict_cannot_hold_is_refused_in_one_short_line(tmp_path, suffix, given_obj, says):
    with pytest.raises(TypeError, match=says) as error:
        save(given_obj, tmp_path / ("x" + suffix))
    text = str(error.value)
    assert "\n" not in text and len(text) < 400, text
    assert list(tmp_path.iterdir()) == []


def test_an_optimizers_state_goes_in_a_checkpoint_as_the_error_says(tmp_path):
    net = model(0)
    optimizer = SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(mg.tensor(np.ones((4, 3)))).sum().backward()
    optimizer.step()
    save_checkpoint(optimizer.state_dict(), tmp_path / "optimizer.safetensors")
    other = SGD(model(1).parameters(), lr=0.5)
    other.load_state_dict(load_checkpoint(tmp_path / "optimizer.safetensors"))
    assert other.param_groups[0]["momentum"] == 0.9
    assert same_state(
        {str(k): v["momentum_buffer"] for k, v in other.state_dict()["state"].items()},
        {str(k): v["momentum_buffer"] for k, v in optimizer.state_dict()["state"].items()},
    )


def test_a_checkpoint_is_refused_by_load_naming_load_checkpoint(tmp_path):
    net = model(0)
    path = tmp_path / "run.safetensors"
    save_checkpoint({"model": net.state_dict(), "epoch": 3}, path)
    with pytest.raises(
        LoadError, match=r"is a checkpoint written by save_checkpoint\(\).*load_checkpoint\(path\)"
    ):
        load(path)
    with pytest.raises(
        LoadError, match=r"is a checkpoint written by save_checkpoint\(\).*load_checkpoint\(path\)"
    ):
        load(net, path)
    # a checkpoint with an optimizer's state is larger than the model's file can be: still named
    save_checkpoint(
        {"model": net.state_dict(), "optimizer": _optimizer_state(), "pad": np.zeros(100_000)}, path
    )
    with pytest.raises(LoadError, match=r"is a checkpoint written by save_checkpoint\(\)"):
        load(net, path)
    assert load_checkpoint(path)["model"].keys() == net.state_dict().keys()


@formats
def test_a_state_dicts_file_is_refused_by_load_checkpoint_naming_load(tmp_path, suffix):
    path = tmp_path / ("net" + suffix)
    save(model(0).state_dict(), path)
    with pytest.raises(
        LoadError,
        match=r"not a checkpoint written by save_checkpoint\(\).*load\(path\) or load\(model, path\)",
    ):
        load_checkpoint(path)


def test_load_without_a_file_or_with_a_bound_and_a_model_is_a_type_error(tmp_path):
    net = model(0)
    save(net, tmp_path / "net.npz")
    with pytest.raises(TypeError, match=r"load\(\) got a Sequential and no file: load\(model, path\)"):
        load(net)
    with pytest.raises(TypeError, match="takes no max_bytes"):
        load(net, tmp_path / "net.npz", max_bytes=10)
    with pytest.raises(
        TypeError, match=r"takes a Module \(such as an MLP\) and a path, or a path alone, got str"
    ):
        load(str(tmp_path / "net.npz"), tmp_path / "net.npz")
    for bad in (1.5, True, "10"):
        with pytest.raises(TypeError, match="max_bytes must be a whole number of bytes"):
            load(tmp_path / "net.npz", max_bytes=bad)
    with pytest.raises(ValueError, match=r"load\(\): max_bytes must be >= 0, got -1"):
        load(tmp_path / "net.npz", max_bytes=-1)


@formats
def test_load_without_a_model_reads_at_most_max_bytes(tmp_path, suffix):
    path = tmp_path / ("big" + suffix)
    save({"w": np.zeros(1000)}, path)
    size = path.stat().st_size
    assert load(path, max_bytes=size)["w"].shape == (1000,)
    with pytest.raises(LoadError, match=rf"larger than max_bytes={size - 1}: pass a larger max_bytes"):
        load(path, max_bytes=size - 1)


def test_a_compressed_archive_expanding_beyond_max_bytes_is_refused_before_expanding(tmp_path):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, w=np.zeros(1_000_000))  # 8 MB of zeros in a few KB
    assert path.stat().st_size < 100_000
    with pytest.raises(LoadError, match=r"expands to \d+ bytes, more than max_bytes=100000"):
        load(path, max_bytes=100_000)
    assert load(path)["w"].shape == (1_000_000,)


EXECUTED: list[str] = []  # what a pickle in a file ran, if load ever unpickled it


class _Exploit:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (EXECUTED.append, ("pickle ran code from the file",))


def test_non_numbers_and_pickles_in_a_file_are_refused_without_running_anything(tmp_path):
    np.savez(tmp_path / "text.npz", names=np.array(["a", "b"]))
    with pytest.raises(LoadError, match=r"entry 'names' holds <U1, not numbers \(bool, int or float\)"):
        load(tmp_path / "text.npz")
    np.savez(tmp_path / "objects.npz", w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(LoadError, match="not numbers"):
        load(tmp_path / "objects.npz")
    (tmp_path / "net.pt").write_bytes(pickle.dumps({"w": _Exploit()}))
    with pytest.raises(LoadError, match="pickled data, which load"):
        load(tmp_path / "net.pt")
    assert EXECUTED == []
    with warnings.catch_warnings(), zipfile.ZipFile(tmp_path / "twice.npz", "w") as archive:
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name"
        for _ in range(2):
            with archive.open("w.npy", "w") as member:
                np.lib.format.write_array(member, np.ones(2))
    with pytest.raises(LoadError, match="more than once"):
        load(tmp_path / "twice.npz")


@settings(max_examples=150, deadline=None)
@given(suffix=st.sampled_from(FORMATS), content=st.binary(max_size=300))
def test_random_bytes_are_a_load_error_and_nothing_else(tmp_path_factory, suffix, content):
    path = tmp_path_factory.mktemp("r") / ("r" + suffix)
    path.write_bytes(content)
    with pytest.raises(LoadError):
        load(path)


@settings(max_examples=60, deadline=None)
@given(state=state_dicts, data=st.data())
def test_every_truncation_of_a_file_is_a_load_error(tmp_path_factory, state, data):
    content = safetensors.numpy.save(state)
    cut = data.draw(st.integers(0, len(content) - 1))
    path = tmp_path_factory.mktemp("c") / "c.safetensors"
    path.write_bytes(content[:cut])
    with pytest.raises(LoadError):
        load(path)


# --- PyTorch's load options, the argument names, the order, torch.save's files --------------------


@formats
def test_the_tutorials_load_call_with_weights_only_and_map_location_works(tmp_path, suffix):
    torch = require_torch()
    net, path = trained(0), tmp_path / ("net" + suffix)
    save(net.state_dict(), path)
    expected = net.state_dict()
    for options in (
        {"weights_only": True},
        {"weights_only": None},
        {"map_location": "cpu"},
        {"map_location": mg.device("cpu")},
        {"map_location": torch.device("cpu"), "weights_only": True},
    ):
        state = load(path, **options)
        assert list(state) == list(expected) and all((state[k] == v).all() for k, v in expected.items())
    with pytest.raises(ValueError, match=r"weights_only=False\): .*never unpickles.*weights_only=True"):
        load(path, weights_only=False)
    with pytest.raises(TypeError, match="weights_only must be True or False, got str: 'yes'"):
        load(path, weights_only="yes")  # type: ignore[call-overload]
    for device in ("cuda", mg.device("cuda", 0), "cpu:1", 3):
        with pytest.raises(ValueError, match=r"map_location=.*loaded on the CPU.*map_location=\"cpu\""):
            load(path, map_location=device)


def test_load_takes_the_path_by_keyword_and_the_model_as_before(tmp_path):
    net, path = trained(0), tmp_path / "w.pt"
    save(net, path)
    assert list(load(path=path)) == list(load(f=path)) == list(load(path)) == list(net.state_dict())
    for call in (
        lambda other: load(other, path),
        lambda other: load(module=other, path=path),  # the keywords load() had before
        lambda other: load(path=path, module=other),
        lambda other: load(other, path=path),
    ):
        other = model(5)
        assert call(other) is None
        assert all((other.state_dict()[k] == v).all() for k, v in net.state_dict().items())
    with pytest.raises(TypeError, match="load\\(\\) needs a file"):
        load()  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="load\\(\\) got two models"):
        load(model(1), path, module=model(2))  # type: ignore[call-overload]


def _safetensors_keys_in_a_new_process(path: Any) -> list[str]:
    import json
    import subprocess
    import sys

    code = f"import json, micrograd_plus as mg; print(json.dumps(list(mg.load({str(path)!r}))))"
    here = Path(mg.__file__).parents[1]  # (this checkout's package, not an installed one)
    run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=here)
    return json.loads(run.stdout)


@settings(max_examples=40, deadline=None)
@given(st.permutations([f"k{i}" for i in range(12)] + ["b", "a.w", "z", "0.bias"]), st.integers(0, 3))
def test_load_gives_the_entries_in_the_saved_order(tmp_path_factory, names, dtypes):
    path = tmp_path_factory.mktemp("order") / "x.safetensors"
    kinds = [np.float32, np.float64, np.int64, np.bool_]
    state = {name: np.zeros(i % 3 + 1, kinds[(i + dtypes) % 4]) for i, name in enumerate(names)}
    save(state, path)
    assert list(load(path)) == names  # whatever the dtypes (the data is laid out by dtype, then name)


def test_the_order_is_the_state_dicts_in_every_process_as_torch_loads_it(tmp_path):
    torch = require_torch()
    net = mg.Sequential(*[mg.Linear(2, 2) for _ in range(12)], mg.BatchNorm1d(2))
    path = tmp_path / "net.safetensors"
    save(net, path)
    keys = list(net.state_dict())
    assert [_safetensors_keys_in_a_new_process(path) for _ in range(3)] == [keys] * 3
    torch.save({k: torch.tensor(v) for k, v in net.state_dict().items()}, tmp_path / "net.pt")
    assert list(torch.load(tmp_path / "net.pt", weights_only=True)) == keys


def test_a_safetensors_file_from_elsewhere_comes_in_the_order_of_its_data(tmp_path):
    path = tmp_path / "x.safetensors"
    safetensors.numpy.save_file({"b": np.ones(2), "a": np.ones(3), "c": np.ones(1, np.float32)}, path)
    loaded = load(path)
    header_order = sorted(
        loaded, key=lambda k: mg.io.safetensors_header(path.read_bytes())[k]["data_offsets"][0]
    )
    assert list(loaded) == header_order and sorted(loaded) == ["a", "b", "c"]


def test_a_file_written_by_torch_save_is_named_and_never_unpickled(tmp_path, monkeypatch):
    torch = require_torch()
    path = tmp_path / "net.pt"
    torch.save(torch.nn.Linear(2, 3).state_dict(), path)
    monkeypatch.setattr(pickle, "loads", None)  # any unpickling would fail
    monkeypatch.setattr(pickle, "Unpickler", None)
    says = r"written by torch.save\(\), a pickle, which micrograd_plus never loads.*save_file\(model.state_dict\(\), \"model.safetensors\"\)"
    with pytest.raises(LoadError, match=says):
        load(path)
    with pytest.raises(LoadError, match=says):
        load(mg.Linear(2, 3), path)
    with pytest.raises(LoadError, match=says):
        load_checkpoint(path)
    with pytest.raises(
        LoadError, match="is not an .npy array"
    ) as error:  # a zip without data.pkl: not torch's
        zipfile.ZipFile(tmp_path / "other.npz", "w").writestr("notes.txt", "hi")
        load(tmp_path / "other.npz")
    assert "torch.save" not in str(error.value)


@formats
def test_bools_save_as_numpys_and_a_parameter_called_state_is_no_optimizer(tmp_path, suffix):
    path = tmp_path / ("x" + suffix)
    save({"flag": True, "np_flag": np.bool_(False)}, path)
    loaded = load(path)
    assert loaded["flag"].dtype == loaded["np_flag"].dtype == np.bool_ and loaded["flag"].shape == ()
    assert bool(loaded["flag"]) and not bool(loaded["np_flag"])

    class Odd(mg.nn.Module):
        def __init__(self) -> None:
            self.state = mg.Parameter(mg.tensor(np.ones(2)))
            self.param_groups = mg.Parameter(mg.tensor(np.zeros(1)))

    save(Odd().state_dict(), path)
    assert list(load(path)) == ["state", "param_groups"]


def test_a_fortran_order_member_loads_c_contiguous_and_what_load_gives_is_writable(tmp_path):
    path = tmp_path / "f.npz"
    data = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.savez(path, w=data, big=np.arange(3, dtype=">i4"))
    loaded = load(path)
    assert loaded["w"].flags.c_contiguous and (loaded["w"] == data).all()
    assert (
        loaded["big"].dtype == np.int32
        and loaded["big"].dtype.isnative
        and (loaded["big"] == [0, 1, 2]).all()
    )
    assert all(a.flags.writeable for a in loaded.values())


def test_only_what_can_be_a_safetensors_header_is_parsed_for_a_checkpoints_mark(tmp_path, monkeypatch):
    parsed = []
    real = mg.io.safetensors_header
    monkeypatch.setattr(
        mg.io, "safetensors_header", lambda content, **kw: parsed.append(1) or real(content, **kw)
    )
    net = trained(0)
    for suffix in FORMATS:
        save(net, tmp_path / ("net" + suffix))
    load(tmp_path / "net.npz")
    load(model(1), tmp_path / "net.npz")
    assert parsed == []  # a zip starts with "PK\x03\x04...": no header length, no "{"
    load(tmp_path / "net.safetensors")
    assert parsed
