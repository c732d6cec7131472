"""Andrej Karpathy's lecture "Let's build GPT: from scratch, in code, spelled out.", ported.

The lecture trains a character-level language model on Shakespeare: first a bigram model (an
`nn.Embedding` of logits), then the "mathematical trick" of self-attention (a causal weighted
average three ways: loops, a `tril` matrix, `masked_fill(-inf)` and softmax), then `Head`,
`MultiHeadAttention`, `FeedFoward` and `Block` (LayerNorm, residual connections, Dropout), put
together into a small GPT. Each part is written once, as a function of the library: called with
`torch` it is the lecture's code, called with `micrograd_plus` it is the port, so the text shows
what a PyTorch user keeps.

The text is the Zen of Python (`import this`), not Shakespeare, and the sizes are small
(n_embd=32, n_head=4, n_layer=2, block_size=8, batches of 4, a few AdamW steps) so that the test
runs in seconds. PyTorch draws the initial weights (after `torch.manual_seed(1337)`) and they are
copied into ours with `load_state_dict` (the same names), in float64 (the lecture: float32); the
logits, the losses, every parameter's gradient and the weights after the AdamW steps must agree to
the tolerance of `close_to_torch`. The batches are given (the lecture draws their offsets with
`torch.randint`), and so are the trick section's inputs. Sampling (`torch.multinomial`) draws from
each library's own random numbers: `generate` is checked for its shapes and its tokens, and the
probabilities it samples from are compared along a given text. The last section goes a step past the
lecture: nanoGPT's top-k sampling (`topk`, `sort`), an Embedding as `F.one_hot(idx) @ weight`, and
the attention scores written with `einsum`.

What does not port line for line: `dtype=torch.long` (there are no integer Tensors here: token
ids are float64 whole numbers, which `nn.Embedding` and `F.cross_entropy` read as PyTorch reads
int64; `long_of`).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import math
from types import ModuleType
from typing import Any

import numpy as np
from conftest import assert_results_agree as assert_agree
from conftest import close_to_torch, require_torch

import micrograd_plus

# hyperparameters (the lecture's gpt.py: 64, 256, 384, 6, 6, 0.2, 5000 iterations of lr 3e-4)
batch_size = 4  # how many independent sequences will we process in parallel?
block_size = 8  # what is the maximum context length for predictions?
learning_rate = 1e-3
n_embd = 32
n_head = 4
n_layer = 2
eval_iters = 2  # batches per split in estimate_loss
STEPS = 3  # AdamW steps, each on its own batch
CONTEXT = "Beautiful is better than ugly."  # the text whose next-token probabilities are compared


def zen() -> str:
    """The Zen of Python, without `import this` printing it."""
    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")


def long_of(torch: ModuleType) -> Any:
    """`torch.long`; ours has no integer Tensors: None (float64) holds the token ids as whole numbers."""
    return torch.long if torch is not micrograd_plus else None


def arrays(state: dict) -> dict[str, np.ndarray]:
    """A state dict (or gradients) as numpy arrays: a torch state dict holds Tensors, ours arrays."""
    return {
        name: np.array(v if isinstance(v, np.ndarray) else v.detach().numpy()) for name, v in state.items()
    }


def same_start(torch: ModuleType, model: Any, start: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """PyTorch's initial weights (`start` None: the model's own, drawn after manual_seed(1337)),
    or those copied into ours: both libraries start alike. Returns them as arrays."""
    if start is None:
        return arrays(model.state_dict())
    assert list(model.state_dict()) == list(start), "the same names, in the same order"
    model.load_state_dict({name: torch.tensor(value) for name, value in start.items()})
    return start


def batch_offsets(n: int, step: int) -> list[int]:
    """What the lecture's `torch.randint(len(data) - block_size, (batch_size,))` draws, given."""
    return [int(i) for i in np.random.default_rng(step).integers(0, n - block_size, batch_size)]


def given_randn(*shape: int, seed: int = 0) -> np.ndarray:
    """What the lecture's `torch.randn(*shape)` draws, given here so that both libraries start alike."""
    return np.random.default_rng(seed).standard_normal(shape)


# -- the data, and the bigram language model ---------------------------------------------------------


