"""PyTorch's "Deep Learning with PyTorch: A 60 Minute Blitz", ported: "Tensors", "A Gentle
Introduction to torch.autograd", "Neural Networks" (LeNet) and "Training a Classifier".

As in tests/nn/test_pytorch_with_examples.py, each section is written once, as a function of the
library: called with `torch` it is the tutorial's code, called with `micrograd_plus` it is the
port. Both run in float64 (the tutorial uses float32) from the same given numbers where the
tutorial draws random ones, and every result must agree to the tolerance of `close_to_torch`.

What does not port line for line (see docs/porting-table.md):
- The data: CIFAR10 and resnet18's weights cannot be downloaded here. The classifier trains on
  small synthetic 3x32x32 images (a class's pattern plus noise, from a fixed numpy generator),
  and a small convolutional net with an `fc` layer stands in for resnet18.
- Tensors hold floats: `torch.tensor([[1, 2], [3, 4]])` is float64 here, and `from_numpy` takes
  float arrays only (it shares their memory; an int array would have to be copied), so the
  tutorial's `np.array(data)` is given `dtype=np.float64`. Class labels stay numpy int arrays:
  `labels.size(0)` is `len(labels)`.
- `==` of Tensors is identity (Tensors live in sets), so `9*a**2 == a.grad` compares `.data`.
- `.data` is the numpy array itself, so `f.data.sub_(f.grad.data * learning_rate)` is
  `f.sub_(f.grad * learning_rate)` under `no_grad()` (`.grad` is an array too).
- `grad_fn` names a step by its Op (`'mean'`, `'linear'`, `'AccumulateGrad'`), not by PyTorch's
  class (`MseLossBackward0`); `MSELoss` is recorded as its parts, so the chain differs from
  PyTorch's while reaching the same parameters.
- `torch.save(net.state_dict(), PATH)` / `torch.load(PATH)` are `save` / `load` (a
  safetensors or .npz file of named arrays, never pickle).
- Random numbers differ between the libraries: where the tutorial's results depend on them they
  are given (RNG below); where it only shows them, their shape, dtype and range are compared.
- The accelerator lines run as written and find none: the CPU is the one device.
- DataLoader: `shuffle=False` so that both libraries see the same batches; `num_workers=0` (the
  tutorial's 2 only changes torch's speed).

What ports as it is thanks to this port: `tensor[:, 1] = 0`, `add_`/`sub_`/`copy_`/`t_`/`zero_`,
`tensor.device`, `torch.rand_like`, `torch.matmul(..., out=)`, `torch.mul(..., out=)`,
`tensor.mul`, `torch.flatten(x, 1)`, `_, predicted = torch.max(outputs, 1)`, `loss.grad_fn` and
its `next_functions`, and frozen parameters staying in `parameters()` and `state_dict()`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from conftest import close_to_torch, require_torch

import micrograd_plus

RNG = np.random.default_rng(60)  # the numbers the tutorial draws with torch.rand and torch.randn


def data_of(torch: ModuleType) -> Any:
    """`torch.utils.data`, or `micrograd_plus.data` (DataLoader, TensorDataset)."""
    return micrograd_plus.data if torch is micrograd_plus else torch.utils.data


def class_labels(torch: ModuleType, labels: np.ndarray) -> Any:
    """Labels as each library takes them: an int64 Tensor in PyTorch, a numpy int array here."""
    return labels if torch is micrograd_plus else torch.from_numpy(labels)


def saving(torch: ModuleType) -> tuple[Any, Any]:
    """`torch.save` and `torch.load`, or `save` and `load` (no pickle), called as the tutorial
    calls it: `load(PATH, weights_only=True)`."""
    load = micrograd_plus.load if torch is micrograd_plus else torch.load
    return torch.save, lambda path: load(path, weights_only=True)


def numbers(x: Any) -> np.ndarray:
    """A Tensor's (or an array's) numbers as a float64 array, to compare the two libraries."""
    if hasattr(x, "detach"):
        x = x.detach().numpy()
    return np.array(x, dtype=np.float64)


def assert_agree(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert close_to_torch(ours[key], theirs[key]), (key, ours[key], theirs[key])


def same_start() -> tuple[Callable, Callable]:
    """`remember` keeps a torch module's initial weights, `copy` loads them into ours (in the
    order remembered), so that both start from the same numbers."""
    initial: list[dict] = []

    def remember(module: Any) -> None:
        initial.append({k: v.detach().numpy().copy() for k, v in module.state_dict().items()})

    def copy(module: Any) -> None:
        module.load_state_dict(initial.pop(0))

    return remember, copy


# -- (1) Tensors ------------------------------------------------------------------------------------------


def tensors(torch: ModuleType) -> dict:
    results: dict[str, Any] = {}
    # Initializing a Tensor
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data, dtype=np.float64)  # the tutorial: np.array(data), an int array
    x_np = torch.from_numpy(np_array)
    x_ones = torch.ones_like(x_data)  # retains the properties of x_data
    print(f"Ones Tensor: \n {x_ones} \n")
    x_rand = torch.rand_like(x_data, dtype=torch.float64)  # the tutorial: dtype=torch.float
    print(f"Random Tensor: \n {x_rand} \n")
    assert x_rand.shape == (2, 2) and x_rand.dtype == torch.float64
    assert ((0 <= x_rand) & (x_rand < 1)).all()
    results.update(x_data=numbers(x_data), x_np=numbers(x_np), x_ones=numbers(x_ones))

    shape = (2, 3)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    print(f"Random Tensor: \n {rand_tensor} \n")
    assert rand_tensor.shape == ones_tensor.shape == zeros_tensor.shape == shape
    results.update(ones_tensor=numbers(ones_tensor), zeros_tensor=numbers(zeros_tensor))

    # Attributes of a Tensor
    tensor = torch.rand(3, 4)
    print(f"Shape of tensor: {tensor.shape}")
    print(f"Datatype of tensor: {tensor.dtype}")
    print(f"Device tensor is stored on: {tensor.device}")
    assert tensor.shape == (3, 4) and tensor.dtype == torch.float64 and str(tensor.device) == "cpu"

    # We move our tensor to the current accelerator if available
    if torch.accelerator.is_available():
        tensor = tensor.to(torch.accelerator.current_accelerator())
    assert tensor.device.type == "cpu"

    # Operations on Tensors: indexing and slicing
    tensor = torch.ones(4, 4)
    print(f"First row: {tensor[0]}")
    print(f"First column: {tensor[:, 0]}")
    print(f"Last column: {tensor[..., -1]}")
    tensor[:, 1] = 0
    print(tensor)
    results.update(tensor=numbers(tensor), first_row=numbers(tensor[0]), last_column=numbers(tensor[..., -1]))

    # Joining tensors
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    print(t1)
    results["t1"] = numbers(t1)

    # Arithmetic operations: y1, y2, y3 have the same value, and so have z1, z2, z3
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    results.update(
        y1=numbers(y1), y2=numbers(y2), y3=numbers(y3), z1=numbers(z1), z2=numbers(z2), z3=numbers(z3)
    )

    # Single-element tensors
    agg = tensor.sum()
    agg_item = agg.item()
    print(agg_item, type(agg_item))
    assert type(agg_item) is float
    results["agg_item"] = agg_item

    # In-place operations: a trailing underscore (x.copy_(y), x.t_() change x)
    print(f"{tensor} \n")
    tensor.add_(5)
    print(tensor)
    results["added"] = numbers(tensor)
    x = torch.zeros(2, 3)
    x.copy_(t1[:2, 1:4])  # (not in the tutorial: the two it names, and zero_)
    results["copied"] = numbers(x)
    assert x.t_() is x and x.shape == (3, 2)
    results["transposed"] = numbers(x)
    x.zero_()
    results["zeroed"] = numbers(x)

    # Bridge with NumPy: a Tensor and its array share their memory
    t = torch.ones(5)
    print(f"t: {t}")
    n = t.numpy()
    print(f"n: {n}")
    t.add_(1)
    print(f"t: {t}")
    print(f"n: {n}")
    results["n_after_add_"] = n.copy()
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    print(f"t: {t}")
    print(f"n: {n}")
    results["t_after_np_add"] = numbers(t)
    return results


def test_1_tensors() -> None:
    torch = require_torch()
    ours, theirs = tensors(micrograd_plus), tensors(torch)
    assert_agree(ours, theirs)
    assert theirs["n_after_add_"].tolist() == theirs["t_after_np_add"].tolist() == [2.0] * 5


# -- (2) A Gentle Introduction to torch.autograd ----------------------------------------------------------


def small_resnet(torch: ModuleType) -> Any:
    """A stand-in for resnet18 (its weights cannot be downloaded): a convolution and `fc`."""
    nn = torch.nn

    class SmallNet(nn.Module):
        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, stride=2)
            self.fc = nn.Linear(4 * 31 * 31, 1000)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))

    return SmallNet()


DATA = RNG.random((1, 3, 64, 64))  # the tutorial: torch.rand(1, 3, 64, 64)
LABELS = RNG.random((1, 1000))  # the tutorial: torch.rand(1, 1000)


def autograd_usage(torch: ModuleType, init: Any) -> dict:
    model = small_resnet(torch)  # the tutorial: resnet18(weights=ResNet18_Weights.DEFAULT)
    init(model)
    data = torch.tensor(DATA)
    labels = torch.tensor(LABELS)
    prediction = model(data)  # forward pass
    loss = (prediction - labels).sum()
    loss.backward()  # backward pass
    optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    optim.step()  # gradient descent
    return {"loss": loss.item(), **{name: numbers(p) for name, p in model.named_parameters()}}


def test_2_autograd_usage_in_pytorch() -> None:
    torch = require_torch()
    torch.manual_seed(2)
    remember, copy = same_start()
    theirs = autograd_usage(torch, remember)
    assert_agree(autograd_usage(micrograd_plus, copy), theirs)


def leaves_reached(grad_fn: Any) -> list[Any]:
    """The leaves a backward pass from `grad_fn` reaches, walking `next_functions` (each step once)."""
    found, seen, pending = [], set(), [grad_fn]
    while pending:
        step = pending.pop()
        if step is None or step in seen:
            continue
        seen.add(step)
        if getattr(step, "variable", None) is not None:  # an AccumulateGrad step
            found.append(step.variable)
        pending.extend(next_step for next_step, _ in step.next_functions)
    return found


def differentiation(torch: ModuleType) -> dict:
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    b = torch.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a**3 - b**2  # noqa: N806 (the tutorial's name)
    assert a.grad_fn is None and Q.grad_fn is not None
    assert {id(leaf) for leaf in leaves_reached(Q.grad_fn)} == {id(a), id(b)}
    external_grad = torch.tensor([1.0, 1.0])
    Q.backward(gradient=external_grad)
    # Check if collected gradients are correct (the tutorial: print(9*a**2 == a.grad))
    print((9 * a**2).data == a.grad)
    print((-2 * b).data == b.grad)
    assert ((9 * a**2).data == a.grad).all() and ((-2 * b).data == b.grad).all()
    return {"Q": numbers(Q), "a.grad": numbers(a.grad), "b.grad": numbers(b.grad)}


def test_2_differentiation_in_autograd() -> None:
    torch = require_torch()
    assert_agree(differentiation(micrograd_plus), differentiation(torch))


def exclusion_from_the_dag(torch: ModuleType) -> dict:
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    a = x + y
    print(f"Does `a` require gradients?: {a.requires_grad}")
    b = x + z
    print(f"Does `b` require gradients?: {b.requires_grad}")
    return {"a": a.requires_grad, "b": b.requires_grad}


def test_2_exclusion_from_the_dag() -> None:
    torch = require_torch()
    ours, theirs = exclusion_from_the_dag(micrograd_plus), exclusion_from_the_dag(torch)
    assert ours == theirs == {"a": False, "b": True}


def frozen_fine_tuning(torch: ModuleType, init: Any) -> dict:
    nn, optim = torch.nn, torch.optim
    model = small_resnet(torch)  # the tutorial: resnet18(weights=ResNet18_Weights.DEFAULT)
    init(model)
    frozen = {name: numbers(p) for name, p in model.named_parameters()}
    # Freeze all the parameters in the network
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(4 * 31 * 31, 10)  # the tutorial: nn.Linear(512, 10)
    init(model.fc)
    # Optimize only the classifier
    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    losses = []
    for _ in range(3):  # (not in the tutorial: a few steps show that only fc learns)
        optimizer.zero_grad()
        loss = (model(torch.tensor(DATA)) - torch.tensor(LABELS[:, :10])).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    assert model.conv.weight.grad is None and model.conv.bias.grad is None
    assert np.array_equal(numbers(model.conv.weight), frozen["conv.weight"])
    assert len(list(model.parameters())) == 4  # the frozen ones too, and in the state dict:
    assert sorted(model.state_dict()) == ["conv.bias", "conv.weight", "fc.bias", "fc.weight"]
    return {"losses": losses, "fc.weight": numbers(model.fc.weight), "fc.bias": numbers(model.fc.bias)}


def test_2_frozen_parameters() -> None:
    torch = require_torch()
    torch.manual_seed(3)
    remember, copy = same_start()
    theirs = frozen_fine_tuning(torch, remember)
    ours = frozen_fine_tuning(micrograd_plus, copy)
    assert_agree(ours, theirs)
    assert theirs["losses"][-1] < theirs["losses"][0]


# -- (3) Neural Networks: LeNet ---------------------------------------------------------------------------


def lenet(torch: ModuleType) -> Any:
    nn = torch.nn
    F = torch.nn.functional  # noqa: N806 (the tutorial's name)

    class Net(nn.Module):
        def __init__(self):  # type: ignore[no-untyped-def]
            super(Net, self).__init__()  # noqa: UP008 (the tutorial's line)
            # 1 input image channel, 6 output channels, 5x5 square convolution kernel
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            # an affine operation: y = Wx + b
            self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5*5 from image dimension
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, input):  # type: ignore[no-untyped-def]
            c1 = F.relu(self.conv1(input))
            s2 = F.max_pool2d(c1, (2, 2))
            c3 = F.relu(self.conv2(s2))
            s4 = F.max_pool2d(c3, 2)
            s4 = torch.flatten(s4, 1)
            f5 = F.relu(self.fc1(s4))
            f6 = F.relu(self.fc2(f5))
            output = self.fc3(f6)
            return output

    return Net()


INPUT = RNG.standard_normal((1, 1, 32, 32))  # the tutorial: torch.randn(1, 1, 32, 32)
OUT_GRAD = RNG.standard_normal((1, 10))  # the tutorial: torch.randn(1, 10)
TARGET = RNG.standard_normal(10)  # the tutorial: torch.randn(10)


def neural_networks(torch: ModuleType, init: Any) -> dict:
    nn, optim = torch.nn, torch.optim
    net = lenet(torch)
    init(net)
    print(net)
    params = list(net.parameters())
    print(len(params))
    print(params[0].size())  # conv1's .weight
    assert len(params) == 10 and tuple(params[0].size()) == (6, 1, 5, 5)
    names = {id(p): name for name, p in net.named_parameters()}

    input = torch.tensor(INPUT)
    out = net(input)
    print(out)
    results: dict[str, Any] = {"out": numbers(out)}
    net.zero_grad()
    out.backward(torch.tensor(OUT_GRAD))
    results.update({f"random grad {name}": numbers(p.grad) for name, p in net.named_parameters()})

    # Loss function
    output = net(input)
    target = torch.tensor(TARGET)  # a dummy target, for example
    target = target.view(1, -1)  # make it the same shape as output
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    print(loss)
    results["loss"] = loss.item()
    print(loss.grad_fn)  # MSELoss
    print(loss.grad_fn.next_functions[0][0])  # Linear
    print(loss.grad_fn.next_functions[0][0].next_functions[0][0])  # ReLU
    assert {names[id(leaf)] for leaf in leaves_reached(loss.grad_fn)} == set(names.values())

    # Backprop
    net.zero_grad()  # zeroes the gradient buffers of all parameters
    print("conv1.bias.grad before backward")
    print(net.conv1.bias.grad)
    assert net.conv1.bias.grad is None
    loss.backward()
    print("conv1.bias.grad after backward")
    print(net.conv1.bias.grad)
    results["conv1.bias.grad"] = numbers(net.conv1.bias.grad)

    # Update the weights: by hand (the tutorial: f.data.sub_(f.grad.data * learning_rate))
    learning_rate = 0.01
    with torch.no_grad():
        for f in net.parameters():
            f.sub_(f.grad * learning_rate)
    results.update({f"by hand {name}": numbers(p) for name, p in net.named_parameters()})

    # ... and with an optimizer
    optimizer = optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()  # zero the gradient buffers
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()  # Does the update
    results["loss after"] = loss.item()
    results.update({f"SGD {name}": numbers(p) for name, p in net.named_parameters()})
    return results


def test_3_neural_networks() -> None:
    torch = require_torch()
    torch.manual_seed(4)
    remember, copy = same_start()
    theirs = neural_networks(torch, remember)
    assert_agree(neural_networks(micrograd_plus, copy), theirs)


def test_3_our_grad_fn_chain_names_our_ops() -> None:
    """What `print(loss.grad_fn)` and its first next functions show here, down to the input:
    MSELoss is recorded as its parts (the mean of the squared difference), a Conv2d as the
    convolution and its bias added. PyTorch shows MseLossBackward0, AddmmBackward0, ..."""
    net = lenet(micrograd_plus)
    output = net(micrograd_plus.tensor(INPUT))
    loss = micrograd_plus.nn.MSELoss()(output, micrograd_plus.tensor(TARGET).view(1, -1))
    chain, step = [], loss.grad_fn
    while step is not None:
        chain.append(step.name())
        step = step.next_functions[0][0]
    conv_relu_pool = ["max_pool2d", "relu", "+", "conv2d"]
    assert chain == ["mean", "*", "-"] + ["linear", "relu"] * 2 + ["linear", "reshape"] + conv_relu_pool * 2
    assert loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0] == output.grad_fn
    assert repr(loss.grad_fn) == "<GradFn 'mean'>"


# -- (4) Training a Classifier ----------------------------------------------------------------------------

CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def synthetic_cifar(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` 3x32x32 images in [-1, 1] (CIFAR10 after the tutorial's Normalize): each class a
    fixed pattern, plus noise; labels 0-9 as int64. (CIFAR10 cannot be downloaded here.)"""
    patterns = np.random.default_rng(0).uniform(-0.5, 0.5, (10, 3, 32, 32))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    images = np.clip(patterns[labels] + rng.normal(0, 0.3, (count, 3, 32, 32)), -1, 1)
    return images, labels.astype(np.int64)


