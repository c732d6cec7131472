"""save()/load(): .npz and .safetensors files read without pickle, validated names, shapes and
dtypes, memory bounded by the module, atomic writes; and the hand-off to and from PyTorch."""

from __future__ import annotations

import io
import json
import math
import os
import pathlib
import pickle
import re
import struct
import tempfile
import threading
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
import safetensors.numpy
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus.io as mio
from micrograd_plus import MLP, Linear, LoadError, Module, Tensor, Value, load, save

# Set by `_Exploit` if pickle ever ran it: loading must never execute code from a file.
EXECUTED: list[str] = []


def _mark_executed(what: str) -> str:
    EXECUTED.append(what)
    return what


class _Exploit:
    def __reduce__(self):
        return (_mark_executed, ("pickle ran code from the file",))


def raw_state(model: Module) -> list[bytes]:
    """Every parameter's exact bits (nan-safe, -0.0-safe equality)."""
    return [struct.pack("<d", p.data) for p in model.parameters()]


# The suffix picks the format: every test marked `formats` runs for both.
FORMATS = [".npz", ".safetensors"]
formats = pytest.mark.parametrize("suffix", FORMATS)


def saved_bytes(model: Module, suffix: str = ".npz") -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model" + suffix)
        save(model, path)
        with open(path, "rb") as file:
            return file.read()


def load_bytes(model: Module, content: bytes, suffix: str = ".npz") -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "given" + suffix)
        with open(path, "wb") as file:
            file.write(content)
        load(model, path)


def encode(state: dict[str, np.ndarray], suffix: str) -> bytes:
    """`state` as another program writes it: np.savez, or safetensors' own writer."""
    if suffix == ".safetensors":
        return safetensors.numpy.save(state)
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    return buffer.getvalue()


def value_state(model: Module) -> dict[str, np.ndarray]:
    return {name: np.asarray(p.data) for name, p in model.named_parameters()}


# -- round trip ------------------------------------------------------------------------------

sizes = st.lists(st.integers(1, 4), min_size=1, max_size=3)
any_float = st.floats(allow_nan=True, allow_infinity=True)


@formats
@given(nin=st.integers(1, 4), nouts=sizes, values=st.data())
def test_round_trip_restores_every_parameter_bit_for_bit(suffix, nin, nouts, values):
    model = MLP(nin, nouts, seed=0)
    for p in model.parameters():
        p.data = values.draw(any_float)
    other = MLP(nin, nouts, seed=1)
    load_bytes(other, saved_bytes(model, suffix), suffix)
    assert raw_state(other) == raw_state(model)
    assert [name for name, _ in other.named_parameters()] == [name for name, _ in model.named_parameters()]


