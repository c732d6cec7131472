"""PyTorch's device boilerplate ports unchanged (`torch.device`, `x.device.type`,
`torch.cuda.is_available()`): the CPU is picked, and another device is named but refused where used."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg


def boilerplate(torch: object) -> tuple[str, str, object, object]:
    """The device lines of PyTorch's tutorials, written once for torch and for mg."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # type: ignore[attr-defined]
    current = torch.accelerator.current_accelerator()  # type: ignore[attr-defined]
    kind = current.type if torch.accelerator.is_available() else "cpu"  # type: ignore[attr-defined]
    x = torch.ones(2, 3, device=device).to(device)  # type: ignore[attr-defined]
    model = torch.nn.Linear(3, 1).to(device)  # type: ignore[attr-defined]
    return str(device), kind, x.device, model(x).device


def test_the_tutorials_device_lines_pick_the_cpu_as_on_a_machine_without_a_gpu() -> None:
    torch = require_torch()
    ours, theirs = boilerplate(mg), boilerplate(torch)
    assert ours[:2] == theirs[:2] == ("cpu", "cpu")
    for mine, torchs in zip(ours[2:], theirs[2:]):
        assert repr(mine) == repr(torchs) == "device(type='cpu')"
        assert mine.type == torchs.type == "cpu" and mine.index is torchs.index is None  # type: ignore[attr-defined]


def test_a_device_is_the_string_of_its_name() -> None:
    x = mg.zeros(2)
    assert x.device == "cpu" and x.device == mg.device("cpu") and str(x.device) == "cpu"
    assert mg.device(mg.device("cpu")) == "cpu" and mg.device("cpu:0").index == 0
    assert (
        str(mg.device("cuda", 1)) == "cuda:1" and repr(mg.device("cuda", 1)) == "device(type='cuda', index=1)"
    )
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0
    assert "cuda" not in mg.__all__ and "device" in mg.__all__


@given(st.sampled_from(["cpu", "cuda", "mps"]), st.integers(0, 127))  # (torch keeps an index in 8 bits)
def test_an_index_is_kept_as_torch_keeps_it(kind: str, index: int) -> None:
    torch = require_torch()
    for ours, theirs in [
        (mg.device(kind, index), torch.device(kind, index)),
        (mg.device(f"{kind}:{index}"), torch.device(f"{kind}:{index}")),
    ]:
        assert (ours.type, ours.index, str(ours), repr(ours)) == (
            theirs.type,
            theirs.index,
            str(theirs),
            repr(theirs),
        )


def test_another_device_can_be_named_but_is_refused_where_it_is_used() -> None:
    gpu = mg.device("cuda")
    with pytest.raises(ValueError, match="CPU only"):
        mg.zeros(2).to(gpu)
    with pytest.raises(ValueError, match="CPU only"):
        mg.zeros(2, device=gpu)
    with pytest.raises(ValueError, match="CPU only"):
        mg.Linear(2, 1).to(gpu)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("gpu",), "expected one of cpu, cuda"),
        ((3,), 'takes a device type such as "cpu"'),
        (("cpu:x",), "whole number"),
        (("cpu:0", 0), "give the index once"),
        (("cpu", -1), "whole number >= 0"),
        (("cpu", True), "whole number >= 0"),
    ],
)
def test_a_bad_device_says_what_is_wrong(arguments: tuple[object, ...], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        mg.device(*arguments)


def test_a_device_changes_no_data() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(mg.device("cpu"))
    assert y is x
    np.testing.assert_array_equal(mg.ones(2, device=mg.device("cpu")).data, [1.0, 1.0])


def test_a_device_is_read_only_and_equals_torchs_of_its_name() -> None:
    torch = require_torch()
    x = mg.zeros(2)
    with pytest.raises(AttributeError):
        x.device.index = 5  # type: ignore[misc]  # (PyTorch's refuses too: the device is shared)
    assert mg.zeros(2).device == "cpu" and mg.zeros(2).device.index is None
    assert mg.device("cpu") == torch.device("cpu") and mg.device("cuda", 1) == torch.device("cuda:1")
    assert mg.device("cpu") != 3 and {mg.device("cpu"): 1}["cpu"] == 1


@pytest.mark.parametrize("name", ["cpu:abc", "cpu:\u0663", "cpu:-1"])
def test_a_bad_index_is_refused_wherever_a_device_is_named(name: str) -> None:
    for use in (lambda: mg.device(name), lambda: mg.zeros(2, device=name), lambda: mg.zeros(2).to(name)):
        with pytest.raises(ValueError, match="whole number >= 0"):
            use()
