"""explain_grad(): each reason a gradient can be what it is, told in words."""

from __future__ import annotations

import gc
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import MLP, SGD, Tensor, Value, autograd, detect_anomaly, explain_grad, no_grad


def in_fresh_thread(work):
    """Run `work` in a new thread (where no backward() has run yet) and return its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", work()))
    thread.start()
    thread.join()
    return result["value"]


def test_backward_not_yet_run():
    def work():
        x = Value(2.0, label="x")
        y = x * 3
        return explain_grad(x), explain_grad(y)

    leaf, intermediate = in_fresh_thread(work)
    assert leaf.startswith("Value 'x' (a leaf) has grad 0.0: backward() has not been run yet")
    assert "Call backward() on the output (the loss) first" in leaf
    assert "not a leaf" in intermediate and "backward() has not been run yet" in intermediate


def test_leaf_after_one_and_several_backward_calls_counts_the_passes():
    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    once = explain_grad(x)
    assert once.startswith("Value 'x' (a leaf) has grad 4.0: ")
    assert "summed over 1 backward() call since its last zero_grad()" in once
    assert "call zero_grad() before each backward()" not in once
    y.backward()
    y.backward()
    thrice = explain_grad(x)
    assert thrice.startswith("Value 'x' (a leaf) has grad 12.0: ")
    assert "summed over 3 backward() calls since its last zero_grad()" in thrice
    assert "call zero_grad() before each backward()" in thrice


def test_zero_grad_resets_the_count_and_is_explained():
    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    y.backward()
    x.zero_grad()
    text = explain_grad(x)
    assert text.startswith("Value 'x' (a leaf) has grad 0.0: the latest backward() ran from Value(data=4.0)")
    assert "zero_grad() has reset it since" in text
    y.backward()
    assert "summed over 1 backward() call" in explain_grad(x)


def test_module_and_optimizer_zero_grad_reset_the_count_too():
    model = MLP(2, [3, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    loss = model([1.0, -1.0]) ** 2
    loss.backward()
    loss.backward()
    w = model.layers[-1].neurons[0].b
    assert "summed over 2 backward() calls" in explain_grad(w)
    optimizer.zero_grad()
    assert "zero_grad() has reset it" in explain_grad(w)
    loss.backward()
    model.zero_grad()
    assert "zero_grad() has reset it" in explain_grad(w)


def test_intermediate_value_shows_the_latest_pass():
    x = Value(2.0)
    h = (x * 3).tanh()
    h.label = "h"
    y = h * 5
    y.backward()
    text = explain_grad(h)
    assert text.startswith("Value 'h' (the result of 'tanh') has grad 5.0: it is not a leaf")
    assert "latest backward() pass that reached it (recomputed on every pass, never accumulated)" in text
    assert "The latest backward() ran from Value(data=" in text and "and reached it" in text


def test_the_output_itself_holds_the_seed():
    x = Value(2.0)
    y = x * 3
    y.backward(2.0)
    text = explain_grad(y)
    assert text.startswith("Value(data=6.0) (the result of '*') has grad 2.0:")
    assert "the output the latest backward() started from, so its grad is the seed" in text


def test_requires_grad_false():
    x = Value(2.0, label="x", requires_grad=False)
    w = Value(1.0)
    (w * x).backward()
    text = explain_grad(x)
    assert "it has requires_grad=False, so backward() skips it" in text
    assert "requires_grad=True" in text
    y = x * 2  # computed only from nodes that do not require grad
    assert "none of the inputs of its operation '*' requires grad" in explain_grad(y)


def test_created_under_no_grad():
    x = Value(2.0)
    with no_grad():
        y = x * 3
    assert "it was computed under no_grad(), so no graph was recorded" in explain_grad(y)


def test_detached():
    x = Value(2.0, label="x")
    d = x.detach()
    assert "it was made by detach()" in explain_grad(d)
    assert explain_grad(d).startswith("Value 'x' (a leaf) has grad 0.0")


def test_detached_in_place():
    w = Tensor([1.0, 2.0], requires_grad=True)
    state = (w * 2).tanh()
    state.detach_()
    assert "cut from its graph in place by detach_()" in explain_grad(state)


def test_constant():
    x = Value(2.0)
    y = x * 7
    constant = y.parents[1]
    text = explain_grad(constant)
    assert text.startswith("Value(data=7.0) (a leaf) has grad 0.0: it is a constant")


def test_not_connected_to_the_output():
    x = Value(2.0, label="x")
    unused = Value(5.0, label="unused")
    loss = x * x
    loss.backward()
    text = explain_grad(unused)
    assert text.startswith(
        "Value 'unused' (a leaf) has grad 0.0: it is not connected to the output of the "
        "latest backward(), Value(data=4.0) (the result of '*')"
    )
    assert "no path through nodes that require grad" in text


def test_connected_only_through_detach_is_not_connected():
    x = Value(2.0, label="x")
    z = Value(1.0)
    loss = x.detach() * 3 + z
    loss.backward()
    assert "it is not connected to the output" in explain_grad(x)
    assert "summed over 1 backward() call" in explain_grad(z)


def test_intermediate_of_another_graph_is_not_connected_and_keeps_its_old_value():
    a = Value(1.0)
    h = a * 2
    (h * 4).backward()
    other = a * 10
    other.backward()  # a new pass from another output that does not use h
    text = explain_grad(h)
    assert text.startswith("Value(data=2.0) (the result of '*') has grad 4.0: it is not a leaf")
    assert "it is not connected to the output of the latest backward()" in text
    assert "left from an earlier pass" in text


def test_output_garbage_collected_says_it_cannot_check():
    x = Value(2.0)
    other = Value(3.0)
    (x * x).backward()  # the output is dropped right away
    gc.collect()
    assert "no longer exists" in explain_grad(other)


def test_latest_output_is_per_thread():
    x = Value(2.0, label="x")
    loss = x * x
    loss.backward()
    x.zero_grad()
    # Another thread has run no backward(): for it, none has been run yet.
    assert "backward() has not been run yet (in this thread)" in in_fresh_thread(lambda: explain_grad(x))
    assert "zero_grad() has reset it" in explain_grad(x)


def test_anomaly_mode_does_not_change_the_explanation():
    x = Value(2.0, label="x")
    with detect_anomaly():
        (x * x).backward()
    assert "summed over 1 backward() call" in explain_grad(x)


@pytest.mark.parametrize("bad", [None, 1.0, "x", [Value(1.0)]])
def test_non_nodes_are_a_type_error(bad):
    with pytest.raises(
        TypeError, match=f"explain_grad\\(\\) takes a Value or Tensor, got {type(bad).__name__}"
    ):
        explain_grad(bad)


@given(
    schedule=st.lists(st.sampled_from(["backward", "zero_grad"]), max_size=12),
    x0=st.floats(-5, 5),
)
def test_the_count_is_the_backward_calls_since_the_last_zero_grad(schedule, x0):
    x = Value(x0, label="x")
    y = x * x + x  # dy/dx = 2x + 1
    count = 0
    for action in schedule:
        if action == "backward":
            y.backward()
            count += 1
        else:
            x.zero_grad()
            count = 0
    text = explain_grad(x)
    assert x.grad == pytest.approx(count * (2 * x0 + 1), abs=1e-12)
    if count == 0:
        assert "summed over" not in text
    else:
        calls = "1 backward() call" if count == 1 else f"{count} backward() calls"
        assert f"summed over {calls} since its last zero_grad()" in text


# -- Tensors -----------------------------------------------------------------------------------


def test_tensor_cases():
    def work():
        x = Tensor([1.0, 2.0], requires_grad=True, label="x")
        h = x * 3
        loss = (h * h).sum()
        texts = {"before": explain_grad(x)}
        loss.backward()
        texts["leaf"] = explain_grad(x)
        texts["intermediate"] = explain_grad(h)
        h.retain_grad()
        loss.backward()
        texts["retained"] = explain_grad(h)
        texts["twice"] = explain_grad(x)
        x.zero_grad()
        texts["reset"] = explain_grad(x)
        texts["plain"] = explain_grad(Tensor([1.0]))
        texts["detached"] = explain_grad(x.detach())
        with no_grad():
            texts["no_grad"] = explain_grad(x * 2)
        texts["constant"] = explain_grad((x * 2).parents[1])
        texts["unused"] = explain_grad(Tensor([0.0], requires_grad=True))
        return texts

    texts = in_fresh_thread(work)
    assert texts["before"] == (
        "Tensor 'x' of shape (2,) (a leaf) has grad None: backward() has not been run yet (in this thread), so "
        "grad is still its initial None. Call backward() on the output (the loss) first."
    )
    assert texts["leaf"].startswith("Tensor 'x' of shape (2,) (a leaf) has grad [18., 36.]: ")
    assert "summed over 1 backward() call" in texts["leaf"]
    assert texts["intermediate"].startswith("Tensor of shape (2,) (the result of '*') has grad None: ")
    assert "Call .retain_grad() on it before backward()" in texts["intermediate"]
    assert texts["retained"].startswith("Tensor of shape (2,) (the result of '*') has grad [ 6., 12.]: ")
    assert "keeps its gradient because of retain_grad()" in texts["retained"]
    assert "has grad [36., 72.]" in texts["twice"] and "summed over 2 backward() calls" in texts["twice"]
    assert "zero_grad() has reset it since" in texts["reset"]
    assert "requires_grad=False" in texts["plain"] and ".requires_grad_()" in texts["plain"]
    assert "made by detach()" in texts["detached"]
    assert "computed under no_grad()" in texts["no_grad"]
    assert "it is a constant" in texts["constant"]
    assert (
        "not connected to the output of the latest backward(), Tensor of shape () (the result of 'sum')"
        in texts["unused"]
    )


def test_big_tensor_gradients_are_summarised():
    x = Tensor([1.0] * 100, requires_grad=True)
    (x * 2).sum().backward()
    assert explain_grad(x).startswith("Tensor of shape (100,) (a leaf) has grad an array of shape (100,): ")


def test_a_parameter_is_named_by_its_model_and_a_label_wins():
    model = MLP(2, [2, 1], seed=0)
    w, b = model.layers[0].neurons[1].w[0], model.layers[1].neurons[0].b
    b.label = "my bias"
    model([Value(1.0), Value(2.0)]).backward()
    assert explain_grad(w).startswith("Value 'layers.0.neurons.1.w.0' (a leaf) has grad ")
    assert explain_grad(b).startswith("Value 'my bias' (a leaf) has grad 1.0")


# -- a backward from several outputs (autograd.backward([a, b])) ------------------------------


def test_after_a_backward_from_several_outputs_it_names_each_and_which_reach_the_node():
    def work():
        x = Tensor([1.0, 2.0], requires_grad=True, label="x")
        y = Tensor(3.0, requires_grad=True, label="y")
        unused = Tensor(0.0, requires_grad=True, label="unused")
        h = x * 2
        h.retain_grad()
        a, b = h.sum(), y * 5
        a.label, b.label = "a", "b"
        autograd.backward([a, b])
        texts = {"y": explain_grad(y), "h": explain_grad(h), "unused": explain_grad(unused)}
        y.zero_grad()
        texts["y reset"] = explain_grad(y)
        return texts

    texts = in_fresh_thread(work)
    a = "Tensor 'a' of shape () (the result of 'sum')"
    b = "Tensor 'b' of shape () (the result of '*')"
    assert "summed over 1 backward() call" in texts["y"]
    assert texts["y reset"].endswith(
        f"has grad None: the latest backward() ran from the outputs {a} and {b}, of which {b} reaches it, "
        "but zero_grad() has reset it since. Call backward() again to see a gradient."
    )  # (b reaches y: the pass from a alone would not have)
    assert texts["h"].endswith(
        f"The latest backward() ran from the outputs {a} and {b}, of which {a} reaches it."
    )
    assert texts["unused"].startswith(
        f"Tensor 'unused' of shape () (a leaf) has grad None: it is not connected to the outputs of the latest "
        f"backward(), {a} and {b}: no path through nodes that require grad leads from those outputs to it"
    )


def test_an_output_of_several_holds_its_seed_and_what_the_others_sent_it():
    x = Value(2.0, label="x")
    a = x * 2
    b = a * 3
    a.label, b.label = "a", "b"
    autograd.backward([a, b])
    assert a.grad == 1.0 + 3.0
    assert explain_grad(a).endswith(
        "It is one of the outputs Value 'a' (the result of '*') and Value 'b' (the result of '*'), which the "
        "latest backward() started from, so its grad is its seed, plus what the output Value 'b' (the result "
        "of '*') sent it."
    )
    assert explain_grad(b).endswith("which the latest backward() started from, so its grad is its seed.")
    x.zero_grad()
    assert "latest backward() ran from the outputs Value 'a' (the result of '*') and Value 'b' (the result of '*'), each of which reaches it, but zero_grad() has reset it" in explain_grad(x)  # fmt: skip


def test_one_output_of_several_garbage_collected_says_it_cannot_check():
    x, y = Value(2.0), Value(3.0, label="y")
    kept = x * 2
    autograd.backward([kept, y * y])  # the second output is dropped right away
    gc.collect()
    y.zero_grad()
    assert "an output of the latest backward() of this thread no longer exists" in explain_grad(y)
    x.zero_grad()
    assert (
        explain_grad(x)
        .split(": ", 1)[1]
        .startswith("the latest backward() ran from Value(data=4.0) (the result of '*'), which does reach it")
    )


def test_a_leaf_left_out_of_backwards_inputs_is_told_so():
    x, y = Tensor(2.0, requires_grad=True, label="x"), Tensor(3.0, requires_grad=True, label="y")
    loss = x * y
    autograd.backward(loss, inputs=[x])
    assert "summed over 1 backward() call" in explain_grad(x)
    assert explain_grad(y).startswith(
        "Tensor 'y' of shape () (a leaf) has grad None: the latest backward() ran from Tensor of shape () (the "
        "result of '*'), which does reach it, but it was given inputs=[...] without it, so it stored no "
        "gradient in it. Add it to inputs"
    )
    loss.backward()  # a pass to every leaf: no inputs= any more
    y.zero_grad()
    assert "which does reach it, but zero_grad() has reset it since" in explain_grad(y)


def test_an_intermediate_off_the_way_to_backwards_inputs_is_told_its_grad_is_old():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = b * 2
    c.label = "c"
    (a * c).backward()  # c.grad: 2.0
    on_the_way = a * 5
    loss = (on_the_way * c) * 10
    autograd.backward(loss, inputs=[a])  # stores only between the output and a
    assert c.grad == 2.0  # (this pass would have given 100.0), as in PyTorch
    assert "inputs=[...] that it does not lead to" in explain_grad(c)
    assert on_the_way.grad == 60.0 and "does not lead to" not in explain_grad(on_the_way)
