"""10. makemore: character-level language models of the words of the Zen of Python.

Karpathy's makemore, parts 1 and 2, on the 147 words of `import this` (no download): each word is
a sequence of letters ended by ".", and a model learns which letter comes next. First the
bigram model by counting: the frequencies of each letter after each letter, the best a model
that sees one letter can do on these words; then the same bigram model as a network,
`F.one_hot(previous) @ W` trained by gradient descent, which approaches the counts' loss; then Bengio's MLP with a context of three letters: `nn.Embedding`
for the letters, `nn.LayerNorm` and tanh in the hidden layer, AdamW on mini-batches, which beats
the counts. The MLP then makes up words, one letter at a time.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import re
import sys
from collections.abc import Sequence

import numpy as np
from _common import parse_args, report, training, wrote

import micrograd_plus as mg
from micrograd_plus import Tensor, nn, no_grad
from micrograd_plus.nn import functional as F
from micrograd_plus.viz.plot import plot_loss

NAME = "10_makemore"
CONTEXT = 3  # letters the MLP sees


def zen_words() -> list[str]:
    """The words of the Zen of Python, lower case, in order (repeats kept)."""
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the Zen
        import this
    return re.findall("[a-z]+", codecs.decode(this.s, "rot13").lower())


def examples(words: list[str], stoi: dict[str, int], context: int) -> tuple[np.ndarray, np.ndarray]:
    """(the `context` letters before, the next letter) for every letter of every word and its
    end; "." pads the start."""
    xs, ys = [], []
    for word in words:
        window = [0] * context
        for letter in word + ".":
            xs.append(window)
            ys.append(stoi[letter])
            window = window[1:] + [stoi[letter]]
    return np.array(xs), np.array(ys)


def counting_loss(x: np.ndarray, y: np.ndarray, vocab: int) -> float:
    """The bigram model by counting, p(next | previous) = count / row total: mean -log p on
    the words it counted, the lowest loss any bigram model reaches there."""
    counts = np.zeros((vocab, vocab))
    np.add.at(counts, (x, y), 1)
    p = counts[x, y] / counts.sum(axis=1)[x]
    return float(-np.log(p).mean())


def bigram_net(x: np.ndarray, y: np.ndarray, vocab: int, steps: int) -> tuple[Tensor, list[float]]:
    """logits = one_hot(previous) @ W, full-batch gradient descent with lr 50 (makemore part 1's):
    row i of softmax(W) learns the frequencies of the letters after letter i."""
    W = mg.randn(vocab, vocab, generator=np.random.default_rng(0), requires_grad=True)
    inputs = F.one_hot(x, vocab)
    losses = []
    for _ in (bar := training(steps, "bigram net")):
        loss = F.cross_entropy(inputs @ W, y)
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        W.grad = None
        loss.backward()
        W.data -= 50 * W.grad
    return W, losses


def mlp(vocab: int) -> nn.Sequential:
    """Bengio et al. 2003 as in makemore part 2, with a LayerNorm before the tanh."""
    rng = np.random.default_rng(1)
    return nn.Sequential(
        nn.Embedding(vocab, 10, seed=rng),  # (N, 3) letters -> (N, 3, 10)
        nn.Flatten(),  # -> (N, 30)
        nn.Linear(CONTEXT * 10, 64, seed=rng),
        nn.LayerNorm(64),
        nn.Tanh(),
        nn.Linear(64, vocab, seed=rng),
    )


def train_mlp(model: nn.Sequential, x: np.ndarray, y: np.ndarray, steps: int) -> list[float]:
    optimizer = mg.AdamW(model.parameters(), lr=0.01)
    rng = np.random.default_rng(2)
    losses = []
    for _ in (bar := training(steps, "MLP")):
        batch = rng.integers(0, len(x), size=64)
        loss = F.cross_entropy(model(x[batch]), y[batch])
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


def sample(model: nn.Sequential, itos: list[str], count: int, seed: int = 3) -> list[str]:
    """Made-up words: each next letter drawn from the model's probabilities, until "."."""
    rng = np.random.default_rng(seed)
    words = []
    with no_grad():
        for _ in range(count):
            window, letters = [0] * CONTEXT, []
            while len(letters) < 20:
                p = model(np.array([window])).softmax(dim=1).numpy()[0]
                nxt = int(rng.choice(len(p), p=p / p.sum()))
                if nxt == 0:
                    break
                letters.append(itos[nxt])
                window = window[1:] + [nxt]
            words.append("".join(letters))
    return words


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    words = zen_words()
    itos = ["."] + sorted(set("".join(words)))
    stoi = {s: i for i, s in enumerate(itos)}
    vocab = len(itos)
    x, y = examples(words, stoi, CONTEXT)
    print(
        f"{len(words)} words, {len(x)} examples, {vocab} symbols; uniform guessing: loss {np.log(vocab):.4f}"
    )

    counts = counting_loss(x[:, -1], y, vocab)
    W, bigram_losses = bigram_net(x[:, -1], y, vocab, 100 if args.quick else 500)
    with no_grad():
        net = F.cross_entropy(F.one_hot(x[:, -1], vocab) @ W, y).item()
    model = mlp(vocab)
    print(model)
    mlp_losses = train_mlp(model, x, y, 500 if args.quick else 2000)
    with no_grad():
        final = F.cross_entropy(model(x), y).item()

    report("bigram counting loss", f"{counts:.4f}")
    report("bigram net loss", f"{net:.4f}")
    report("MLP loss", f"{final:.4f}")
    report("samples", " ".join(sample(model, itos, 8)))
    wrote(
        plot_loss(
            {"bigram net (full batch)": bigram_losses, "MLP (batches of 64)": mlp_losses},
            args.out / "loss.png",
            title="makemore on the Zen of Python: cross-entropy per letter",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
