"""`manual_seed` and the package's default Generator (micrograd_plus/factories.py): every draw made
without `seed=` or `generator=` (random Tensors, layer initialisation, Dropout masks, DataLoader
order, data sets) takes the next numbers of one stream, fresh each run until `manual_seed`
restarts it, as `torch.manual_seed` does; a seeded draw is a stream of its own."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import nn

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _default_stream_left_as_found() -> Iterator[None]:
    """Each test here seeds the default stream; the tests after it find it as it was."""
    state = mg.default_generator.bit_generator.state
    yield
    mg.default_generator.bit_generator.state = state


def every_unseeded_draw() -> list[np.ndarray]:
    """One draw of each kind that takes the default stream, as numbers."""
    x = mg.ones(4, 6)
    loader = mg.DataLoader(mg.TensorDataset(mg.arange(10)), batch_size=3, shuffle=True)
    mlp = mg.MLP(2, [3, 1])
    return [
        mg.rand(2, 3).data,
        mg.randn(4).data,
        mg.normal(2.0, 0.5, (3,)).data,
        mg.randint(0, 100, (5,)).data,
        mg.randperm(7).data,
        mg.rand_like(x).data,
        mg.randn_like(x).data,
        nn.Linear(3, 2).weight.data,
        nn.Conv2d(1, 2, 3).weight.data,
        np.array([p.data for p in mlp.parameters()]),  # Values, drawn by random.Random
        nn.Dropout(0.5)(x).data,
        nn.functional.dropout(x, 0.5).data,
        np.concatenate([batch[0].data for batch in loader]),
        mg.make_moons(8, seed=None)[0],  # (its default seed is 0)
    ]


def test_after_manual_seed_every_unseeded_draw_repeats() -> None:
    mg.manual_seed(0)
    first = every_unseeded_draw()
    mg.manual_seed(0)
    again = every_unseeded_draw()
    mg.manual_seed(1)
    other = every_unseeded_draw()
    for kind, (a, b, c) in enumerate(zip(first, again, other)):
        assert np.array_equal(a, b), kind
        assert not np.array_equal(a, c), kind


@given(seed=st.one_of(st.integers(0, 2**64 - 1), st.integers(-(2**63), -1)))
def test_manual_seed_gives_the_numbers_of_that_seed_and_returns_the_default_generator(seed: int) -> None:
    returned = mg.manual_seed(seed)
    assert returned is mg.default_generator and isinstance(returned, np.random.Generator)
    # a negative seed counts as seed + 2**64, as torch's: torch.manual_seed(-1).initial_seed() == 2**64 - 1
    assert np.array_equal(mg.rand(3).data, mg.rand(3, seed=seed % 2**64).data)


def test_torch_counts_a_negative_seed_as_ours_does() -> None:
    torch = require_torch()
    for seed in (-1, -(2**63), 5):
        assert torch.manual_seed(seed).initial_seed() == seed % 2**64
        mg.manual_seed(seed)
        drawn = mg.rand(2).data
        mg.manual_seed(seed % 2**64)
        assert np.array_equal(drawn, mg.rand(2).data)


def test_a_seeded_draw_neither_reads_nor_moves_the_default_stream() -> None:
    mg.manual_seed(0)
    expected = mg.rand(4).data
    mg.manual_seed(0)
    x = mg.ones(3, 3)
    seeded = [
        mg.rand(2, seed=5).data,
        mg.randint(0, 9, (3,), seed=5).data,
        mg.randperm(4, generator=np.random.default_rng(5)).data,
        mg.normal(0, 1, (3,), generator=np.random.default_rng(5)).data,
        nn.Linear(3, 3, seed=1).weight.data,
        nn.Dropout(0.5, seed=2)(x).data,
        nn.functional.dropout(x, 0.5, generator=np.random.default_rng(3)).data,
        np.concatenate([b[0].data for b in mg.DataLoader(mg.TensorDataset(x), 1, shuffle=True, seed=4)]),
        np.array([p.data for p in mg.MLP(2, [2], seed=6).parameters()]),
    ]
    assert np.array_equal(mg.rand(4).data, expected)  # the default stream did not move
    assert np.array_equal(seeded[0], mg.rand(2, seed=5).data)  # and the seeded draws repeat anyway
    assert np.array_equal(seeded[3], np.random.default_rng(5).normal(0, 1, 3))  # the generator's numbers


REFUSED_DRAWS = {
    "randn of int64": lambda lib: lib.randn(2, dtype=lib.long),
    "rand of bool": lambda lib: lib.rand(2, dtype=lib.bool),
    "normal of int64": lambda lib: lib.normal(0, 1, (2,), dtype=lib.long),
    "randn_like of int64": lambda lib: lib.randn_like(lib.ones(2), dtype=lib.long),
}


@pytest.mark.parametrize("name", sorted(REFUSED_DRAWS))
def test_a_refused_draw_leaves_the_default_stream_as_torchs(name: str) -> None:
    """A draw refused for its dtype takes no numbers: the later draws are those of the seed."""
    torch = require_torch()
    for library in (mg, torch):
        library.manual_seed(0)
        expected = library.rand(4).tolist()
        library.manual_seed(0)
        with pytest.raises(NotImplementedError):
            REFUSED_DRAWS[name](library)
        assert library.rand(4).tolist() == expected, library.__name__


def test_a_dropout_or_loader_made_before_manual_seed_follows_it_as_torchs() -> None:
    dropout = nn.Dropout(0.5)
    loader = mg.DataLoader(mg.TensorDataset(mg.arange(8)), batch_size=8, shuffle=True)
    x = mg.ones(20)

    def draw() -> tuple[np.ndarray, np.ndarray]:
        mg.manual_seed(3)
        return dropout(x).data, next(iter(loader))[0].data

    (mask, order), (mask_again, order_again) = draw(), draw()
    assert np.array_equal(mask, mask_again) and np.array_equal(order, order_again)
    assert not np.array_equal(order, np.arange(8.0))  # shuffled
    first_epoch, second_epoch = (next(iter(loader))[0].data for _ in range(2))
    assert not np.array_equal(first_epoch, second_epoch)  # a new order each epoch, as before


def test_numpys_global_state_is_never_read_or_changed() -> None:
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    mg.manual_seed(0)
    drawn = every_unseeded_draw()
    assert np.array_equal(np.random.get_state()[1], before)
    np.random.seed(999)  # numpy's global seed changes nothing here
    mg.manual_seed(0)
    assert all(np.array_equal(a, b) for a, b in zip(drawn, every_unseeded_draw()))


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (1.5, TypeError, r"manual_seed\(\) takes an int, got float: 1.5"),
        ("3", TypeError, r"manual_seed\(\) takes an int, got str"),
        (True, TypeError, r"manual_seed\(\) takes an int, got bool"),
        (None, TypeError, r"manual_seed\(\) takes an int, got NoneType"),
        (2**64, ValueError, r"the seed must be from -2\*\*63 to 2\*\*64 - 1, got 18446744073709551616"),
        (-(2**63) - 1, ValueError, r"the seed must be from -2\*\*63"),
    ],
)
def test_a_seed_that_is_not_an_int_in_torchs_range_is_refused(
    seed: object, error: type, message: str
) -> None:
    state = mg.default_generator.bit_generator.state
    with pytest.raises(error, match=message):
        mg.manual_seed(seed)  # type: ignore[arg-type]
    assert mg.default_generator.bit_generator.state == state  # nothing changed


def test_threads_share_the_one_stream_without_losing_or_repeating_a_number() -> None:
    mg.manual_seed(7)
    sequential = np.concatenate([mg.rand(1).data for _ in range(2000)])
    mg.manual_seed(7)
    drawn: list[list[float]] = [[], []]

    def draw(into: list[float]) -> None:
        for _ in range(1000):
            into.append(mg.rand(1).item())

    threads = [threading.Thread(target=draw, args=(part,)) for part in drawn]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(drawn[0] + drawn[1]) == sorted(sequential.tolist())  # in some order: the stream's numbers


SCRIPT = """
import sys
import micrograd_plus as mg
from micrograd_plus import nn

if sys.argv[1] == "seeded":
    mg.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
x = mg.rand(6, 3)
loader = mg.DataLoader(mg.TensorDataset(x), batch_size=2, shuffle=True)
order = [row for (batch,) in loader for row in batch.tolist()]
print(repr((model[0].weight.tolist(), model(x).tolist(), order, mg.randint(0, 10, (4,)).tolist())))
"""


def run_script(tmp_path: Path, mode: str) -> str:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), mode],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_seeded_script_repeats_in_a_fresh_process_and_an_unseeded_one_does_not(tmp_path: Path) -> None:
    first, second = run_script(tmp_path, "seeded"), run_script(tmp_path, "seeded")
    assert first == second and first.startswith("([[")
    assert run_script(tmp_path, "fresh") != run_script(tmp_path, "fresh")  # before manual_seed: fresh numbers