def tokens(torch: ModuleType) -> tuple[Any, ...]:
    """The lecture's tokenizer of characters and its train/val split."""
    text = zen()
    # here are all the unique characters that occur in this text
    chars = sorted(list(set(text)))
    vocab_size = len(chars)
    # create a mapping from characters to integers
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    encode = lambda s: [stoi[c] for c in s]  # noqa: E731  encoder: take a string, output a list of integers
    decode = lambda l: "".join([itos[i] for i in l])  # noqa: E731, E741  decoder: the reverse
    assert decode(encode("hii there")) == "hii there"

    data = torch.tensor(encode(text), dtype=long_of(torch))
    print(data.shape, data.dtype)
    n = int(0.9 * len(data))  # first 90% will be train, rest val
    train_data = data[:n]
    val_data = data[n:]

    def get_batch(split, step):  # type: ignore[no-untyped-def]
        # generate a small batch of data of inputs x and targets y
        data = train_data if split == "train" else val_data
        ix = batch_offsets(len(data), step)  # was torch.randint(len(data) - block_size, (batch_size,))
        x = torch.stack([data[i : i + block_size] for i in ix])
        y = torch.stack([data[i + 1 : i + block_size + 1] for i in ix])
        return x, y

    return vocab_size, encode, decode, get_batch


def language_model(torch: ModuleType, model: Any, encode: Any, decode: Any, get_batch: Any) -> dict:
    """What both models are asked: logits, loss and gradients of one batch, the probabilities
    `generate` samples from along CONTEXT, a generated text, and a few AdamW steps."""
    xb, yb = get_batch("train", 0)
    logits, loss = model(xb, yb)
    print(logits.shape, loss)
    loss.backward()
    grads = arrays({name: p.grad for name, p in model.named_parameters()})  # copies, before the steps

    F = torch.nn.functional
    idx = torch.tensor([encode(CONTEXT)], dtype=long_of(torch))
    probs = []
    for t in range(1, idx.shape[1] + 1):  # each step of generate, had it sampled CONTEXT
        step_logits, _ = model(idx[:, :t][:, -block_size:])
        probs.append(F.softmax(step_logits[:, -1, :], dim=-1))

    generated = model.generate(idx=torch.zeros((1, 1), dtype=long_of(torch)), max_new_tokens=12)
    assert tuple(generated.shape) == (1, 13)
    text = decode(generated[0].tolist())
    print(text)
    assert len(text) == 13 and text[0] == decode([0])

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    losses = []
    for step in range(1, STEPS + 1):
        # sample a batch of data
        xb, yb = get_batch("train", step)
        # evaluate the loss
        logits_, loss_ = model(xb, yb)
        losses.append(loss_.item())
        optimizer.zero_grad(set_to_none=True)
        loss_.backward()
        optimizer.step()

    return {
        "logits": logits.detach().numpy(),
        "loss": loss.item(),
        "grads": grads,
        "probs": np.stack([p.detach().numpy() for p in probs]),
        "losses": losses,
        "weights": arrays(model.state_dict()),
    }


def bigram(torch: ModuleType, start: dict[str, np.ndarray] | None = None) -> dict:
    """The lecture's BigramLanguageModel; `start` as `same_start`'s."""
    nn, F = torch.nn, torch.nn.functional
    vocab_size, encode, decode, get_batch = tokens(torch)

    class BigramLanguageModel(nn.Module):
        def __init__(self, vocab_size):  # type: ignore[no-untyped-def]
            super().__init__()
            # each token directly reads off the logits for the next token from a lookup table
            self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

        def forward(self, idx, targets=None):  # type: ignore[no-untyped-def]
            # idx and targets are both (B,T) tensor of integers
            logits = self.token_embedding_table(idx)  # (B,T,C)

            if targets is None:
                loss = None
            else:
                B, T, C = logits.shape
                logits = logits.view(B * T, C)
                targets = targets.view(B * T)
                loss = F.cross_entropy(logits, targets)

            return logits, loss

        def generate(self, idx, max_new_tokens):  # type: ignore[no-untyped-def]
            # idx is (B, T) array of indices in the current context
            for _ in range(max_new_tokens):
                # get the predictions
                logits, loss = self(idx)
                # focus only on the last time step
                logits = logits[:, -1, :]  # becomes (B, C)
                # apply softmax to get probabilities
                probs = F.softmax(logits, dim=-1)  # (B, C)
                # sample from the distribution
                idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
                # append sampled index to the running sequence
                idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)
            return idx

    torch.manual_seed(1337)
    m = BigramLanguageModel(vocab_size)
    start = same_start(torch, m, start)
    xb, yb = get_batch("train", 0)
    contexts, targets = [], []
    for b in range(batch_size):  # batch dimension
        for t in range(block_size):  # time dimension
            context = xb[b, : t + 1]
            target = yb[b, t]
            print(f"when input is {context.tolist()} the target: {target}")
            contexts += context.tolist()
            targets.append(target.item())

    logits, loss = m(xb, yb)
    assert tuple(logits.shape) == (batch_size * block_size, vocab_size)  # the (B*T, C) view
    logits, loss = m(xb)
    assert tuple(logits.shape) == (batch_size, block_size, vocab_size) and loss is None
    examples = {"contexts": contexts, "targets": targets}
    return {"start": start, **examples, **language_model(torch, m, encode, decode, get_batch)}


