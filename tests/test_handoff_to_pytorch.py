"""The hand-off to PyTorch through `.safetensors`, both ways: a model trained here loads into
the equivalent `torch.nn.Sequential` with `strict=True` and gives the same outputs (float64,
1e-10); a torch model's state dict loads here and gives the same outputs; and micrograd's
scalar `MLP` becomes the equivalent Tensor model with `to_sequential()`, and so reaches PyTorch;
and a small language model (Embedding, LayerNorm, SiLU, a ParameterList) goes both ways too."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_plus import (
    MLP,
    SGD,
    BatchNorm1d,
    Conv2d,
    Flatten,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    Tensor,
    Value,
    cross_entropy,
    load,
    mse_loss,
    save,
)
from micrograd_plus.testing import mlps

TOLERANCE = 1e-10


def _ours(seed: int) -> Sequential:
    return Sequential(
        Conv2d(2, 3, 3, padding=1, seed=seed),
        ReLU(),
        Flatten(),
        Linear(3 * 5 * 4, 6, seed=seed + 1),
        BatchNorm1d(6),
        Linear(6, 3, seed=seed + 2),
    )


def _theirs(torch):  # type: ignore[no-untyped-def]
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(60, 6),
        nn.BatchNorm1d(6),
        nn.Linear(6, 3),
    )


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(8, 2, 5, 4)), rng.integers(0, 3, size=8)


def _close(ours: np.ndarray, theirs: np.ndarray) -> bool:
    return ours.shape == theirs.shape and bool(np.all(np.abs(ours - theirs) <= TOLERANCE))


def test_a_model_trained_here_loads_into_torch_and_gives_the_same_outputs(tmp_path) -> None:
    torch = require_torch()
    from safetensors.torch import load_file

    model = _ours(seed=0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(4):
        x, y = _data(step)
        loss = cross_entropy(model(Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    path = tmp_path / "model.safetensors"
    save(model, path)

    theirs = _theirs(torch)
    state = load_file(str(path))
    assert {k: (tuple(v.shape), v.dtype) for k, v in state.items()} == {
        k: (tuple(v.shape), v.dtype) for k, v in theirs.state_dict().items()
    }
    theirs.load_state_dict(state, strict=True)
    assert int(theirs[4].num_batches_tracked) == 4
    model.eval()
    theirs.eval()
    x, _ = _data(99)
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    assert _close(model(Tensor(x)).data, expected)


def test_a_torch_model_loads_here_and_gives_the_same_outputs(tmp_path) -> None:
    torch = require_torch()
    from safetensors.torch import save_file

    torch.manual_seed(0)
    theirs = _theirs(torch)
    optimizer = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for step in range(3):
        x, y = _data(step)
        loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    path = tmp_path / "from_torch.safetensors"
    save_file(theirs.state_dict(), str(path))

    model = _ours(seed=5)
    load(model, path)
    assert int(model[4].num_batches_tracked) == 3 and model[4].num_batches_tracked.dtype == np.int64
    x, _ = _data(7)
    for mode in ("train", "eval"):  # batch statistics, then the running ones
        getattr(model, mode)()
        getattr(theirs, mode)()
        with torch.no_grad():
            expected = theirs(torch.tensor(x)).numpy()
        assert _close(model(Tensor(x)).data, expected), mode


def _scalar_outputs(mlp: MLP, x: np.ndarray) -> np.ndarray:
    rows = []
    for row in x:
        out = mlp([float(v) for v in row])
        rows.append([v.data for v in (out if isinstance(out, list) else [out])])
    return np.array(rows)


@given(mlps(), st.integers(0, 2**16))
@settings(max_examples=25)
def test_to_sequential_computes_what_the_mlp_computes(mlp: MLP, seed: int) -> None:
    nin = len(mlp.layers[0].neurons[0].w)
    x = np.random.default_rng(seed).normal(size=(4, nin))
    sequential = mlp.to_sequential()
    assert np.allclose(sequential(Tensor(x)).data, _scalar_outputs(mlp, x), rtol=1e-12, atol=1e-12)
    assert len(sequential.parameters()) == 2 * len(mlp.layers)
    assert sum(p.data.size for p in sequential.parameters()) == len(mlp.parameters())


def test_an_mlp_trained_on_values_reaches_torch(tmp_path) -> None:
    torch = require_torch()
    from safetensors.torch import load_file

    mlp = MLP(2, [4, 4, 1], activation="tanh", seed=1)
    xs = [[2.0, 3.0], [3.0, -1.0], [0.5, 1.0], [1.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    optimizer = SGD(mlp.parameters(), lr=0.05)
    for _ in range(5):  # micrograd's training loop, on Values
        loss = sum((mlp(x) - Value(y)) ** 2 for x, y in zip(xs, ys))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    sequential = mlp.to_sequential()
    assert [type(m) for m in sequential] == [Linear, Tanh, Linear, Tanh, Linear]
    path = tmp_path / "mlp.safetensors"
    save(sequential, path)
    nn = torch.nn
    theirs = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1))
    theirs.load_state_dict(load_file(str(path)), strict=True)
    x = np.array(xs)
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    assert _close(_scalar_outputs(mlp, x), expected)
    # and the Tensor model goes on training from where the Values left off
    assert mse_loss(sequential(Tensor(x)), Tensor(np.array(ys)[:, None])).item() == pytest.approx(
        float(np.mean((expected[:, 0] - ys) ** 2))
    )


def test_to_sequential_copies_the_weights_and_names_each_activation() -> None:
    mlp = MLP(3, [2, 1], activation="sigmoid", seed=0)
    sequential = mlp.to_sequential()
    assert [type(m) for m in sequential] == [Linear, Sigmoid, Linear]
    assert [type(m) for m in MLP(3, [2, 1], activation="relu", seed=0).to_sequential()] == [
        Linear,
        ReLU,
        Linear,
    ]
    sequential[0].weight.data[:] = 0.0
    assert mlp.layers[0].neurons[0].w[0].data != 0.0  # a copy: the MLP is unchanged
    mlp.layers[0].neurons[1].activation = "tanh"
    with pytest.raises(ValueError, match=r"layer 0 mixes the activations \['sigmoid', 'tanh'\]"):
        mlp.to_sequential()


# --- a small language model: token and position embeddings, a LayerNorm'd residual block -------


def tiny_language_model(nn: ModuleType, tensor: Any, arange: Any, tied: bool = False) -> Any:
    """The same model in either library (`nn`, and its `tensor` and `arange`); `tied`: the head
    reads out with the token table itself (weight tying, `head.weight = tokens.weight`)."""

    class TinyLM(nn.Module):
        def __init__(self, vocab: int = 7, dim: int = 6, context: int = 5) -> None:
            super().__init__()
            self.tokens = nn.Embedding(vocab, dim, padding_idx=0)
            self.positions = nn.Embedding(context, dim)
            self.norm = nn.LayerNorm(dim)
            self.block = nn.Sequential(nn.Linear(dim, 8), nn.SiLU(), nn.Linear(8, dim))
            self.gains = nn.ParameterList([tensor(np.ones(dim)), tensor(np.ones(dim))])
            self.final = nn.LayerNorm(dim, bias=False)
            self.head = nn.Linear(dim, vocab)
            if tied:
                self.head.weight = self.tokens.weight

        def forward(self, idx: Any) -> Any:
            x = self.tokens(idx) + self.positions(arange(idx.shape[1]))
            x = x + self.block(self.norm(x)) * self.gains[0]
            return self.head(self.final(x) * self.gains[1])

    return TinyLM()


def _train_a_little(model: Any) -> None:
    import micrograd_plus as mg

    optimizer = mg.AdamW(model.parameters(), lr=0.05)
    for step in range(4):
        x, y = _token_batch(step)
        loss = cross_entropy(model(x).reshape(-1, 7), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _token_batch(seed: int) -> tuple[np.ndarray, np.ndarray]:
    tokens = np.random.default_rng(seed).integers(0, 7, size=(3, 6))
    return tokens[:, :-1], tokens[:, 1:]  # each position predicts the next token


def test_a_language_model_trained_here_loads_into_torch_and_gives_the_same_outputs(tmp_path) -> None:
    torch = require_torch()
    from safetensors.torch import load_file

    import micrograd_plus as mg

    model = tiny_language_model(mg.nn, mg.tensor, np.arange)
    _train_a_little(model)
    path = tmp_path / "lm.safetensors"
    save(model, path)

    theirs = tiny_language_model(torch.nn, torch.tensor, torch.arange)
    state = load_file(str(path))
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    assert list(model.state_dict()) == list(theirs.state_dict())  # the same names, in the same order
    theirs.load_state_dict(state, strict=True)
    assert repr(model) == repr(theirs)
    x, _ = _token_batch(99)
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    assert _close(model(x).data, expected)


def test_a_torch_language_model_loads_here_and_gives_the_same_outputs_and_gradients(tmp_path) -> None:
    torch = require_torch()
    from safetensors.torch import save_file

    import micrograd_plus as mg

    torch.manual_seed(0)
    theirs = tiny_language_model(torch.nn, torch.tensor, torch.arange)
    path = tmp_path / "from_torch.safetensors"
    save_file(theirs.state_dict(), str(path))
    model = tiny_language_model(mg.nn, mg.tensor, np.arange)
    load(model, path)
    x, y = _token_batch(5)
    logits, reference = model(x), theirs(torch.tensor(x))
    assert _close(logits.data, reference.detach().numpy())
    cross_entropy(logits.reshape(-1, 7), y.reshape(-1)).backward()
    torch.nn.functional.cross_entropy(reference.reshape(-1, 7), torch.tensor(y).reshape(-1)).backward()
    for (name, p), (_, q) in zip(model.named_parameters(), theirs.named_parameters()):
        assert _close(p.grad, q.grad.numpy()), name
    assert not model.tokens.weight.grad[0].any()  # the padding token's row


def test_a_language_model_with_tied_weights_goes_to_torch_and_back_under_torchs_names(tmp_path) -> None:
    """As PyTorch's, the state dict lists a tied weight under each of its names (so that the names
    are the untied model's), while parameters() has it once (so that it is stepped once)."""
    torch = require_torch()
    from safetensors.torch import load_file

    import micrograd_plus as mg

    model = tiny_language_model(mg.nn, mg.tensor, np.arange, tied=True)
    theirs = tiny_language_model(torch.nn, torch.tensor, torch.arange, tied=True)
    assert model.head.weight is model.tokens.weight
    assert list(model.state_dict()) == list(theirs.state_dict())
    assert "head.weight" in model.state_dict()
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert "head.weight" not in dict(model.named_parameters())
    assert len(model.parameters()) == len(list(theirs.parameters()))
    _train_a_little(model)
    path = tmp_path / "tied.safetensors"
    save(
        model, path
    )  # each name its own copy: safetensors takes it (torch's save_file refuses shared tensors)
    theirs.load_state_dict(load_file(str(path)), strict=True)
    assert theirs.head.weight is theirs.tokens.weight
    x, _ = _token_batch(7)
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    assert _close(model(x).data, expected)

    back = tiny_language_model(mg.nn, mg.tensor, np.arange, tied=True)
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)
    assert back.head.weight is back.tokens.weight and _close(back(x).data, expected)
    again = tiny_language_model(mg.nn, mg.tensor, np.arange, tied=True)
    load(again, path)  # mg.save, then mg.load: strict, both names
    assert again.head.weight is again.tokens.weight and _close(again(x).data, expected)
