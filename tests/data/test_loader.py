"""TensorDataset and DataLoader against torch.utils.data: the same batches (values, shapes,
dtypes) and lengths without shuffling, every row once per shuffled epoch, a training loop that
ends with torch's weights, custom data sets, collate_fn, batch_size=None and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import DataLoader, Tensor, TensorDataset


def _data(n: int, columns: int = 3) -> tuple[Tensor, np.ndarray]:
    rng = np.random.default_rng(n)
    return Tensor(rng.standard_normal((n, columns))), rng.integers(0, 5, size=n)


def _same_batch(ours, theirs) -> None:  # type: ignore[no-untyped-def]
    """One field of a batch: a Tensor or array equal to torch's tensor in shape, dtype and values."""
    mine = ours.data if isinstance(ours, Tensor) else ours
    reference = theirs.numpy()
    assert mine.shape == reference.shape and mine.dtype == reference.dtype, (mine.shape, reference.shape)
    assert np.array_equal(mine, reference)


# --- TensorDataset ----------------------------------------------------------------------------------


def test_tensor_dataset_rows_as_torch() -> None:
    torch = require_torch()
    X, y = _data(6)
    X.requires_grad = True
    ds = TensorDataset(X, y)
    theirs = torch.utils.data.TensorDataset(torch.tensor(X.data), torch.tensor(y))
    assert len(ds) == len(theirs) == 6
    assert ds.tensors[0] is X and np.array_equal(ds.tensors[1], y)
    for i in (0, 3, -1):
        row, label = ds[i]
        assert isinstance(row, Tensor) and not row.requires_grad and row._parents == ()
        assert isinstance(label, np.ndarray)
        _same_batch(row, theirs[i][0])
        _same_batch(label, theirs[i][1])
    row32 = TensorDataset(Tensor(X.data, dtype="float32"))[2][0]
    assert row32.data.dtype == np.float32, "a float32 Tensor gives float32 rows"


def test_tensor_dataset_errors() -> None:
    with pytest.raises(ValueError, match="got sizes 4, 3"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="got sizes 2, 2, 5"):
        TensorDataset(np.zeros(2), Tensor(np.zeros((2, 1))), np.zeros(5))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="tensor 1 must have one row per sample, got a scalar"):
        TensorDataset(np.zeros(2), 3.0)


# --- DataLoader without shuffling: torch's batches ----------------------------------------------------


@given(st.integers(1, 40), st.integers(1, 50), st.booleans(), st.integers(1, 4))
def test_batches_equal_torchs(n: int, batch_size: int, drop_last: bool, columns: int) -> None:
    torch = require_torch()
    X, y = _data(n, columns)
    ours = DataLoader(TensorDataset(X, y), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(X.data), torch.tensor(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    mine, reference = list(ours), list(theirs)
    assert len(mine) == len(reference) == len(ours)
    for (xb, yb), (xt, yt) in zip(mine, reference):
        assert isinstance(xb, Tensor) and isinstance(yb, np.ndarray)
        _same_batch(xb, xt)
        _same_batch(yb, yt)
    assert mine == [] or type(mine[0]) is type(reference[0]) is list


def test_float32_batches_stay_float32() -> None:
    torch = require_torch()
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    ours = list(DataLoader(TensorDataset(Tensor(X, dtype="float32")), batch_size=4))
    theirs = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X)), batch_size=4))
    for (xb,), (xt,) in zip(ours, theirs, strict=True):
        _same_batch(xb, xt)


def test_a_subclass_goes_item_by_item_and_gives_the_same_batches() -> None:
    """The fast path (one slice per tensor) and default_collate agree: a subclass of
    TensorDataset is read item by item."""

    class Rows(TensorDataset):
        pass

    X, y = _data(11)
    fast = list(DataLoader(TensorDataset(X, y), batch_size=4))
    slow = list(DataLoader(Rows(X, y), batch_size=4))
    assert len(fast) == len(slow) == 3
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert isinstance(xs, Tensor) and np.array_equal(xf.data, xs.data) and xf.data.dtype == xs.data.dtype
        assert isinstance(ys, np.ndarray) and np.array_equal(yf, ys) and yf.dtype == ys.dtype


def test_batches_have_no_graph() -> None:
    X, y = _data(5)
    X.requires_grad = True
    for xb, _ in DataLoader(TensorDataset(X, y), batch_size=2):
        assert not xb.requires_grad and xb._parents == ()