def test_1_bigram_language_model() -> None:
    torch = require_torch()
    theirs = bigram(torch)
    ours = bigram(micrograd_plus, start=theirs["start"])
    assert_agree(ours, theirs)


# -- the mathematical trick in self-attention ---------------------------------------------------------


def weighted_averages(torch: ModuleType) -> dict:
    """The three versions of x[b, t] = mean_{i<=t} x[b, i], a single Head, and LayerNorm1d."""
    nn, F = torch.nn, torch.nn.functional

    # toy example illustrating how matrix multiplication can be used for a "weighted aggregation"
    a = torch.tril(torch.ones(3, 3))
    a = a / torch.sum(a, 1, keepdim=True)
    # was torch.randint(0,10,(3,2)).float()
    b = torch.tensor(np.random.default_rng(42).integers(0, 10, (3, 2))).double()
    c = a @ b

    B, T, C = 4, 8, 2  # batch, time, channels
    x = torch.tensor(given_randn(B, T, C))  # was torch.randn(B,T,C)

    # We want x[b,t] = mean_{i<=t} x[b,i]
    xbow = torch.zeros((B, T, C))
    for b in range(B):
        for t in range(T):
            xprev = x[b, : t + 1]  # (t,C)
            xbow[b, t] = torch.mean(xprev, 0)

    # version 2: using matrix multiply for a weighted aggregation
    wei = torch.tril(torch.ones(T, T))
    wei = wei / wei.sum(1, keepdim=True)
    xbow2 = wei @ x  # (B, T, T) @ (B, T, C) ----> (B, T, C)
    assert torch.allclose(xbow, xbow2)

    # version 3: use Softmax
    tril = torch.tril(torch.ones(T, T))
    wei = torch.zeros((T, T))
    wei = wei.masked_fill(tril == 0, float("-inf"))
    wei = F.softmax(wei, dim=-1)
    xbow3 = wei @ x
    assert torch.allclose(xbow, xbow3)

    # version 4: self-attention!
    B, T, C = 4, 8, 32  # batch, time, channels
    x = torch.tensor(given_randn(B, T, C, seed=1))  # was torch.randn(B,T,C)
    x.requires_grad_()

    # let's see a single Head perform self-attention
    head_size = 16
    key = nn.Linear(C, head_size, bias=False)
    query = nn.Linear(C, head_size, bias=False)
    value = nn.Linear(C, head_size, bias=False)
    for seed, layer in enumerate((key, query, value), start=2):  # the lecture's are drawn at random
        layer.load_state_dict({"weight": torch.tensor(given_randn(head_size, C, seed=seed) / math.sqrt(C))})
    k = key(x)  # (B, T, 16)
    q = query(x)  # (B, T, 16)
    wei = q @ k.transpose(-2, -1) * head_size**-0.5  # (B, T, 16) @ (B, 16, T) ---> (B, T, T)

    tril = torch.tril(torch.ones(T, T))
    wei = wei.masked_fill(tril == 0, float("-inf"))
    wei = F.softmax(wei, dim=-1)

    v = value(x)
    out = wei @ v
    assert tuple(out.shape) == (B, T, head_size)
    out.pow(2).sum().backward()
    assert (wei.detach().numpy() * np.triu(np.ones((T, T)), 1) == 0).all()  # no token attends to the future

    # "Scaled" attention multiplies wei by 1/sqrt(head_size): unit-variance q and k give unit-variance wei
    k = torch.tensor(given_randn(B, T, head_size, seed=10))  # was torch.randn(B,T,head_size)
    q = torch.tensor(given_randn(B, T, head_size, seed=11))
    scaled = q @ k.transpose(-2, -1) * head_size**-0.5
    variances = [k.var().item(), q.var().item(), scaled.var().item()]
    softened = torch.softmax(torch.tensor([0.1, -0.2, 0.3, -0.2, 0.5]), dim=-1)
    peaky = torch.softmax(torch.tensor([0.1, -0.2, 0.3, -0.2, 0.5]) * 8, dim=-1)  # gets too peaky
    assert peaky.max().item() > 0.5 > softened.max().item()  # converges to one-hot

    class LayerNorm1d:  # (used to be BatchNorm1d)
        def __init__(self, dim, eps=1e-5, momentum=0.1):  # type: ignore[no-untyped-def]
            self.eps = eps
            self.gamma = torch.ones(dim)
            self.beta = torch.zeros(dim)

        def __call__(self, x):  # type: ignore[no-untyped-def]
            # calculate the forward pass
            xmean = x.mean(1, keepdim=True)  # batch mean
            xvar = x.var(1, keepdim=True)  # batch variance
            xhat = (x - xmean) / torch.sqrt(xvar + self.eps)  # normalize to unit variance
            self.out = self.gamma * xhat + self.beta
            return self.out

        def parameters(self):  # type: ignore[no-untyped-def]
            return [self.gamma, self.beta]

    module = LayerNorm1d(100)
    y = module(torch.tensor(given_randn(32, 100, seed=5)))  # batch size 32 of 100-dimensional vectors
    assert math.isclose(y[0, :].mean().item(), 0, abs_tol=1e-12)  # of a single input, its features
    assert math.isclose(y[0, :].std().item(), 1, rel_tol=1e-5)

    return {
        "c": c.numpy(),
        "xbow": xbow.numpy(),
        "xbow2": xbow2.numpy(),
        "xbow3": xbow3.numpy(),
        "wei": wei.detach().numpy(),
        "out": out.detach().numpy(),
        "x.grad": arrays({"x": x.grad})["x"],
        "key.grad": arrays({"k": key.weight.grad})["k"],
        "variances": variances,
        "softmax": [softened.numpy(), peaky.numpy()],
        "layernorm": y.numpy(),
        "feature 0": [y[:, 0].mean().item(), y[:, 0].std().item()],  # of one feature, across the batch
    }


