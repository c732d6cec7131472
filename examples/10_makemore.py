"""10. makemore: character-level language models of the words of the Zen of Python.

Karpathy's makemore, parts 1 and 2, on the words of `import this` (no download): each word is
a sequence of letters ended by ".", and a model learns which letter comes next. A random fifth
of the distinct words is held out, as makemore holds out names: a model is judged on words it
never saw. First the bigram model by counting: the frequencies of each letter after each letter
in the training words, the best a model that sees one letter can do there (with one added to
every count, makemore's smoothing, for the held-out words, whose letter pairs may be new); then
the same bigram model as a network, `F.one_hot(previous) @ W` trained by gradient descent, which
approaches the counts' loss; then Bengio's MLP with a context of three letters: `nn.Embedding`
for the letters, `nn.LayerNorm` and tanh in the hidden layer, AdamW on mini-batches.

On the training words the MLP beats the counts by far; on the held-out words it does worse
than the smoothed counts, worse even than guessing uniformly (and so does the bigram net, sure
of pairs it saw): seventy words are too few to learn spelling from, so it memorises them. Its
made-up words show it: most are training words, copied. (makemore's 32,000 names are what it
takes for the MLP to win on held-out words too.)
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


def split_words(words: list[str], seed: int = 0) -> tuple[list[str], list[str]]:
    """(training words, held-out words): a random fifth of the distinct words held out, each
    word with its repeats, so that no held-out word is seen in training."""
    distinct = sorted(set(words))
    held = set(np.random.default_rng(seed).permutation(distinct)[: len(distinct) // 5])
    return [w for w in words if w not in held], [w for w in words if w in held]


def bigram_counts(x: np.ndarray, y: np.ndarray, vocab: int, smoothing: float = 0.0) -> np.ndarray:
    """p(next | previous) = (count + smoothing) / row total, counted on the pairs given."""
    counts = np.full((vocab, vocab), smoothing)
    np.add.at(counts, (x, y), 1)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-300)


def counting_loss(p: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Mean -log p(next | previous): on the words counted, without smoothing, the lowest loss
    any bigram model reaches there."""
    return float(-np.log(p[x, y]).mean())


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
    train_words, held_words = split_words(words)
    x, y = examples(train_words, stoi, CONTEXT)
    hx, hy = examples(held_words, stoi, CONTEXT)
    print(
        f"{len(words)} words ({len(set(words))} distinct, {len(set(held_words))} of them held out): "
        f"{len(x)} training and {len(hx)} held-out examples, {vocab} symbols; "
        f"uniform guessing: loss {np.log(vocab):.4f}"
    )

    counts = counting_loss(bigram_counts(x[:, -1], y, vocab), x[:, -1], y)
    held_counts = counting_loss(bigram_counts(x[:, -1], y, vocab, smoothing=1.0), hx[:, -1], hy)
    W, bigram_losses = bigram_net(x[:, -1], y, vocab, 100 if args.quick else 500)
    model = mlp(vocab)
    print(model)
    mlp_losses = train_mlp(model, x, y, 500 if args.quick else 2000)
    with no_grad():
        net, held_net = (
            F.cross_entropy(F.one_hot(a[:, -1], vocab) @ W, b).item() for a, b in ((x, y), (hx, hy))
        )
        final, held_final = (F.cross_entropy(model(a), b).item() for a, b in ((x, y), (hx, hy)))

    report("bigram counting loss", f"{counts:.4f}")
    report("bigram counting held-out loss", f"{held_counts:.4f} (counts + 1)")
    report("bigram net loss", f"{net:.4f}")
    report("bigram net held-out loss", f"{held_net:.4f}")
    report("MLP loss", f"{final:.4f}")
    report("MLP held-out loss", f"{held_final:.4f}")
    made_up = sample(model, itos, 20)
    new = [w for w in made_up if w not in set(train_words)]
    report("samples", " ".join(made_up))
    report(
        "new words among the samples",
        f"{len(new)} of {len(made_up)}: {' '.join(new)} "
        f"({sum(w in set(held_words) for w in new)} of them held-out words of the Zen)",
    )
    wrote(
        plot_loss(
            {"bigram net (full batch)": bigram_losses, "MLP (batches of 64)": mlp_losses},
            args.out / "loss.png",
            title="makemore on the Zen of Python: training cross-entropy per letter",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