def test_workers_and_pinned_memory_change_nothing() -> None:
    X, y = _data(9)
    plain = list(DataLoader(TensorDataset(X, y), batch_size=4))
    busy = list(DataLoader(TensorDataset(X, y), batch_size=4, num_workers=3, pin_memory=True))
    assert [b.tolist() for _, b in plain] == [b.tolist() for _, b in busy]


# --- shuffling ------------------------------------------------------------------------------------------


@given(st.integers(2, 40), st.integers(1, 12), st.booleans(), st.integers(0, 2**32 - 1))
def test_every_shuffled_epoch_is_a_permutation(n: int, batch_size: int, drop_last: bool, seed: int) -> None:
    X = Tensor(np.arange(2.0 * n).reshape(n, 2))
    loader = DataLoader(
        TensorDataset(X, np.arange(n)), batch_size, shuffle=True, drop_last=drop_last, seed=seed
    )
    epochs = []
    for _ in range(3):
        order = []
        for xb, yb in loader:
            assert np.array_equal(xb.data[:, 0], 2 * yb), "rows stay paired"
            assert len(yb) == batch_size or not drop_last
            order += yb.tolist()
        kept = n - n % batch_size if drop_last else n
        assert len(order) == kept and len(set(order)) == kept and set(order) <= set(range(n))
        epochs.append(order)
    again = DataLoader(
        TensorDataset(X, np.arange(n)), batch_size, shuffle=True, drop_last=drop_last, seed=seed
    )
    assert [sum((yb.tolist() for _, yb in again), []) for _ in range(3)] == epochs, "a seeded loader repeats"


def test_epochs_differ_and_come_from_the_generator_only() -> None:
    n = 30
    state = np.random.get_state()[1].copy()
    loader = DataLoader(
        TensorDataset(np.arange(n)), batch_size=7, shuffle=True, generator=np.random.default_rng(5)
    )
    first, second = ([int(i) for (b,) in loader for i in b] for _ in range(2))
    assert first != second, "a new order every epoch"
    rng = np.random.default_rng(5)
    assert first == rng.permutation(n).tolist() and second == rng.permutation(n).tolist()
    assert np.array_equal(np.random.get_state()[1], state), "numpy's global state is untouched"
    unshuffled = [int(i) for (b,) in DataLoader(TensorDataset(np.arange(n)), batch_size=7) for i in b]
    assert unshuffled == list(range(n))


# --- a training loop -----------------------------------------------------------------------------------


def test_training_over_a_dataloader_ends_with_torchs_weights() -> None:
    torch = require_torch()
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((23, 3)), rng.standard_normal((23, 2))
    model = mg.Linear(3, 2, seed=1)
    reference = torch.nn.Linear(3, 2)
    reference.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    start = model.weight.data.copy()

    optimizer = mg.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(Tensor(X), Tensor(Y)), batch_size=5)
    for _ in range(3):
        for xb, yb in loader:
            optimizer.zero_grad()
            mg.mse_loss(model(xb), yb).backward()
            optimizer.step()

    their_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    their_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=5
    )
    for _ in range(3):
        for xb, yb in their_loader:
            their_optimizer.zero_grad()
            torch.nn.functional.mse_loss(reference(xb), yb).backward()
            their_optimizer.step()

    assert not np.allclose(model.weight.data, start), "the model must actually train"
    for name, theirs in reference.state_dict().items():
        assert close_to_torch(model.state_dict()[name], theirs.numpy()), name


# --- other data sets, collate_fn, batch_size=None ------------------------------------------------------------


class Pairs:
    """A map-style data set as a user writes one: (features Tensor, int label, float weight, dict)."""

    def __init__(self, n: int, torch=None) -> None:  # type: ignore[no-untyped-def]
        self.x = np.arange(3.0 * n).reshape(n, 3)
        self.torch = torch

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):  # type: ignore[no-untyped-def]
        row = self.x[i] if self.torch is None else self.torch.tensor(self.x[i])
        features = Tensor(row) if self.torch is None else row
        return features, i % 3, 0.5 * i, {"id": i, "mean": self.x[i].mean()}