def test_2_the_mathematical_trick_in_self_attention() -> None:
    torch = require_torch()
    ours = weighted_averages(micrograd_plus)
    assert_agree(ours, weighted_averages(torch))
    # the loops, the tril matrix and masked_fill + softmax are one weighted average
    assert close_to_torch(ours["xbow2"], ours["xbow"]) and close_to_torch(ours["xbow3"], ours["xbow"])


# -- the full GPT: Head, MultiHeadAttention, FeedFoward, Block -----------------------------------------


def gpt(torch: ModuleType, start: dict[str, np.ndarray] | None = None, dropout: float = 0.0) -> dict:
    """The lecture's gpt.py model; `start` as `same_start`'s."""
    nn, F = torch.nn, torch.nn.functional
    vocab_size, encode, decode, get_batch = tokens(torch)

    class Head(nn.Module):
        """one head of self-attention"""

        def __init__(self, head_size):  # type: ignore[no-untyped-def]
            super().__init__()
            self.key = nn.Linear(n_embd, head_size, bias=False)
            self.query = nn.Linear(n_embd, head_size, bias=False)
            self.value = nn.Linear(n_embd, head_size, bias=False)
            self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

            self.dropout = nn.Dropout(dropout)

        def forward(self, x):  # type: ignore[no-untyped-def]
            # input of size (batch, time-step, channels)
            # output of size (batch, time-step, head size)
            B, T, C = x.shape
            k = self.key(x)  # (B,T,hs)
            q = self.query(x)  # (B,T,hs)
            # compute attention scores ("affinities")
            wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, hs) @ (B, hs, T) -> (B, T, T)
            wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # (B, T, T)
            wei = F.softmax(wei, dim=-1)  # (B, T, T)
            wei = self.dropout(wei)
            # perform the weighted aggregation of the values
            v = self.value(x)  # (B,T,hs)
            out = wei @ v  # (B, T, T) @ (B, T, hs) -> (B, T, hs)
            return out

    class MultiHeadAttention(nn.Module):
        """multiple heads of self-attention in parallel"""

        def __init__(self, num_heads, head_size):  # type: ignore[no-untyped-def]
            super().__init__()
            self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])
            self.proj = nn.Linear(head_size * num_heads, n_embd)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):  # type: ignore[no-untyped-def]
            out = torch.cat([h(x) for h in self.heads], dim=-1)
            out = self.dropout(self.proj(out))
            return out

    class FeedFoward(nn.Module):
        """a simple linear layer followed by a non-linearity"""

        def __init__(self, n_embd):  # type: ignore[no-untyped-def]
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(n_embd, 4 * n_embd),
                nn.ReLU(),
                nn.Linear(4 * n_embd, n_embd),
                nn.Dropout(dropout),
            )

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.net(x)

    class Block(nn.Module):
        """Transformer block: communication followed by computation"""

        def __init__(self, n_embd, n_head):  # type: ignore[no-untyped-def]
            # n_embd: embedding dimension, n_head: the number of heads we'd like
            super().__init__()
            head_size = n_embd // n_head
            self.sa = MultiHeadAttention(n_head, head_size)
            self.ffwd = FeedFoward(n_embd)
            self.ln1 = nn.LayerNorm(n_embd)
            self.ln2 = nn.LayerNorm(n_embd)

        def forward(self, x):  # type: ignore[no-untyped-def]
            x = x + self.sa(self.ln1(x))
            x = x + self.ffwd(self.ln2(x))
            return x

    class GPTLanguageModel(nn.Module):
        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            # each token directly reads off the logits for the next token from a lookup table
            self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
            self.position_embedding_table = nn.Embedding(block_size, n_embd)
            self.blocks = nn.Sequential(*[Block(n_embd, n_head=n_head) for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)  # final layer norm
            self.lm_head = nn.Linear(n_embd, vocab_size)

        def forward(self, idx, targets=None):  # type: ignore[no-untyped-def]
            B, T = idx.shape

            # idx and targets are both (B,T) tensor of integers
            tok_emb = self.token_embedding_table(idx)  # (B,T,C)
            pos_emb = self.position_embedding_table(torch.arange(T, device=device))  # (T,C)
            x = tok_emb + pos_emb  # (B,T,C)
            x = self.blocks(x)  # (B,T,C)
            x = self.ln_f(x)  # (B,T,C)
            logits = self.lm_head(x)  # (B,T,vocab_size)

            if targets is None:
                loss = None
            else:
                B, T, C = logits.shape
                logits = logits.view(B * T, C)
                targets = targets.view(B * T)
                loss = F.cross_entropy(logits, targets)

            return logits, loss

        def generate(self, idx, max_new_tokens):  # type: ignore[no-untyped-def]
            # idx is (B, T) array of indices in the current context
            for _ in range(max_new_tokens):
                # crop idx to the last block_size tokens
                idx_cond = idx[:, -block_size:]
                # get the predictions
                logits, loss = self(idx_cond)
                # focus only on the last time step
                logits = logits[:, -1, :]  # becomes (B, C)
                # apply softmax to get probabilities
                probs = F.softmax(logits, dim=-1)  # (B, C)
                # sample from the distribution
                idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
                # append sampled index to the running sequence
                idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)
            return idx

    device = "cpu"
    torch.manual_seed(1337)
    model = GPTLanguageModel()
    m = model.to(device)
    start = same_start(torch, m, start)
    # print the number of parameters in the model
    print(sum(p.numel() for p in m.parameters()) / 1e6, "M parameters")
    n_params = sum(p.numel() for p in m.parameters())
    assert sum(name.endswith(".tril") for name in start) == n_layer * n_head  # the buffers are saved

    @torch.no_grad()
    def estimate_loss():  # type: ignore[no-untyped-def]
        out = {}
        model.eval()
        for split in ["train", "val"]:
            losses = torch.zeros(eval_iters)
            for k in range(eval_iters):
                X, Y = get_batch(split, k)
                logits, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        model.train()
        return out

    losses = estimate_loss()
    print(f"step 0: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
    result = {"start": start, "estimate_loss": {split: loss.item() for split, loss in losses.items()}}
    if dropout:  # only the evaluation: in training mode, Dropout draws from each library's random numbers
        xb, yb = get_batch("val", 0)
        trained, evaluated = m(xb)[0].detach().numpy(), m.eval()(xb)[0].detach().numpy()
        assert not close_to_torch(trained, evaluated)  # Dropout acts in training mode
        return result
    return {**result, "n_params": n_params, **language_model(torch, m, encode, decode, get_batch)}


def test_3_the_full_gpt() -> None:
    torch = require_torch()
    theirs = gpt(torch)
    ours = gpt(micrograd_plus, start=theirs["start"])
    assert_agree(ours, theirs)
    moved = theirs["weights"]["lm_head.weight"] - theirs["start"]["lm_head.weight"]
    assert np.abs(moved).max() > 1e-4  # AdamW's steps changed the weights


def test_4_dropout_in_eval_mode() -> None:
    """gpt.py's dropout = 0.2 is the identity in estimate_loss's eval mode: both agree with no Dropout."""
    torch = require_torch()
    theirs = gpt(torch, dropout=0.2)
    ours = gpt(micrograd_plus, start=theirs["start"], dropout=0.2)
    assert_agree(ours, theirs)
    # and in eval mode, Dropout(0.2) is the identity: the losses of the model without Dropout
    assert ours["estimate_loss"] == gpt(micrograd_plus, start=theirs["start"])["estimate_loss"]


# -- beyond the lecture: nanoGPT's top-k sampling, an Embedding as one_hot @ weight, einsum ---------------


def beyond_the_lecture(torch: ModuleType) -> dict:
    """nanoGPT's `generate` (the lecture's sequel) keeps the top_k logits; an Embedding is a one-hot
    matrix product (the bigram model's lookup); the attention scores q @ k^T written with einsum."""
    nn, F = torch.nn, torch.nn.functional
    logits = torch.tensor(given_randn(2, 10, seed=6))
    temperature, top_k = 0.8, 3
    with torch.no_grad():
        # pluck the logits at the final step and scale by desired temperature
        logits = logits / temperature
        # optionally crop the logits to only the top k options
        v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
        logits[logits < v[:, [-1]]] = -float("Inf")
        # apply softmax to convert logits to (normalized) probabilities
        probs = F.softmax(logits, dim=-1)
        # sample from the distribution
        idx_next = torch.multinomial(probs, num_samples=1)
    assert ((probs > 0).sum(-1) == top_k).all()
    assert all(probs[row, int(idx_next[row, 0])] > 0 for row in range(2))  # only the top k are drawn
    ranked, order = torch.sort(probs, dim=-1, descending=True)
    assert close_to_torch(ranked[:, :top_k].numpy(), torch.softmax(v, dim=-1).numpy())

    emb = nn.Embedding(10, 4)
    emb.load_state_dict({"weight": torch.tensor(given_randn(10, 4, seed=7))})
    idx = torch.tensor([[1, 5, 2, 5]], dtype=long_of(torch))
    one_hot = F.one_hot(idx, num_classes=10).double()  # PyTorch's is int64
    assert close_to_torch((one_hot @ emb.weight).detach().numpy(), emb(idx).detach().numpy())

    q = torch.tensor(given_randn(2, 5, 4, seed=8), requires_grad=True)
    k = torch.tensor(given_randn(2, 5, 4, seed=9), requires_grad=True)
    scores = torch.einsum("btc,bsc->bts", q, k)
    assert close_to_torch(scores.detach().numpy(), (q @ k.transpose(-2, -1)).detach().numpy())
    scores.softmax(dim=-1).pow(2).sum().backward()
    return {
        "probs": probs.numpy(),
        "order": np.asarray(order)[:, :top_k],
        "scores": scores.detach().numpy(),
        "q.grad": arrays({"q": q.grad})["q"],
        "k.grad": arrays({"k": k.grad})["k"],
    }


def test_5_beyond_the_lecture() -> None:
    torch = require_torch()
    assert_agree(beyond_the_lecture(micrograd_plus), beyond_the_lecture(torch))