def test_the_file_is_a_plain_npz_archive_that_numpy_reads_without_pickle(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    path = tmp_path / "model.npz"
    save(model, path)  # a pathlib.Path works as well as a str
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == [name for name, _ in model.named_parameters()]
        for name, p in model.named_parameters():
            assert archive[name].shape == () and archive[name].dtype == np.float64
            assert float(archive[name]) == p.data


def test_the_path_is_used_as_given_and_a_previous_file_is_replaced(tmp_path):
    path = tmp_path / "weights.bin"
    save(MLP(1, [1], seed=0), str(path))
    first = path.read_bytes()
    model = MLP(1, [1], seed=1)
    save(model, str(path))
    assert path.read_bytes() != first and os.listdir(tmp_path) == ["weights.bin"]
    restored = MLP(1, [1], seed=0)
    load(restored, path)
    assert raw_state(restored) == raw_state(model)


def test_a_parameter_named_like_a_numpy_keyword_round_trips(tmp_path):
    class Odd(Module):
        def __init__(self):
            self.file = Value(1.5)
            self.allow_pickle = Value(-2.5)

    path = tmp_path / "odd.npz"
    save(Odd(), path)
    fresh = Odd()
    fresh.file.data = fresh.allow_pickle.data = 0.0
    load(fresh, path)
    assert (fresh.file.data, fresh.allow_pickle.data) == (1.5, -2.5)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_tied_weights_round_trip_under_each_name(tmp_path, suffix):
    """A weight held twice is in the state dict under both names (as PyTorch's); the file keeps
    both, where torch's safetensors save_file refuses tensors that share memory."""

    class Tied(Module):
        def __init__(self):
            self.emb = Linear(3, 4, seed=0)
            self.out = Linear(3, 4, seed=2)
            self.out.weight = self.emb.weight  # the same parameter

    model = Tied()
    path = tmp_path / f"tied{suffix}"
    save(model, path)
    assert list(load(path)) == ["emb.weight", "emb.bias", "out.weight", "out.bias"]
    fresh = Tied()
    fresh.emb.weight.data[:] = 0.0
    load(fresh, path)
    assert fresh.out.weight is fresh.emb.weight and np.array_equal(
        fresh.emb.weight.data, model.emb.weight.data
    )
    shared = np.arange(3.0)  # one array under two names in a state dict given as it is
    save({"a": shared, "b": shared}, path)
    assert all(np.array_equal(v, shared) for v in load(path).values()) and list(load(path)) == ["a", "b"]


def test_saved_file_permissions_follow_the_umask_like_open(tmp_path):
    save(MLP(1, [1], seed=0), tmp_path / "model.npz")
    (tmp_path / "reference").write_bytes(b"")
    assert (tmp_path / "model.npz").stat().st_mode == (tmp_path / "reference").stat().st_mode


# -- atomic writes ---------------------------------------------------------------------------


@pytest.mark.parametrize("interruption", [OSError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_save_leaves_the_previous_file_intact_and_no_temporary(
    tmp_path, monkeypatch, interruption
):
    path = tmp_path / "model.npz"
    save(MLP(2, [2, 1], seed=0), path)
    before = path.read_bytes()

    def write_half_then_fail(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise interruption

    monkeypatch.setattr(mio, "_write_archive", write_half_then_fail)
    with pytest.raises(type(interruption)):
        save(MLP(2, [2, 1], seed=1), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_the_temporary_file_is_in_the_same_folder_and_replaced_in_one_step(tmp_path, monkeypatch):
    calls = []
    real_replace = os.replace

    def recording_replace(src, dst):
        calls.append((src, dst, os.path.exists(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(mio.os, "replace", recording_replace)
    target = tmp_path / "model.npz"
    save(MLP(1, [1], seed=0), target)
    [(src, dst, _)] = calls
    assert os.path.dirname(src) == str(tmp_path) and dst == str(target) and src != dst


# -- files that are not valid parameter files: LoadError and nothing else ---------------------


@pytest.fixture
def model():
    return MLP(2, [2, 1], seed=0)


def assert_load_error_leaves_model_unchanged(
    model: Module, content: bytes, match: str | None = None, suffix: str = ".npz"
) -> LoadError:
    before = raw_state(model)
    with pytest.raises(LoadError, match=match) as info:
        load_bytes(model, content, suffix)
    assert raw_state(model) == before
    assert not EXECUTED
    return info.value


def test_load_error_is_a_value_error_and_the_docstring_promises_nothing_else():
    assert issubclass(LoadError, ValueError)
    doc = " ".join(load.__doc__.split())
    assert "allow_pickle=False" in doc
    assert (
        "Raises LoadError (a ValueError), and nothing else, for any file that is not a valid parameter file"
        in doc
    )
    for case in ("random bytes", "truncated or empty file", "pickled data", "wrong shapes"):
        assert case in doc


NOT_A_FILE = {
    ".npz": "is not a parameter file saved by micrograd_plus.save",
    ".safetensors": "is not a valid safetensors file: SafetensorError: Error while deserializing",
}


@formats
def test_empty_file(model, suffix):
    assert_load_error_leaves_model_unchanged(model, b"", match=NOT_A_FILE[suffix], suffix=suffix)


@formats
@given(content=st.binary(max_size=2000))
def test_random_bytes(suffix, content):
    assert_load_error_leaves_model_unchanged(MLP(2, [2, 1], seed=0), content, suffix=suffix)


@formats
@given(data=st.data())
def test_every_truncation_of_a_valid_file(suffix, data):
    model = MLP(2, [2, 1], seed=0)
    content = saved_bytes(MLP(2, [2, 1], seed=1), suffix)
    cut = data.draw(st.integers(0, len(content) - 1))
    assert_load_error_leaves_model_unchanged(model, content[:cut], suffix=suffix)


@formats
@given(data=st.data())
def test_a_corrupted_byte_is_caught_or_harmless(suffix, data):
    """A flipped byte is found (zip CRCs, headers, safetensors' offsets) or lands where it
    changes nothing that load() checks (a number's bits); either way only LoadError can come
    out, and a refused file leaves the model as it was."""
    content = bytearray(saved_bytes(MLP(2, [2, 1], seed=1), suffix))
    index = data.draw(st.integers(0, len(content) - 1))
    content[index] ^= data.draw(st.integers(1, 255))
    model = MLP(2, [2, 1], seed=0)
    before = raw_state(model)
    try:
        load_bytes(model, bytes(content), suffix)
    except LoadError:
        assert raw_state(model) == before


@formats
def test_a_pickle_is_refused_without_running_it(model, suffix):
    payload = pickle.dumps({"layers.0.neurons.0.w.0": _Exploit()})
    match = "pickled" if suffix == ".npz" else NOT_A_FILE[suffix]
    assert_load_error_leaves_model_unchanged(model, payload, match=match, suffix=suffix)


def test_an_npz_holding_a_pickled_object_array_is_refused_without_running_it(model):
    buffer = io.BytesIO()
    state = {name: np.asarray(p.data) for name, p in model.named_parameters()}
    exploit = np.empty((), dtype=object)
    exploit[()] = _Exploit()
    state["layers.0.neurons.0.b"] = exploit
    np.savez(buffer, **state)  # np.savez pickles object arrays
    assert_load_error_leaves_model_unchanged(
        model, buffer.getvalue(), match="entry 'layers.0.neurons.0.b' holds object, not real numbers"
    )


def test_a_single_npy_array_is_not_an_archive(model):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    assert_load_error_leaves_model_unchanged(
        model, buffer.getvalue(), match="single .npy array, not an .npz archive"
    )


@formats
def test_missing_and_unexpected_names_are_listed(model, suffix):
    state = value_state(model)
    del state["layers.1.neurons.0.b"]
    state["extra"] = np.asarray(1.0)
    assert_load_error_leaves_model_unchanged(
        model,
        encode(state, suffix),
        match=r"missing \['layers.1.neurons.0.b'\], unexpected \['extra'\]",
        suffix=suffix,
    )


@formats
def test_a_model_of_another_size_is_refused(model, suffix):
    assert_load_error_leaves_model_unchanged(
        model, saved_bytes(MLP(2, [3, 1], seed=0), suffix), match="another shape", suffix=suffix
    )


WRONG_ENTRIES = [
    (
        np.zeros(2),
        r"parameter 'layers.0.neurons.1.w.0' has shape \(2,\) in the file but \(\) in the module",
    ),
    (np.zeros((1, 1)), r"has shape \(1, 1\) in the file but \(\)"),
    (
        np.zeros(10**6),
        r"is larger than the 9 entries of this module can fill \(\d+ bytes at most\)",
    ),
    (np.asarray(True), r"holds bool, not real numbers"),
]


@pytest.mark.parametrize(
    "suffix, bad, match",
    [(suffix, bad, match) for suffix in FORMATS for bad, match in WRONG_ENTRIES]
    + [  # what only .npy can hold
        (".npz", np.asarray(1 + 2j), r"holds complex128, not real numbers"),
        (".npz", np.asarray(1 + 2j, dtype=np.complex64), r"holds complex64, not real numbers"),
        (".npz", np.asarray("1.0"), r"holds <U3, not real numbers"),
    ],
)
def test_wrong_shapes_and_kinds_are_refused_whole(model, suffix, bad, match):
    state = value_state(model)
    state["layers.0.neurons.1.w.0"] = bad
    assert_load_error_leaves_model_unchanged(model, encode(state, suffix), match=match, suffix=suffix)


def test_a_zip_member_that_is_not_npy_is_damage(model):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, _ in model.named_parameters():
            archive.writestr(f"{name}.npy", b"not an npy header")
    assert_load_error_leaves_model_unchanged(
        model,
        buffer.getvalue(),
        match="cannot be read, the file is damaged: ValueError: the magic string is not correct",
    )


@formats
def test_integer_arrays_are_accepted_as_numbers(model, suffix):
    state = {name: np.asarray(i, dtype=np.int32) for i, name in enumerate(value_state(model))}
    load_bytes(model, encode(state, suffix), suffix)
    assert [p.data for p in model.parameters()] == [float(i) for i in range(len(model.parameters()))]


# -- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("function", [save, load])
def test_bad_arguments(function, tmp_path):
    with pytest.raises(
        TypeError, match=rf"{function.__name__}\(\) takes a Module \(such as an MLP\) .*, got list: \[Value"
    ):
        function([Value(1.0)], tmp_path / "x.npz")
    with pytest.raises(
        TypeError, match=rf"{function.__name__}\(\) takes a file path \(str or os.PathLike\), got int"
    ):
        function(MLP(1, [1]), 3)
    with pytest.raises(TypeError, match="takes a str path, got bytes"):
        function(MLP(1, [1]), _BytesPath())
    with pytest.raises(ValueError, match="empty path"):
        function(MLP(1, [1]), "")


class _BytesPath(os.PathLike):
    def __fspath__(self):
        return b"model.npz"


def test_a_missing_file_or_folder_is_the_operating_systems_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(MLP(1, [1]), tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError):
        save(MLP(1, [1]), tmp_path / "no" / "such" / "folder.npz")
    with pytest.raises(IsADirectoryError):
        load(MLP(1, [1]), tmp_path)


# -- Tensor modules --------------------------------------------------------------------------


def tensor_model(seed: int, hidden: int = 3, dtype=None):
    from micrograd_plus.nn.layers import Linear, ReLU, Sequential

    return Sequential(
        Linear(2, hidden, seed=seed, dtype=dtype), ReLU(), Linear(hidden, 1, seed=seed + 1, dtype=dtype)
    )


def tensor_state(model: Module) -> list[tuple[str, str, bytes]]:
    return [(name, str(p.data.dtype), p.data.tobytes()) for name, p in model.named_parameters()]


@formats
@given(hidden=st.integers(1, 5), dtype=st.sampled_from(["float64", "float32"]), data=st.data())
def test_tensor_model_round_trip_keeps_bits_and_dtypes(suffix, hidden, dtype, data):
    model = tensor_model(0, hidden, dtype)
    width = 64 if dtype == "float64" else 32
    for p in model.parameters():
        values = data.draw(st.lists(st.floats(width=width), min_size=p.data.size, max_size=p.data.size))
        p.data = np.array(values, dtype=dtype).reshape(p.data.shape)
    other = tensor_model(7, hidden, dtype)
    load_bytes(other, saved_bytes(model, suffix), suffix)
    assert tensor_state(other) == tensor_state(model)
    assert [p.data.dtype for p in other.parameters()] == [np.dtype(dtype)] * 4


@formats
def test_tensor_names_follow_pytorch_and_shapes_are_checked(tmp_path, suffix):
    path = tmp_path / f"net{suffix}"
    save(tensor_model(0, hidden=3), path)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            assert archive.files == ["0.weight", "0.bias", "2.weight", "2.bias"]
            assert archive["0.weight"].shape == (3, 2)
    else:
        arrays = safetensors.numpy.load_file(path)
        assert sorted(arrays) == ["0.bias", "0.weight", "2.bias", "2.weight"]
        assert arrays["0.weight"].shape == (3, 2)
    other = tensor_model(1, hidden=4)
    before = tensor_state(other)
    with pytest.raises(
        LoadError, match=r"parameter '0.weight' has shape \(3, 2\) in the file but \(4, 2\) in the module"
    ):
        load(other, path)
    assert tensor_state(other) == before


@formats
def test_a_value_model_file_does_not_load_into_a_tensor_model(tmp_path, suffix):
    path = tmp_path / f"mlp{suffix}"
    save(MLP(2, [3, 1], seed=0), path)
    with pytest.raises(LoadError, match="missing"):
        load(tensor_model(0), path)


@formats
def test_a_very_different_model_gets_a_short_message(tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    save(MLP(2, [16, 16, 1], seed=0), path)
    with pytest.raises(LoadError) as info:
        load(MLP(2, [8, 1], seed=0), path)
    message = str(info.value)
    assert (
        "holds 337 parameters and does not fit the 33 of this module: missing none, unexpected [" in message
    )
    assert "... (299 more)]; was it saved from a model of another shape?" in message
    assert len(message) < 400


@formats
def test_a_convolutional_model_round_trips(tmp_path, suffix):
    from micrograd_plus.nn.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential

    def make(seed: int) -> Sequential:
        return Sequential(
            Conv2d(1, 2, 3, seed=seed), ReLU(), MaxPool2d(2), Flatten(), Linear(2 * 3 * 3, 3, seed=seed + 1)
        )

    model, other = make(0), make(5)
    path = tmp_path / f"cnn{suffix}"
    save(model, path)
    load(other, path)
    assert tensor_state(other) == tensor_state(model)
    x = Tensor(np.linspace(-1, 1, 2 * 8 * 8).reshape(2, 1, 8, 8))
    assert np.array_equal(other(x).data, model(x).data)


def test_a_crafted_header_declaring_a_huge_array_is_refused_before_reading(model):
    """Only the header is read: numpy never gets to allocate the terabytes it declares."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, p in model.named_parameters():
            member = io.BytesIO()
            if name == "layers.0.neurons.0.b":
                header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
                np.lib.format.write_array_header_1_0(member, header)
            else:
                np.lib.format.write_array(member, np.asarray(p.data))
            archive.writestr(f"{name}.npy", member.getvalue())
    assert_load_error_leaves_model_unchanged(
        model,
        buffer.getvalue(),
        match=r"parameter 'layers.0.neurons.0.b' has shape \(1000000000000,\) in the file but \(\) in the module",
    )


# -- zip members that do not match what was checked (issue 13) --------------------------------


def linear_state(seed: int) -> dict[str, np.ndarray]:
    return Linear(3, 4, seed=seed).state_dict()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def peak_memory(action) -> int:
    """The most memory Python and numpy held while `action` ran, in bytes (numpy's arrays
    are traced too), beyond what was held before."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def refuse_within_50_mb(model: Module, path: os.PathLike, match: str) -> None:
    def load_it():
        with pytest.raises(LoadError, match=match):
            load(model, path)

    before = tensor_state(model)
    assert peak_memory(load_it) < 50 * 2**20
    assert tensor_state(model) == before


def test_a_member_without_the_npy_suffix_cannot_shadow_the_checked_one(tmp_path):
    """np.load looks `weight` up as the member `weight` before `weight.npy`: a reader that
    checks one and reads the other loads what it never checked."""
    path = tmp_path / "shadowed.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in linear_state(0).items():
            archive.writestr(f"{name}.npy", npy_bytes(array))
        archive.writestr("weight", npy_bytes(np.full((4, 3), 7.0)))
    model = Linear(3, 4, seed=1)
    before = tensor_state(model)
    with pytest.raises(LoadError, match=r"holds a member 'weight' that is not an .npy array"):
        load(model, path)
    assert tensor_state(model) == before


def test_the_issue_13_file_is_refused_without_allocating_its_shadow_member(tmp_path):
    """The shape of the reported attack: valid `weight.npy` and `bias.npy`, and a `weight`
    member whose header declares 200 MB of zeros (under a megabyte deflated)."""
    path = tmp_path / "crafted.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, array in linear_state(0).items():
            archive.writestr(f"{name}.npy", npy_bytes(array))
        with archive.open("weight", "w", force_zip64=True) as member:
            header = {"descr": "<f8", "fortran_order": False, "shape": (25 * 2**20,)}
            np.lib.format.write_array_header_1_0(member, header)
            for _ in range(200):
                member.write(bytes(2**20))
    refuse_within_50_mb(Linear(3, 4, seed=1), path, match="crafted.npz")


def test_a_name_given_twice_is_refused(tmp_path):
    path = tmp_path / "twice.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it is asked to write
        with zipfile.ZipFile(path, "w") as archive:
            for name, array in linear_state(0).items():
                archive.writestr(f"{name}.npy", npy_bytes(array))
            archive.writestr("weight.npy", npy_bytes(np.full((4, 3), 7.0)))
    model = Linear(3, 4, seed=1)
    before = tensor_state(model)
    with pytest.raises(LoadError, match=r"holds \['weight'\] more than once"):
        load(model, path)
    assert tensor_state(model) == before


def test_a_member_longer_than_its_header_declares_is_not_decompressed(tmp_path):
    """A right header followed by 100 MB of zeros: refused from the zip directory's size,
    before the data is read, so memory stays small."""
    path = tmp_path / "long.npz"
    state = Linear(100, 100, seed=0).state_dict()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bias.npy", npy_bytes(state["bias"]))
        with archive.open("weight.npy", "w", force_zip64=True) as member:
            member.write(npy_bytes(state["weight"]))
            for _ in range(100):
                member.write(bytes(2**20))
    assert path.stat().st_size < 200_000  # small enough to pass the check of the file's size
    refuse_within_50_mb(
        Linear(100, 100, seed=1), path, match=r"entry 'weight' is \d+ bytes, but its header declares 80128"
    )


def test_members_compressed_without_a_bound_on_expansion_are_refused(tmp_path):
    """bzip2 and lzma chunks expand without limit in zipfile; np.savez never writes them."""
    path = tmp_path / "bz2.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as archive:
        for name, array in linear_state(0).items():
            archive.writestr(f"{name}.npy", npy_bytes(array))
    with pytest.raises(LoadError, match="is compressed with zip method 12; only stored and deflated"):
        load(Linear(3, 4, seed=1), path)


def test_a_compressed_archive_from_np_savez_compressed_loads(tmp_path):
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, **linear_state(0))
    model = Linear(3, 4, seed=1)
    load(model, path)
    assert tensor_state(model) == tensor_state(Linear(3, 4, seed=0))


@given(data=st.data())
def test_random_archives_load_exactly_their_npy_members_or_raise_load_error(data):
    """Zips of `weight.npy` and `bias.npy` in any order, sometimes with one more member (one
    shadowing `weight`, a repeat, an extra), contents sometimes of another shape or garbage,
    stored, deflated or sometimes bzip2: either a LoadError that leaves the model as it was,
    or the model holds exactly what the `.npy` members hold."""

    def fault(n: int) -> bool:  # true about one time in n; false in the simplest example
        return data.draw(st.integers(1, n)) == n

    names = data.draw(st.permutations(["weight.npy", "bias.npy"]))
    if fault(3):
        names.insert(
            data.draw(st.integers(0, 2)), data.draw(st.sampled_from(["weight", *names, "extra.npy"]))
        )
    written = {}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a repeated name
        with zipfile.ZipFile(buffer, "w") as archive:
            for index, name in enumerate(names):
                written[name] = np.full((4, 3) if name.startswith("weight") else (4,), float(index))
                content = npy_bytes(written[name])
                if fault(6):
                    content = data.draw(st.sampled_from([b"junk", npy_bytes(written[name].T), content[:-1]]))
                method = (
                    zipfile.ZIP_BZIP2 if fault(6) else data.draw(st.sampled_from([0, zipfile.ZIP_DEFLATED]))
                )
                archive.writestr(name, content, compress_type=method)
    model = Linear(3, 4, seed=1)
    before = tensor_state(model)
    try:
        load_bytes(model, buffer.getvalue())
    except LoadError:
        assert tensor_state(model) == before
        return
    assert sorted(names) == ["bias.npy", "weight.npy"]
    np.testing.assert_array_equal(model.weight.data, written["weight.npy"])
    np.testing.assert_array_equal(model.bias.data, written["bias.npy"])


# -- .safetensors: the format PyTorch users share models in ---------------------------------------


def craft(header: dict | bytes, data: bytes = b"") -> bytes:
    """A safetensors file written by hand, to say what no writer would: its header's length
    (8 bytes, little-endian), the header as JSON, then the data."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_a_safetensors_file_is_what_the_safetensors_package_reads(tmp_path):
    model = tensor_model(0)
    path = tmp_path / "net.SafeTensors"  # the suffix picks the format, in any case
    save(model, path)
    assert not path.read_bytes().startswith(b"PK")
    arrays = safetensors.numpy.load_file(path)
    assert {name: (array.dtype, array.tobytes()) for name, array in arrays.items()} == {
        name: (p.data.dtype, p.data.tobytes()) for name, p in model.named_parameters()
    }


def test_a_dtype_safetensors_cannot_store_is_a_value_error_and_leaves_no_file(tmp_path):
    model = Linear(2, 2, seed=0)
    model.weight.data = model.weight.data.astype(np.complex128)
    with pytest.raises(ValueError, match=r"cannot write these arrays as .safetensors: .*complex128"):
        save(model, tmp_path / "model.safetensors")
    assert os.listdir(tmp_path) == []


def test_names_in_any_order_and_a_metadata_entry_are_accepted():
    """Another writer may order the header and the data as it likes and add `__metadata__`."""
    model = tensor_model(0)
    state = model.state_dict()
    header: dict = {"__metadata__": {"format": "pt", "note": "written by hand"}}
    data = b""
    for name in reversed(list(state)):
        header[name] = {
            "dtype": "F64",
            "shape": list(state[name].shape),
            "data_offsets": [len(data), len(data) + state[name].nbytes],
        }
        data += state[name].tobytes()
    other = tensor_model(5)
    load_bytes(other, craft(header, data), ".safetensors")
    assert tensor_state(other) == tensor_state(model)


WEIGHT = {"dtype": "F64", "shape": [4, 3], "data_offsets": [0, 96]}
BIAS = {"dtype": "F64", "shape": [4], "data_offsets": [96, 128]}
CRAFTED = [
    (  # the parser keeps the last of a repeated name: the file would mean two things
        b'{"weight":{"dtype":"F64","shape":[4,3],"data_offsets":[0,96]},'
        b'"weight":{"dtype":"I64","shape":[4,3],"data_offsets":[0,96]},'
        b'"bias":{"dtype":"F64","shape":[4],"data_offsets":[96,128]}}',
        bytes(128),
        r"holds \['weight'\] more than once",
    ),
    (
        {"weight": WEIGHT, "bias": {**BIAS, "data_offsets": [96, 10**12]}},
        bytes(128),
        "not a valid safetensors file: SafetensorError",
    ),
    (
        {"weight": {**WEIGHT, "shape": [10**12]}, "bias": BIAS},
        bytes(128),
        "not a valid safetensors file: SafetensorError",
    ),
    ({"weight": WEIGHT, "bias": {**BIAS, "data_offsets": [0, 32]}}, bytes(128), "SafetensorError"),
    ({"weight": WEIGHT, "bias": BIAS}, bytes(127), "SafetensorError"),
    ({"weight": WEIGHT, "bias": BIAS}, bytes(129), "SafetensorError"),
    ({"weight": WEIGHT, "bias": {**BIAS, "shape": [-4]}}, bytes(128), "SafetensorError"),
    ({"__metadata__": {"a": 1}, "weight": WEIGHT, "bias": BIAS}, bytes(128), "SafetensorError"),
    (b'{"weight": ', bytes(128), "SafetensorError"),
    (
        {"weight": WEIGHT, "bias": {**BIAS, "dtype": "BF16", "data_offsets": [96, 104]}},
        bytes(104),
        "holds a tensor of dtype BF16, which safetensors cannot give to numpy: convert the model to float32",
    ),
    (  # older safetensors do not know C64 (0.4) or cannot give it to numpy (before 0.7)
        {"weight": {**WEIGHT, "dtype": "C64"}, "bias": BIAS},
        bytes(128),
        "holds complex64, not real numbers|dtype C64, which safetensors cannot give|not a valid safetensors",
    ),
    (
        {"weight": {**WEIGHT, "dtype": "I64"}, "bias": {**BIAS, "dtype": "BOOL", "data_offsets": [96, 100]}},
        bytes(100),
        "entry 'bias' holds bool, not real numbers",
    ),
    (
        {"weight": {**WEIGHT, "shape": [3, 4]}, "bias": BIAS},
        bytes(128),
        r"parameter 'weight' has shape \(3, 4\) in the file but \(4, 3\) in the module",
    ),
]


@pytest.mark.parametrize("header, data, match", CRAFTED)
def test_crafted_safetensors_headers_are_one_load_error(header, data, match):
    model = Linear(3, 4, seed=0)
    before = tensor_state(model)
    with pytest.raises(LoadError, match=match):
        load_bytes(model, craft(header, data), ".safetensors")
    assert tensor_state(model) == before


def test_a_header_length_beyond_the_file_is_refused():
    for length in (2**63, 10**6, 2**64 - 1):
        with pytest.raises(LoadError, match="not a valid safetensors file: SafetensorError"):
            load_bytes(Linear(3, 4, seed=0), struct.pack("<Q", length) + b"{}", ".safetensors")


def test_a_safetensors_file_bigger_than_the_module_needs_is_not_read(tmp_path):
    """100 MB of an extra tensor beside the right ones: refused from the file's size."""
    path = tmp_path / "big.safetensors"
    safetensors.numpy.save_file({**linear_state(0), "extra": np.zeros(100 * 2**17)}, path)
    refuse_within_50_mb(Linear(3, 4, seed=1), path, match=r"is larger than the 2 entries")


@formats
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_file_that_does_not_end_is_not_read_to_its_end(tmp_path, suffix):
    """A named pipe that would deliver 100 MB: load() stops reading past the module's bound."""
    path = tmp_path / f"pipe{suffix}"
    os.mkfifo(path)

    def write() -> None:
        try:
            with open(path, "wb") as pipe:
                for _ in range(100):
                    pipe.write(bytes(2**20))
        except BrokenPipeError:  # load() stopped reading, as it should
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    refuse_within_50_mb(Linear(3, 4, seed=1), path, match="is larger than the 2 entries")
    writer.join(timeout=30)


SAFETENSORS_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
    "C64": np.complex64,
    "BF16": None,  # numpy has none: a LoadError that says so
}


@st.composite
def safetensors_files(draw, state: dict[str, np.ndarray]) -> bytes:
    """Headers another writer could produce, mostly right, often not: the module's names in
    any order (one may be missing, one more may come), any dtype, the right shape or another,
    offsets that fit or are pushed aside, random data, sometimes trailing bytes or metadata.
    (`fault(n)`: true about one time in n, and false in the simplest example hypothesis
    shrinks to.)"""

    def fault(n: int) -> bool:
        return draw(st.integers(1, n)) == n

    names = draw(st.permutations(list(state)))
    if fault(4):
        names = names[1:]
    if fault(4):
        names.append("extra")
    header: dict = {}
    if draw(st.booleans()):
        header["__metadata__"] = draw(st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2))
    offset = 0
    for name in names:
        dtype = draw(st.sampled_from(list(SAFETENSORS_DTYPES))) if fault(3) else "F64"
        shape = list(state[name].shape) if name in state else [1]
        if fault(6):
            shape = draw(st.lists(st.integers(0, 3), max_size=3))
        end = offset + np.dtype(SAFETENSORS_DTYPES[dtype] or np.float16).itemsize * math.prod(shape)
        if fault(10):
            end += draw(st.sampled_from([-1, 1]))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, end]}
        offset = end
    size = max(offset, 0) + fault(10)
    return craft(header, draw(st.binary(min_size=size, max_size=size)))


@given(data=st.data())
def test_random_safetensors_headers_load_right_or_raise_load_error(data):
    model = tensor_model(0, hidden=2)
    before = tensor_state(model)
    content = data.draw(safetensors_files(model.state_dict()))
    try:
        load_bytes(model, content, ".safetensors")
    except LoadError:
        assert tensor_state(model) == before
        return
    arrays = safetensors.numpy.load(content)  # it loaded: so it must hold exactly the module's entries
    assert set(arrays) == set(model.state_dict())
    for name, p in model.named_parameters():
        assert arrays[name].dtype.kind in "fiu"
        np.testing.assert_array_equal(p.data, arrays[name].astype(np.float64))


# -- buffers and dtypes: whatever state_dict() holds round-trips ------------------------------------


class BatchNormState(Module):
    """The state BatchNorm1d(3) has in PyTorch, as a Module here may hold it: parameters
    `weight` and `bias`, buffers `running_mean`, `running_var` (float64) and
    `num_batches_tracked` (int64 of shape []) in `state_dict()` but not in `parameters()`."""

    BUFFERS = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.weight = Tensor(rng.normal(size=3), requires_grad=True)
        self.bias = Tensor(rng.normal(size=3), requires_grad=True)
        self.buffers = {
            "running_mean": rng.normal(size=3),
            "running_var": rng.uniform(0.5, 2.0, size=3),
            "num_batches_tracked": np.array(seed, dtype=np.int64),
        }

    def state_dict(self) -> dict:
        return {**super().state_dict(), **{name: array.copy() for name, array in self.buffers.items()}}

    def load_state_dict(self, state: dict) -> None:
        state = dict(state)
        buffers = {name: np.array(state.pop(name), dtype=self.buffers[name].dtype) for name in self.BUFFERS}
        super().load_state_dict(state)
        self.buffers = buffers


def full_state(model: Module) -> dict[str, tuple[str, tuple, bytes]]:
    arrays = {name: np.asarray(data) for name, data in model.state_dict().items()}
    return {name: (str(a.dtype), a.shape, a.tobytes()) for name, a in arrays.items()}


@formats
def test_buffers_round_trip_with_their_dtypes(suffix):
    model, other = BatchNormState(seed=7), BatchNormState(seed=1)
    load_bytes(other, saved_bytes(model, suffix), suffix)
    assert full_state(other) == full_state(model)
    assert other.buffers["num_batches_tracked"].dtype == np.int64
    assert other.buffers["num_batches_tracked"].shape == ()


@formats
def test_an_integer_buffer_takes_integers_only(suffix):
    model = BatchNormState(seed=1)
    state = model.state_dict()
    state["num_batches_tracked"] = np.array(2.5)
    before = full_state(model)
    with pytest.raises(LoadError, match="entry 'num_batches_tracked' holds float64, not integers"):
        load_bytes(model, encode(state, suffix), suffix)
    assert full_state(model) == before


@formats
@pytest.mark.parametrize("saved, loaded", [("float32", "float64"), ("float64", "float32")])
def test_floats_of_another_width_are_converted_as_pytorch_does(suffix, saved, loaded):
    """As torch's load_state_dict copies a checkpoint into a parameter: the parameter keeps
    its dtype and takes the file's numbers converted to it."""
    model = tensor_model(0, dtype=saved)
    other = tensor_model(3, dtype=loaded)
    load_bytes(other, saved_bytes(model, suffix), suffix)
    for p, q in zip(model.parameters(), other.parameters()):
        assert q.data.dtype == np.dtype(loaded)
        np.testing.assert_array_equal(q.data, p.data.astype(loaded))


# -- the hand-off: PyTorch reads our files and we read theirs --------------------------------------


def torch_twin(torch):
    return torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)).double()


def assert_same_outputs(ours: Module, theirs, torch) -> None:
    x = np.random.default_rng(0).normal(size=(16, 2))
    expected = theirs(torch.tensor(x)).detach().numpy()
    got = ours(Tensor(x)).data
    assert np.all(np.abs(got - expected) <= 1e-10 * np.maximum(1.0, np.abs(expected)))


def test_a_model_saved_here_loads_into_pytorch_strictly(tmp_path):
    torch = require_torch()
    import safetensors.torch

    model = tensor_model(0)
    path = tmp_path / "model.safetensors"
    save(model, path)
    theirs = torch_twin(torch)
    theirs.load_state_dict(safetensors.torch.load_file(path), strict=True)
    assert_same_outputs(model, theirs, torch)


def test_a_pytorch_model_saved_with_safetensors_loads_here(tmp_path):
    torch = require_torch()
    import safetensors.torch

    torch.manual_seed(0)
    theirs = torch_twin(torch)
    path = tmp_path / "from_torch.safetensors"
    safetensors.torch.save_file(theirs.state_dict(), path, metadata={"format": "pt"})
    model = tensor_model(5)
    load(model, path)
    assert_same_outputs(model, theirs, torch)


def test_buffers_cross_to_and_from_pytorch_batchnorm(tmp_path):
    """The path BatchNorm's state will take: torch's int64 `num_batches_tracked` of shape []
    and float buffers arrive with their dtypes, and ours load into torch strictly."""
    torch = require_torch()
    import safetensors.torch

    torch.manual_seed(0)
    theirs = torch.nn.BatchNorm1d(3).double()
    for _ in range(4):  # a few training batches move the running statistics and the count
        theirs(torch.randn(8, 3))
    path = tmp_path / "bn.safetensors"
    safetensors.torch.save_file(theirs.state_dict(), path)
    ours = BatchNormState()
    load(ours, path)
    for name, tensor in theirs.state_dict().items():
        assert full_state(ours)[name] == (
            str(tensor.numpy().dtype),
            tuple(tensor.shape),
            tensor.numpy().tobytes(),
        )
    assert ours.buffers["num_batches_tracked"] == 4

    save(BatchNormState(seed=9), path)
    theirs.load_state_dict(safetensors.torch.load_file(path), strict=True)
    assert theirs.num_batches_tracked.dtype == torch.int64 and int(theirs.num_batches_tracked) == 9
    expected = BatchNormState(seed=9).state_dict()
    for name, tensor in theirs.state_dict().items():
        np.testing.assert_array_equal(tensor.numpy(), expected[name])


# -- the documentation page ------------------------------------------------------------------------


def test_the_saving_page_examples_run_as_written(tmp_path, monkeypatch, capsys):
    """docs/saving.md's blocks, in order in one namespace (the PyTorch ones need torch); a
    `print(...)  # text` line shows text the example prints."""
    require_torch()
    page = pathlib.Path(__file__).resolve().parent.parent / "docs" / "saving.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 6
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "saving_page"}
    for index, code in enumerate(blocks):
        exec(compile(code, f"saving.md block {index}", "exec"), namespace)
    printed = capsys.readouterr().out
    for expected in re.findall(r"print\(.*\)\s+# (.*)", "".join(blocks)):
        assert expected.strip() in printed
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["from_torch.safetensors", "model.safetensors", "net.safetensors", "run.safetensors"]