def test_a_custom_dataset_is_collated_as_torch() -> None:
    torch = require_torch()
    ours = list(DataLoader(Pairs(7), batch_size=3))
    theirs = list(torch.utils.data.DataLoader(Pairs(7, torch), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for (x, label, weight, extra), (xt, labelt, weightt, extrat) in zip(ours, theirs):
        assert isinstance(x, Tensor)
        for mine, reference in ((x, xt), (label, labelt), (weight, weightt)):
            _same_batch(mine, reference)
        assert set(extra) == set(extrat) == {"id", "mean"}
        _same_batch(extra["id"], extrat["id"])
        _same_batch(extra["mean"], extrat["mean"])


def test_a_dataset_of_single_items() -> None:
    torch = require_torch()
    values = [float(v) for v in range(10)]
    ours = [b.tolist() for b in DataLoader(values, batch_size=4)]
    assert ours == [b.tolist() for b in torch.utils.data.DataLoader(values, batch_size=4)]
    tensors = [Tensor([v, -v]) for v in values]
    batch = next(iter(DataLoader(tensors, batch_size=4)))
    assert isinstance(batch, Tensor) and batch.shape == (4, 2) and batch.data[3].tolist() == [3.0, -3.0]


def test_collate_fn_receives_the_items_as_torchs_does() -> None:
    torch = require_torch()
    X, y = _data(10)

    def count_and_sum(items):  # type: ignore[no-untyped-def]
        return len(items), int(sum(int(label) for _, label in items))

    ours = list(DataLoader(TensorDataset(X, y), batch_size=4, collate_fn=count_and_sum))
    their_data = torch.utils.data.TensorDataset(torch.tensor(X.data), torch.tensor(y))
    theirs = list(torch.utils.data.DataLoader(their_data, batch_size=4, collate_fn=count_and_sum))
    assert ours == theirs and [count for count, _ in ours] == [4, 4, 2]


def test_batch_size_none_yields_the_items() -> None:
    torch = require_torch()
    X, y = _data(5)
    ours = DataLoader(TensorDataset(X, y), batch_size=None)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(X.data), torch.tensor(y)), batch_size=None
    )
    assert len(ours) == len(theirs) == 5
    for (row, label), (rowt, labelt) in zip(ours, theirs, strict=True):
        _same_batch(row, rowt)
        _same_batch(label, labelt)
    shuffled = [int(label) for _, label in DataLoader(TensorDataset(X, np.arange(5)), None, True, seed=2)]
    assert sorted(shuffled) == list(range(5)) and shuffled == np.random.default_rng(2).permutation(5).tolist()
    assert list(DataLoader([1, 2, 3], batch_size=None, collate_fn=lambda item: item * 10)) == [10, 20, 30]


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, r"batch_size must be a positive int, got 0"),
        ({"batch_size": 2.5}, ValueError, r"batch_size must be a positive int, got 2.5"),
        ({"batch_size": True}, ValueError, r"batch_size must be a positive int, got True"),
        ({"generator": 3}, TypeError, r"generator must be a numpy Generator .*got int: 3"),
        ({"generator": np.random.default_rng(), "seed": 1}, ValueError, r"give seed or generator, not both"),
        ({"seed": -1}, ValueError, r"seed must be >= 0, got -1"),
        ({"batch_size": None, "drop_last": True}, ValueError, r"batch_size=None .* drop_last=True"),
        ({"sampler": [0, 1]}, TypeError, r"sampler= is not supported here; use shuffle=True"),
        ({"batch_sampler": [[0]]}, TypeError, r"batch_sampler= is not supported here"),
        ({"num_workers": -1}, ValueError, r"num_workers must be an int >= 0, got -1"),
        ({"collate_fn": "stack"}, TypeError, r"collate_fn must be callable, got str"),
    ],
)
def test_bad_arguments(arguments: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        DataLoader(TensorDataset(np.zeros(3)), **arguments)


def test_bad_data_sets() -> None:
    with pytest.raises(TypeError, match=r"needs a data set with __len__ and __getitem__ .*got int"):
        DataLoader(5)
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        list(DataLoader([np.zeros(2), np.zeros(3)], batch_size=2))
    with pytest.raises(ValueError, match=r"different numbers of fields, \[1, 2\]"):
        list(DataLoader([(1,), (1, 2)], batch_size=2))
    with pytest.raises(TypeError, match=r"cannot batch items of type object; give a collate_fn"):
        list(DataLoader([object(), object()], batch_size=2))
    with pytest.raises(TypeError, match=r"mixes Tensors with other values"):
        list(DataLoader([Tensor([1.0]), np.ones(1)], batch_size=2))