TRAIN, TEST = synthetic_cifar(24, seed=1), synthetic_cifar(12, seed=2)


def classifier_net(torch: ModuleType) -> Any:
    nn = torch.nn
    F = torch.nn.functional  # noqa: N806 (the tutorial's name)

    class Net(nn.Module):
        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):  # type: ignore[no-untyped-def]
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)  # flatten all dimensions except batch
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x

    return Net()


def training_a_classifier(torch: ModuleType, init: Any, path: Path) -> dict:
    nn, optim, data = torch.nn, torch.optim, data_of(torch)
    save, load = saving(torch)
    batch_size = 4
    trainset = data.TensorDataset(torch.tensor(TRAIN[0]), class_labels(torch, TRAIN[1]))
    trainloader = data.DataLoader(trainset, batch_size=batch_size, shuffle=False, num_workers=0)
    testset = data.TensorDataset(torch.tensor(TEST[0]), class_labels(torch, TEST[1]))
    testloader = data.DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=0)
    classes = CLASSES

    net = classifier_net(torch)
    init(net)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

    losses = []
    for epoch in range(2):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            # get the inputs; data is a list of [inputs, labels]
            inputs, labels = data
            # zero the parameter gradients
            optimizer.zero_grad()
            # forward + backward + optimize
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            # print statistics
            running_loss += loss.item()
            losses.append(loss.item())
            if i % 2 == 1:  # the tutorial: every 2000 mini-batches
                print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2:.3f}")
                running_loss = 0.0
    print("Finished Training")

    PATH = str(path)  # noqa: N806 (the tutorial: "./cifar_net.pth"; ours: a .safetensors file)
    save(net.state_dict(), PATH)

    dataiter = iter(testloader)
    images, labels = next(dataiter)
    print("GroundTruth: ", " ".join(f"{classes[labels[j]]:5s}" for j in range(4)))
    net = classifier_net(torch)
    net.load_state_dict(load(PATH))
    outputs = net(images)
    _, predicted = torch.max(outputs, 1)
    print("Predicted: ", " ".join(f"{classes[predicted[j]]:5s}" for j in range(4)))
    results = {"losses": losses, "first outputs": numbers(outputs), "first predicted": numbers(predicted)}

    correct = 0
    total = 0
    # since we're not training, we don't need to calculate the gradients for our outputs
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            # calculate outputs by running images through the network
            outputs = net(images)
            # the class with the highest energy is what we choose as prediction
            _, predicted = torch.max(outputs.data, 1)
            total += len(labels)  # the tutorial: labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")

    # prepare to count predictions for each class
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predictions = torch.max(outputs, 1)
            # collect the correct predictions for each class
            for label, prediction in zip(labels, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    for classname, correct_count in correct_pred.items():
        if total_pred[classname]:
            accuracy = 100 * float(correct_count) / total_pred[classname]
            print(f"Accuracy for class: {classname:5s} is {accuracy:.1f} %")
    results.update(
        correct=correct,
        total=total,
        correct_pred=list(correct_pred.values()),
        total_pred=list(total_pred.values()),
        **{name: numbers(p) for name, p in net.named_parameters()},
    )
    return results


def test_4_training_a_classifier(tmp_path: Path) -> None:
    torch = require_torch()
    torch.manual_seed(5)
    remember, copy = same_start()
    theirs = training_a_classifier(torch, remember, tmp_path / "cifar_net.pth")
    ours = training_a_classifier(micrograd_plus, copy, tmp_path / "cifar_net.safetensors")
    assert_agree(ours, theirs)
    assert theirs["total"] == len(TEST[1]) and sum(theirs["total_pred"]) == len(TEST[1])
