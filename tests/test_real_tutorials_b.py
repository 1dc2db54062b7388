"""The official PyTorch tutorials (pytorch/tutorials: beginner_source basics, blitz and introyt,
intermediate_source's torch.func, parametrization, pruning and custom-Function tutorials) as a conformance suite:
each tutorial's code, on small synthetic data where it downloads a dataset, runs under PyTorch and under ember
with the same seed; what it prints and the numbers it ends with must agree. The tutorial bodies take the module as
``torch`` so they read as the tutorials do."""
import contextlib
import io
import math
import re

import numpy as np
import torch

import ember
from helpers import import_torchvision


def _printed(tutorial, T, *args):
    """What ``tutorial(T)`` prints, object addresses masked, with the values it returns."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        values = tutorial(T, *args)
    out = re.sub(r'0x[0-9a-f]+', '0x?', buf.getvalue())
    # hook dicts print their keys, ids from a process-wide counter that depends on what ran before in the worker
    return re.sub(r'\((\d+), <', '(?, <', out), values


def _same_print(tutorial, *args):
    (got, gv), (want, wv) = _printed(tutorial, ember, *args), _printed(tutorial, torch, *args)
    assert got == want
    return gv, wv


def _tensors_tutorials(torch):
    """basics/tensorqs_tutorial, blitz/tensor_tutorial and introyt/tensors_deeper_tutorial (their printed cells,
    less the uninitialised torch.empty values)."""
    torch.manual_seed(1729)
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    print(f"Ones Tensor: \n {torch.ones_like(x_data)} \n")
    print(f"Random Tensor: \n {torch.rand_like(x_data, dtype=torch.float)} \n")
    tensor = torch.rand(3, 4)
    print(f"Shape of tensor: {tensor.shape}\nDatatype of tensor: {tensor.dtype}\nDevice: {tensor.device}")
    tensor = torch.ones(4, 4)
    print('First row: ', tensor[0], 'First column: ', tensor[:, 0], 'Last column:', tensor[..., -1])
    tensor[:, 1] = 0
    print(torch.cat([tensor, tensor, tensor], dim=1))
    y3 = torch.rand_like(tensor)
    torch.matmul(tensor, tensor.T, out=y3)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    agg_item = tensor.sum().item()
    print(tensor @ tensor.T, y3, z3, agg_item, type(agg_item), tensor.add_(5))
    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    print(f"t: {t}\nn: {n}")
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    print(f"t: {t}\nn: {n}")
    print(type(torch.empty(3, 4)), torch.zeros(2, 3), torch.rand(2, 3))
    print(torch.tensor([[3.1415926, 2.71828], [1.61803, 0.0072897]]), torch.tensor(((2, 4, 6), [3, 6, 9])))
    b = torch.rand((2, 3), dtype=torch.float64) * 20.
    print(torch.ones((2, 3), dtype=torch.int16), b, b.to(torch.int32))
    twos = torch.ones(2, 2) * 2
    print((torch.ones(2, 2) * 7 - 1) / 2, twos ** 0.5, twos ** torch.tensor([[1, 2], [3, 4]]))
    a = torch.ones(4, 3, 2)
    print(a * torch.rand(3, 2), a * torch.rand(3, 1), a * torch.rand(1, 2))
    a = torch.rand(2, 4) * 2 - 1
    print(torch.abs(a), torch.ceil(a), torch.floor(a), torch.clamp(a, -0.5, 0.5))
    angles = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    print(angles, torch.sin(angles), torch.asin(torch.sin(angles)))
    print(torch.bitwise_xor(torch.tensor([1, 5, 11]), torch.tensor([2, 7, 10])))
    d = torch.tensor([[1., 2.], [3., 4.]])
    print(torch.eq(d, torch.ones(1, 2)), torch.max(d), torch.max(d).item(), torch.mean(d), torch.std(d),
          torch.prod(d), torch.unique(torch.tensor([1, 2, 1, 2, 1, 2])))
    m1 = torch.rand(2, 2)
    print(torch.linalg.cross(torch.tensor([0., 1., 0.]), torch.tensor([1., 0., 0.])), m1)
    b = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    print(torch.sin_(b), b)
    a, b = torch.ones(2, 2), torch.rand(2, 2)
    print(a.add_(b), b.mul_(b), b)
    c = torch.zeros(2, 2)
    assert torch.matmul(torch.rand(2, 2), torch.rand(2, 2), out=c) is c
    torch.rand(2, 2, out=c)
    a = torch.rand(2, 2, requires_grad=True)
    print(c, a, a.clone(), a.detach().clone())
    a = torch.rand(1, 20)
    print(a.shape, a, a.squeeze(0).shape, torch.rand(2, 2).squeeze(0).shape, torch.rand(1, 1, 1, 1, 1))
    print(torch.ones(4, 3, 2) * torch.rand(3).unsqueeze(1), torch.rand(6, 20, 20).reshape(6 * 20 * 20).shape)
    x = torch.zeros(5, 3, dtype=torch.long).new_ones(5, 3, dtype=torch.double)
    x = torch.randn_like(x, dtype=torch.float)
    result = torch.empty(5, 3)
    torch.add(x, torch.rand(5, 3), out=result)
    print(x, x.size(), result, torch.randn(4, 4).view(-1, 8).size(), torch.randn(1).item())
    return m1.numpy(), torch.svd(torch.matmul(m1, torch.tensor([[3., 0.], [0., 3.]])))


def test_tensor_tutorials():
    got, want = _same_print(_tensors_tutorials)
    np.testing.assert_array_equal(got[0], want[0])
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def _autograd_tutorials(torch):
    """blitz/autograd_tutorial, basics/autogradqs_tutorial and introyt/autogradyt_tutorial."""
    torch.manual_seed(0)
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    out = (y * y * 3).mean()
    print(x, y, y.grad_fn, out)
    a = torch.randn(2, 2)
    a = ((a * 3) / (a - 1))
    print(a.requires_grad, a.requires_grad_(True).requires_grad, (a * a).sum().grad_fn)
    out.backward()
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    y.backward(torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float))
    print(y, x.grad, (x ** 2).requires_grad)
    with torch.no_grad():
        print((x ** 2).requires_grad)
    w, b = torch.randn(5, 3, requires_grad=True), torch.randn(3, requires_grad=True)
    z = torch.matmul(torch.ones(5), w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.zeros(3))
    print(f"Gradient function for z = {z.grad_fn}\nGradient function for loss = {loss.grad_fn}")
    loss.backward()
    print(w.grad, b.grad, z.detach().requires_grad)
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"Second call\n{inp.grad}")
    a = torch.linspace(0., 2. * math.pi, steps=25, requires_grad=True)
    d = 2 * torch.sin(a) + 1
    out = d.sum()
    print(d.grad_fn, d.grad_fn.next_functions, d.grad_fn.next_functions[0][0].next_functions,
          d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions,
          d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0].next_functions)
    out.backward()
    print(a.grad)
    a = torch.ones(2, 3, requires_grad=True) * 2
    b = torch.ones(2, 3, requires_grad=True) * 3

    @torch.no_grad()
    def add_tensors2(x, y):
        return x + y
    print(a + b, add_tensors2(a, b), a * b)
    a = torch.linspace(0., 2. * math.pi, steps=25, requires_grad=True)
    try:
        torch.sin_(a)
    except RuntimeError as e:
        print(e)

    def exp_adder(x, y):
        return 2 * x.exp() + 3 * y
    print(torch.autograd.functional.jacobian(exp_adder, (torch.rand(3), torch.rand(3))))

    def do_some_doubling(x):
        y = x * 2
        while y.data.norm() < 1000:
            y = y * 2
        return y
    inputs, v = torch.randn(3), torch.tensor([0.1, 1.0, 0.0001])
    print(torch.autograd.functional.vjp(do_some_doubling, inputs, v=v),
          torch.autograd.functional.jvp(do_some_doubling, inputs, v=v),
          torch.autograd.functional.hessian(lambda x: (x ** 3).sum(), torch.tensor([1., 2.])),
          torch.autograd.functional.hvp(lambda x: (x ** 3).sum(), torch.tensor([1., 2.]), torch.tensor([1., 1.])))


def test_autograd_tutorials():
    _same_print(_autograd_tutorials)


def _quickstart(torch, datasets, steps):
    """basics/quickstart, buildmodel, optimization and saveloadrun tutorials (FashionMNIST as FakeData of its
    shape, two epochs on a few batches) and blitz/neural_networks_tutorial's LeNet."""
    import os
    import tempfile
    nn = torch.nn
    torch.manual_seed(0)

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                                   nn.Linear(512, 10))

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))
    model = NeuralNetwork()
    print(model)
    logits = model(torch.rand(1, 28, 28))
    print(f"Predicted class: {nn.Softmax(dim=1)(logits).argmax(1)}")
    hidden1 = nn.Linear(in_features=28 * 28, out_features=20)(nn.Flatten()(torch.rand(3, 28, 28)))
    print(hidden1.size(), f"Before ReLU: {hidden1}\n\n", f"After ReLU: {nn.ReLU()(hidden1)}")
    for name, param in model.named_parameters():
        print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
    tf = datasets.transforms.ToTensor()
    training_data = datasets.datasets.FakeData(size=48, image_size=(1, 28, 28), num_classes=10, transform=tf)
    test_data = datasets.datasets.FakeData(size=16, image_size=(1, 28, 28), num_classes=10, transform=tf,
                                           random_offset=100)
    train_dataloader = torch.utils.data.DataLoader(training_data, batch_size=16)
    test_dataloader = torch.utils.data.DataLoader(test_data, batch_size=16)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    losses = []
    for t in range(2):
        model.train()
        for batch, (X, y) in enumerate(train_dataloader):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in test_dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        losses += [test_loss, correct]
    path = os.path.join(tempfile.mkdtemp(), 'model.pth')
    torch.save(model.state_dict(), path)
    model = NeuralNetwork()
    print(model.load_state_dict(torch.load(path, weights_only=True)))
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = torch.flatten(F.max_pool2d(F.relu(self.conv2(x)), 2), 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
    net = Net()
    print(net, len(list(net.parameters())))
    input = torch.randn(1, 1, 32, 32)
    loss = nn.MSELoss()(net(input), torch.randn(10).view(1, -1))
    print(loss, loss.grad_fn, loss.grad_fn.next_functions[0][0], loss.grad_fn.next_functions[0][0].next_functions[0][0])
    net.zero_grad()
    print(net.conv1.bias.grad)
    loss.backward()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    optimizer.step()
    return losses, net.conv1.bias.grad.numpy(), net.fc3.bias.detach().numpy()


def test_quickstart_buildmodel_optimization_saveload():
    got, want = _printed(_quickstart, ember, ember.vision, 3), _printed(_quickstart, torch, import_torchvision(), 3)
    assert got[0] == want[0]
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)


def _func_tutorials(torch):
    """intermediate/per_sample_grads, jacobians_hessians and neural_tangent_kernels (torch.func), smaller."""
    from functools import partial
    fn = torch.func
    functional_call, vmap, grad, jacrev, jacfwd, hessian, vjp, jvp = (fn.functional_call, fn.vmap, fn.grad, fn.jacrev,
                                                                      fn.jacfwd, fn.hessian, fn.vjp, fn.jvp)
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 10),
                          nn.LogSoftmax(dim=1))
    data, targets = torch.randn(6, 1, 8, 8), torch.randint(10, (6,))
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        predictions = functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return F.nll_loss(predictions, target.unsqueeze(0))
    ft_per_sample_grads = vmap(grad(compute_loss), in_dims=(None, None, 0, 0))(params, buffers, data, targets)
    loop = [torch.autograd.grad(F.nll_loss(model(data[i:i + 1]), targets[i:i + 1]), list(model.parameters()))
            for i in range(6)]
    for i, g in enumerate(ft_per_sample_grads.values()):
        assert torch.allclose(torch.stack([l[i] for l in loop]), g, atol=3e-6)

    def predict(weight, bias, x):
        return F.linear(x, weight, bias).tanh()
    D = 8
    weight, bias, x = torch.randn(D, D), torch.randn(D), torch.randn(D)
    _, vjp_fn = vjp(partial(predict, weight, bias), x)
    out = [vmap(vjp_fn)(torch.eye(D))[0], jacrev(predict, argnums=2)(weight, bias, x),
           *jacrev(predict, argnums=(0, 1))(weight, bias, x), jacfwd(predict, argnums=2)(weight, bias, x),
           hessian(predict, argnums=2)(weight, bias, x),
           jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)]
    weight, bias, x = torch.randn(5, 7), torch.randn(5), torch.randn(3, 7)
    out += [vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, x),
            jacrev(lambda w, b, x: predict(w, b, x).sum(0), argnums=2)(weight, bias, x).movedim(1, 0),
            vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, x)]
    x, tangent = torch.randn(64), torch.randn(64)
    out += [jvp(grad(lambda x: x.sin().sum()), (x,), (tangent,))[1],
            vjp(grad(lambda x: x.sin().sum()), x)[1](tangent)[0]]
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 3))
    params = {k: v.detach() for k, v in net.named_parameters()}

    def fnet_single(params, x):
        return functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)
    x1, x2 = torch.randn(3, 3, 7, 7), torch.randn(2, 3, 7, 7)
    jac1 = [j.flatten(2) for j in vmap(jacrev(fnet_single), (None, 0))(params, x1).values()]
    jac2 = [j.flatten(2) for j in vmap(jacrev(fnet_single), (None, 0))(params, x2).values()]
    out += [torch.stack([torch.einsum(e, j1, j2) for j1, j2 in zip(jac1, jac2)]).sum(0)
            for e in ('Naf,Mbf->NMab', 'Naf,Maf->NM', 'Naf,Maf->NMa')]

    def get_ntk(x1, x2):
        output, vjp_fn = vjp(lambda p: fnet_single(p, x1), params)

        def get_ntk_slice(vec):
            return jvp(lambda p: fnet_single(p, x2), (params,), vjp_fn(vec))[1]
        return vmap(get_ntk_slice)(torch.eye(output.numel()))
    out.append(vmap(vmap(get_ntk, (None, 0)), (0, None))(x1, x2))
    return [o.detach().numpy() for o in out]


def test_torch_func_tutorials():
    got, want = _same_print(_func_tutorials)
    assert len(got) == len(want) == 16
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6)
    np.testing.assert_allclose(got[-1], got[-4], rtol=1e-4, atol=1e-5)


def _parametrizations(torch):
    """intermediate/parametrizations and pruning_tutorial: printed modules, parametrization lists, pruning masks,
    hooks and state_dict keys; the matrix distances are returned."""
    nn = torch.nn
    import importlib
    parametrize, prune = (importlib.import_module(f'{torch.__name__}.nn.utils.{m}') for m in ('parametrize', 'prune'))
    torch.manual_seed(0)

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu(1)

    class CayleyMap(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("Id", torch.eye(n))

        def forward(self, X):
            return torch.linalg.solve(self.Id - X, self.Id + X)

        def right_inverse(self, A):
            return torch.linalg.solve(A + self.Id, self.Id - A)

    class NoisyParametrization(nn.Module):
        def forward(self, X):
            print("Computing the Parametrization")
            return X
    layer = nn.Linear(3, 3)
    print(f"Unparametrized:\n{layer}")
    parametrize.register_parametrization(layer, "weight", Symmetric())
    print(f"\nParametrized:\n{layer}", layer.parametrizations, layer.parametrizations.weight,
          layer.parametrizations.weight[0], dict(layer.named_parameters()), layer.weight)
    cnn = nn.Conv2d(in_channels=5, out_channels=8, kernel_size=3)
    parametrize.register_parametrization(cnn, "weight", Skew())
    print(cnn.weight[0, 1], cnn.weight[2, 2])
    layer = nn.Linear(4, 4)
    parametrize.register_parametrization(layer, "weight", NoisyParametrization())
    foo = layer.weight + layer.weight.T
    with parametrize.cached():
        foo = layer.weight + layer.weight.T
        print(foo.grad_fn.name(), layer.weight.sum())
    dists = []
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Skew())
    parametrize.register_parametrization(layer, "weight", CayleyMap(3))
    X = torch.rand(3, 3)
    X = X - X.T
    layer.weight = X
    dists += [torch.dist(layer.weight, X), torch.dist(layer.weight.T @ layer.weight, torch.eye(3))]
    nn.init.orthogonal_(layer.weight)
    dists.append(torch.dist(layer.weight.T @ layer.weight, torch.eye(3)))
    parametrize.remove_parametrizations(layer, "weight")
    print(f"\nAfter:\n{layer}")
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Skew())
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    print(layer.weight)
    module = nn.Conv2d(1, 6, 3)
    prune.random_unstructured(module, name="weight", amount=0.3)
    print(list(module.named_parameters()), list(module.named_buffers()), module.weight, module._forward_pre_hooks)
    prune.l1_unstructured(module, name="bias", amount=3)
    prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
    hook = [h for h in module._forward_pre_hooks.values() if h._tensor_name == "weight"][0]
    print(module.bias, module.weight, list(hook), nn.Sequential(module).state_dict().keys())
    prune.remove(module, 'weight')
    print(list(module.named_parameters()), list(module.named_buffers()))
    model = nn.Sequential(nn.Conv2d(1, 6, 3), nn.Linear(12, 8), nn.Linear(8, 3))
    prune.global_unstructured([(m, 'weight') for m in model], pruning_method=prune.L1Unstructured, amount=0.2)
    for m in model:
        print("Sparsity in {}: {:.2f}%".format(m, 100. * float(torch.sum(m.weight == 0)) / float(m.weight.nelement())))

    class FooBarPruningMethod(prune.BasePruningMethod):
        PRUNING_TYPE = 'unstructured'

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask
    FooBarPruningMethod.apply(model[2], 'bias')
    print(model[2].bias_mask, model[2].bias)
    return [d.item() for d in dists]


def test_parametrizations_and_pruning_tutorials():
    got, want = _same_print(_parametrizations)
    np.testing.assert_allclose(got, want, atol=2e-6)


def _double_backward(torch):
    """intermediate/custom_function_double_backward_tutorial: gradcheck and gradgradcheck of custom Functions
    that save inputs, outputs or intermediate results, once_differentiable, and a wrong backward's message."""
    once_differentiable = torch.autograd.function.once_differentiable

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, grad_out):
            x, = ctx.saved_tensors
            return grad_out * 2 * x

    class Sinh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            expx, expnegx = torch.exp(x), torch.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += _grad_out_exp * expx
            grad_input -= _grad_out_negexp * expnegx
            return grad_input

    class SinhBad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.expx, ctx.expnegx = torch.exp(x), torch.exp(-x)
            return (ctx.expx - ctx.expnegx) / 2

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * (ctx.expx + ctx.expnegx) / 2

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g
    x = torch.tensor([[0.1, 0.7, 0.3], [0.5, 0.2, 0.9]], dtype=torch.double, requires_grad=True)
    print([torch.autograd.gradcheck(f, x) and torch.autograd.gradgradcheck(f, x)
           for f in (Square.apply, lambda x: Sinh.apply(x)[0])])
    out = Sinh.apply(x)[0]
    g, = torch.autograd.grad(out.sum(), x, create_graph=True)
    print(out.grad_fn, g.grad_fn, Square.apply(x).grad_fn.next_functions)
    g, = torch.autograd.grad(SinhBad.apply(x).sum(), x, create_graph=True)
    print(g.requires_grad, g.grad_fn, torch.autograd.gradcheck(SinhBad.apply, x))
    g, = torch.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    print(g.requires_grad, g.grad_fn)
    try:
        g.sum().backward()
    except RuntimeError as e:
        print(e)
    y = torch.tensor([1., 2.], dtype=torch.double, requires_grad=True)
    for wrong in (lambda a: Cube.apply(a) * 0.5 + SinhBad.apply(a).detach(),
                  lambda a: Cube.apply(a.float()) + a.float().detach()):
        try:
            torch.autograd.gradcheck(wrong, y)
        except RuntimeError as e:
            print(type(e).__name__, e)
    return g.detach().numpy()


def test_custom_function_double_backward_tutorial():
    """Also the gradcheck failure message: PyTorch prints the two Jacobians as tensors (the numerical one in the
    output's dtype, the analytical one in the input's); ember printed NumPy arrays."""
    got, want = _same_print(_double_backward)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _forward_ad_tutorial(torch):
    """intermediate/forward_ad_usage: dual tensors (torch.autograd.forward_ad was missing), with modules, through
    functional_call, a custom Function defining jvp only, gradcheck(check_forward_ad=True), and its errors."""
    import importlib
    fwAD = importlib.import_module(f'{torch.__name__}.autograd.forward_ad')
    nn = torch.nn
    torch.manual_seed(0)
    primal, tangent = torch.randn(4, 4), torch.randn(4, 4)
    with fwAD.dual_level():
        dual_input = fwAD.make_dual(primal, tangent)
        assert fwAD.unpack_dual(dual_input).tangent is tangent
        assert fwAD.unpack_dual(fwAD.make_dual(primal, tangent.T)).tangent is not tangent
        dual_output = dual_input ** 2 + torch.randn(4, 4) ** 2
        jvps = [fwAD.unpack_dual(dual_output).tangent, fwAD.unpack_dual(dual_input.tanh().sum(0)).tangent]
        print(fwAD.unpack_dual(dual_output), fwAD.unpack_dual(primal), dual_input, dual_output[:2] * 3,
              fwAD.make_dual(torch.ones(2, requires_grad=True) * 1, torch.ones(2)))
    assert fwAD.unpack_dual(dual_output).tangent is None
    print(dual_output)
    model, input = nn.Linear(5, 5), torch.randn(16, 5)
    params = {name: p for name, p in model.named_parameters()}
    tangents = {name: torch.rand_like(p) for name, p in params.items()}
    with fwAD.dual_level():
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fwAD.make_dual(p, tangents[name]))
        jvps.append(fwAD.unpack_dual(model(input)).tangent)
    with fwAD.dual_level():
        dual_params = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
        jvps.append(fwAD.unpack_dual(torch.func.functional_call(nn.Linear(5, 5), dual_params, input)).tangent)

    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            result = torch.exp(foo)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, gI):
            gO = gI * ctx.result
            del ctx.result
            return gO
    primal = torch.randn(3, 3, dtype=torch.double, requires_grad=True)
    with fwAD.dual_level():
        jvps.append(fwAD.unpack_dual(Fn.apply(fwAD.make_dual(primal, torch.randn(3, 3, dtype=torch.double)))).tangent)
    print(torch.autograd.gradcheck(Fn.apply, (primal,), check_forward_ad=True, check_backward_ad=False,
                                   check_undefined_grad=False, check_batched_grad=False),
          torch.autograd.gradcheck(lambda x: (x * 2).sin(), (primal,), check_forward_ad=True))
    for bad in (lambda: fwAD.make_dual(primal, primal), lambda: fwAD.enter_dual_level(),
                lambda: fwAD.make_dual(torch.arange(3), torch.ones(3)),
                lambda: fwAD.make_dual(torch.ones(2), torch.ones(3))):
        try:
            with fwAD.dual_level():
                bad()
        except (RuntimeError, ValueError) as e:
            print(type(e).__name__, e)
    try:
        fwAD.make_dual(primal, primal)
    except RuntimeError as e:
        print(e)
    print(primal, params['weight'] * 1)   # a leaf and a result after the levels: printed as always
    return [j.detach().numpy() for j in jvps]


def test_forward_ad_tutorial():
    got, want = _same_print(_forward_ad_tutorial)
    assert len(got) == len(want) == 5
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_forward_ad_tangents_match_finite_differences():
    """Tangents of a small conv/pool/attention-like computation (float64) against central differences."""
    fwAD = ember.autograd.forward_ad
    rng = np.random.RandomState(0)
    x, v, w = rng.randn(1, 2, 5, 5), rng.randn(1, 2, 5, 5), rng.randn(3, 2, 3, 3)

    def f(lib, a):
        y = lib.nn.functional.conv2d(lib.tanh(a), lib.tensor(w), padding=1)
        y = lib.nn.functional.max_pool2d(y, 2).flatten(1)
        return lib.softmax(y @ y.T / 3 + y.sum(), dim=-1) * y.norm()
    with fwAD.dual_level():
        out = fwAD.unpack_dual(f(ember, fwAD.make_dual(ember.tensor(x), ember.tensor(v)))).tangent.numpy()
    eps = 1e-6
    fd = (f(ember, ember.tensor(x + eps * v)).numpy() - f(ember, ember.tensor(x - eps * v)).numpy()) / (2 * eps)
    np.testing.assert_allclose(out, fd, rtol=1e-6, atol=1e-8)


def _saved_tensors_hooks_tutorial(torch):
    """intermediate/autograd_saved_tensors_hooks_tutorial: ``grad_fn._saved_self``/``_saved_other``/
    ``_saved_result`` (ember's nodes had none), and pack/unpack hooks that return an index, a tuple or a string."""
    torch.manual_seed(0)
    a, b = torch.randn(5, requires_grad=True), torch.ones(5, requires_grad=True)
    y = a * b
    print(y.grad_fn._saved_self, y.grad_fn._saved_other, y.grad_fn._saved_self is a, y.grad_fn._saved_other is b)
    y = torch.exp(a)
    print(y.grad_fn._saved_result.equal(y), y.grad_fn._saved_result is y, y.grad_fn._saved_result)
    a, b = torch.ones(5, requires_grad=True), torch.ones(5, requires_grad=True) * 2
    with torch.autograd.graph.saved_tensors_hooks(lambda x: print("Packing", x) or x,
                                                  lambda x: print("Unpacking", x) or x):
        y = a * b
    y.sum().backward()
    storage = []

    def pack(x):
        storage.append(x)
        return len(storage) - 1
    grads = []
    for pack_hook, unpack_hook in ((lambda x: x * 4, lambda x: x / 4), (pack, lambda i: storage[i]),
                                   (lambda x: (x - 1, lambda x: x + 1), lambda p: p[1](p[0])),
                                   (lambda x: repr(x), lambda x: eval(torch.__name__ + "." + x, {torch.__name__: torch}))):
        x = torch.randn(5, requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            y = x * x if pack_hook is not pack else torch.pow(x, 2)
        print(y.grad_fn._saved_self)
        y.sum().backward()
        grads.append((x.grad - 2 * x).abs().max().item())
    x = torch.randn(3, requires_grad=True)
    for y in (x.sin(), x.tanh(), x.sigmoid(), x / 2, x - x, x.log(), x + 1, x * 2):
        print(y.grad_fn.name(), [getattr(y.grad_fn, '_saved_' + n, 'missing') is x for n in ('self', 'other')],
              getattr(y.grad_fn, '_saved_result', None) is y)
    y = x.exp()
    y.sum().backward()
    for name in ('_saved_result', '_saved_foo'):
        try:
            getattr(y.grad_fn, name)
        except (RuntimeError, AttributeError) as e:
            print(type(e).__name__, e)
    return grads


def test_saved_tensors_hooks_tutorial():
    got, want = _same_print(_saved_tensors_hooks_tutorial)
    np.testing.assert_allclose(got, want, atol=1e-4)


def _char_rnn(torch):
    """intermediate/char_rnn_classification_tutorial and char_rnn_generation_tutorial on a few names: a Dataset of
    one-hot line tensors, random_split with a seeded generator, nn.RNN classifier trained in batches with
    clip_grad_norm_, the confusion matrix; the generation RNN's manual SGD and its greedy samples."""
    import random
    import string
    import unicodedata
    nn = torch.nn
    torch.manual_seed(0)
    rnd = random.Random(0)
    letters = string.ascii_letters + " .,;'" + "_"

    def lineToTensor(line):
        tensor = torch.zeros(len(line), 1, len(letters))
        for li, letter in enumerate(line):
            tensor[li][0][letters.find(letter) if letter in letters else letters.find("_")] = 1
        return tensor
    print(''.join(c for c in unicodedata.normalize('NFD', 'Ślusàrski') if unicodedata.category(c) != 'Mn'),
          lineToTensor('Ahn')[:, :, :3])
    names = {'English': ['Smith', 'Jones', 'Brown', 'Taylor'], 'Italian': ['Rossi', 'Russo', 'Ferrari', 'Bianchi'],
             'Polish': ['Nowak', 'Wojcik', 'Kowalski']}

    class NamesDataset(torch.utils.data.Dataset):
        def __init__(self):
            self.data = [(label, name) for label, lines in names.items() for name in lines]
            self.labels_uniq = sorted(names)

        def __len__(self):
            return len(self.data)

        def __getitem__(self, idx):
            label, name = self.data[idx]
            return torch.tensor([self.labels_uniq.index(label)], dtype=torch.long), lineToTensor(name), label, name
    alldata = NamesDataset()
    train_set, test_set = torch.utils.data.random_split(alldata, [.75, .25],
                                                        generator=torch.Generator().manual_seed(2024))
    print(len(train_set), len(test_set), test_set.indices)

    class CharRNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(CharRNN, self).__init__()
            self.rnn = nn.RNN(input_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line_tensor):
            rnn_out, hidden = self.rnn(line_tensor)
            return self.softmax(self.h2o(hidden[0]))
    rnn = CharRNN(len(letters), 16, 3)
    print(rnn, rnn(lineToTensor('Albert')).topk(1))
    optimizer = torch.optim.SGD(rnn.parameters(), lr=0.15)
    criterion = nn.NLLLoss()
    losses = []
    for epoch in range(2):
        batches = list(range(len(train_set)))
        rnd.shuffle(batches)
        for batch in np.array_split(batches, len(batches) // 3):
            batch_loss = 0
            for i in batch:
                label_tensor, text_tensor, _, _ = train_set[i]
                batch_loss += criterion(rnn(text_tensor), label_tensor)
            batch_loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()
            losses.append(batch_loss.item() / len(batch))
    confusion = torch.zeros(3, 3)
    with torch.no_grad():
        for label_tensor, text_tensor, label, _ in test_set:
            confusion[label_tensor.item()][rnn(text_tensor).topk(1)[1][0].item()] += 1
    print(confusion / confusion.sum(1, keepdim=True).clamp(min=1))
    n_letters = len(letters) + 1

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(RNN, self).__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(3 + input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(3 + input_size + hidden_size, output_size)
            self.o2o = nn.Linear(hidden_size + output_size, output_size)
            self.dropout = nn.Dropout(0.1)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, category, input, hidden):
            input_combined = torch.cat((category, input, hidden), 1)
            hidden = self.i2h(input_combined)
            output = self.o2o(torch.cat((hidden, self.i2o(input_combined)), 1))
            return self.softmax(self.dropout(output)), hidden
    gen = RNN(n_letters, 16, n_letters)
    for it in range(4):
        category = rnd.choice(sorted(names))
        line = rnd.choice(names[category])
        category_tensor = torch.zeros(1, 3)
        category_tensor[0][sorted(names).index(category)] = 1
        input_line_tensor = torch.zeros(len(line), 1, n_letters)
        for li, letter in enumerate(line):
            input_line_tensor[li][0][letters.find(letter)] = 1
        target_line_tensor = torch.LongTensor([letters.find(c) for c in line[1:]] + [n_letters - 1])
        target_line_tensor.unsqueeze_(-1)
        hidden = torch.zeros(1, 16)
        gen.zero_grad()
        loss = torch.Tensor([0])
        for i in range(input_line_tensor.size(0)):
            output, hidden = gen(category_tensor, input_line_tensor[i], hidden)
            loss += criterion(output, target_line_tensor[i])
        loss.backward()
        for p in gen.parameters():
            p.data.add_(p.grad.data, alpha=-0.005)
        losses.append(loss.item() / input_line_tensor.size(0))
    gen.eval()
    with torch.no_grad():
        for start in 'RSN':
            input, hidden, name = torch.zeros(1, n_letters), torch.zeros(1, 16), start
            input[0][letters.find(start)] = 1
            for i in range(6):
                output, hidden = gen(category_tensor, input, hidden)
                topi = output.topk(1)[1][0][0]
                if topi == n_letters - 1:
                    break
                name += letters[topi]
                input = torch.zeros(1, n_letters)
                input[0][topi] = 1
            print(name)
    return losses


def test_char_rnn_tutorials():
    got, want = _same_print(_char_rnn)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def _seq2seq_and_dqn(torch):
    """intermediate/seq2seq_translation_tutorial (GRU encoder, Bahdanau attention decoder, teacher forcing,
    greedy decoding) on a tiny synthetic reversal corpus, and reinforcement_q_learning's DQN (replay memory,
    epsilon-greedy policy, SmoothL1Loss, clip_grad_value_, AdamW(amsgrad), soft target update) on a tiny walk."""
    import math
    import random
    from collections import namedtuple, deque
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    rnd = random.Random(0)
    MAX_LENGTH, SOS_token, EOS_token = 5, 0, 1

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p=0.1):
            super(EncoderRNN, self).__init__()
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            return self.gru(self.dropout(self.embedding(input)))

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super(BahdanauAttention, self).__init__()
            self.Wa, self.Ua, self.Va = nn.Linear(hidden_size, hidden_size), nn.Linear(hidden_size, hidden_size), \
                nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys))).squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            return torch.bmm(weights, keys), weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.1):
            super(AttnDecoderRNN, self).__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            decoder_input = torch.empty(encoder_outputs.size(0), 1, dtype=torch.long).fill_(SOS_token)
            decoder_hidden, decoder_outputs, attentions = encoder_hidden, [], []
            for i in range(MAX_LENGTH):
                embedded = self.dropout(self.embedding(decoder_input))
                context, attn_weights = self.attention(decoder_hidden.permute(1, 0, 2), encoder_outputs)
                output, decoder_hidden = self.gru(torch.cat((embedded, context), dim=2), decoder_hidden)
                decoder_outputs.append(self.out(output))
                attentions.append(attn_weights)
                if target_tensor is not None:
                    decoder_input = target_tensor[:, i].unsqueeze(1)
                else:
                    decoder_input = decoder_outputs[-1].topk(1)[1].squeeze(-1).detach()
            return F.log_softmax(torch.cat(decoder_outputs, dim=1), dim=-1), decoder_hidden, torch.cat(attentions, 1)
    input_ids, target_ids = np.zeros((8, MAX_LENGTH), np.int32), np.zeros((8, MAX_LENGTH), np.int32)
    for i in range(8):
        inp = [rnd.randint(2, 7) for _ in range(rnd.randint(2, MAX_LENGTH - 1))] + [EOS_token]
        input_ids[i, :len(inp)] = inp
        tgt = [x + 1 for x in inp[:-1][::-1]] + [EOS_token]
        target_ids[i, :len(tgt)] = tgt
    data = torch.utils.data.TensorDataset(torch.LongTensor(input_ids), torch.LongTensor(target_ids))
    loader = torch.utils.data.DataLoader(data, sampler=torch.utils.data.RandomSampler(data), batch_size=4)
    encoder, decoder = EncoderRNN(8, 12), AttnDecoderRNN(12, 9)
    opts = [torch.optim.Adam(m.parameters(), lr=0.01) for m in (encoder, decoder)]
    losses = []
    for epoch in range(2):
        for input_tensor, target_tensor in loader:
            for o in opts:
                o.zero_grad()
            decoder_outputs, _, _ = decoder(*encoder(input_tensor), target_tensor)
            loss = nn.NLLLoss()(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
            loss.backward()
            for o in opts:
                o.step()
            losses.append(loss.item())
    encoder.eval()
    decoder.eval()
    with torch.no_grad():
        decoder_outputs, _, decoder_attn = decoder(*encoder(torch.LongTensor(input_ids[:2])))
        print(decoder_outputs.topk(1)[1].squeeze(), decoder_attn[0])
    Transition = namedtuple('Transition', ('state', 'action', 'next_state', 'reward'))
    policy_net, target_net = (nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2)) for _ in range(2))
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = torch.optim.AdamW(policy_net.parameters(), lr=3e-3, amsgrad=True)
    memory, steps_done = deque([], maxlen=100), 0
    for episode in range(3):
        pos, state = 0, torch.tensor([[0., 0., 1.]])
        for t in range(8):
            eps_threshold = 0.05 + 0.85 * math.exp(-1. * steps_done / 20)
            steps_done += 1
            if rnd.random() > eps_threshold:
                with torch.no_grad():
                    action = policy_net(state).max(1).indices.view(1, 1)
            else:
                action = torch.tensor([[rnd.randrange(2)]], dtype=torch.long)
            pos += 1 if action.item() == 1 else -1
            terminated = abs(pos) >= 2
            next_state = None if terminated else torch.tensor([[pos, t / 8, 1.]])
            memory.append(Transition(state, action, next_state, torch.tensor([1.0 if pos >= 2 else 0.1])))
            state = next_state
            if len(memory) >= 4:
                batch = Transition(*zip(*rnd.sample(memory, 4)))
                non_final_mask = torch.tensor(tuple(map(lambda s: s is not None, batch.next_state)),
                                              dtype=torch.bool)
                state_action_values = policy_net(torch.cat(batch.state)).gather(1, torch.cat(batch.action))
                next_state_values = torch.zeros(4)
                with torch.no_grad():
                    if non_final_mask.any():
                        next_state_values[non_final_mask] = target_net(
                            torch.cat([s for s in batch.next_state if s is not None])).max(1).values
                expected = (next_state_values * 0.99) + torch.cat(batch.reward)
                loss = nn.SmoothL1Loss()(state_action_values, expected.unsqueeze(1))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
                optimizer.step()
                losses.append(loss.item())
                target_sd, policy_sd = target_net.state_dict(), policy_net.state_dict()
                for key in policy_sd:
                    target_sd[key] = policy_sd[key] * 0.005 + target_sd[key] * (1 - 0.005)
                target_net.load_state_dict(target_sd)
            if terminated:
                break
        print(episode, t + 1)
    return losses


def test_seq2seq_and_dqn_tutorials():
    got, want = _same_print(_seq2seq_and_dqn)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def _nn_tutorial_and_recipes(torch):
    """beginner/nn_tutorial (What is torch.nn really?) on random MNIST-shaped data: hand-written log_softmax, nll
    and SGD under no_grad, then nn.Parameter, nn.Linear, optim, TensorDataset/DataLoader, a WrappedDataLoader CNN;
    and the recipes what_is_state_dict, saving_and_loading_a_general_checkpoint, warmstarting_model (strict=False,
    the missing/unexpected keys errors), zeroing_out_gradients, module_load_state_dict_tips (assign, mmap, a module
    built under ``with torch.device('meta')``)."""
    import os
    import tempfile
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    x_train, y_train = torch.tensor(rng.rand(48, 784).astype(np.float32)), torch.tensor(rng.randint(0, 10, 48))
    x_valid, y_valid = torch.tensor(rng.rand(16, 784).astype(np.float32)), torch.tensor(rng.randint(0, 10, 16))
    weights = torch.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def model(xb):
        x = xb @ weights + bias
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()
    preds = model(x_train[:16])
    print(preds[0], preds.shape, nll(preds, y_train[:16]), (torch.argmax(preds, dim=1) == y_train[:16]).float().mean())
    for i in range(3):
        loss = nll(model(x_train[i * 16:(i + 1) * 16]), y_train[i * 16:(i + 1) * 16])
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * 0.5
            bias -= bias.grad * 0.5
            weights.grad.zero_()
            bias.grad.zero_()
    print(nll(model(x_train[:16]), y_train[:16]), F.cross_entropy(x_train[:16] @ weights + bias, y_train[:16]))

    def loss_batch(model, xb, yb, opt=None):
        loss = F.cross_entropy(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl, self.func = dl, func

        def __iter__(self):
            for b in self.dl:
                yield self.func(*b)
    train_ds = torch.utils.data.TensorDataset(x_train, y_train)
    valid_dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_valid, y_valid), batch_size=32)
    val_losses = []
    for model in (nn.Linear(784, 10), nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())):
        pre = (lambda x, y: (x, y)) if isinstance(model, nn.Linear) else (lambda x, y: (x.view(-1, 1, 28, 28), y))
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        for epoch in range(2):
            model.train()
            for xb, yb in WrappedDataLoader(torch.utils.data.DataLoader(train_ds, batch_size=16, shuffle=True), pre):
                loss_batch(model, xb, yb, opt)
            model.eval()
            with torch.no_grad():
                losses, nums = zip(*[loss_batch(model, xb, yb) for xb, yb in WrappedDataLoader(valid_dl, pre)])
            val_losses.append(np.sum(np.multiply(losses, nums)) / np.sum(nums))

    class Net(nn.Module):
        def __init__(self, out=10):
            super(Net, self).__init__()
            self.conv1, self.pool = nn.Conv2d(3, 6, 5), nn.MaxPool2d(2, 2)
            self.fc1, self.fc2 = nn.Linear(6 * 14 * 14, 20), nn.Linear(20, out)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(self.pool(F.relu(self.conv1(x))).view(-1, 6 * 14 * 14))))
    net = Net()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    for param_tensor in net.state_dict():
        print(param_tensor, "\t", net.state_dict()[param_tensor].size())
    inputs, labels = torch.randn(4, 3, 32, 32), torch.tensor([1, 2, 3, 4])
    for i in range(2):
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(net(inputs), labels)
        loss.backward()
        optimizer.step()
        val_losses.append(loss.item())
    print(net.conv1.bias.grad is None, optimizer.state_dict()['param_groups'], list(optimizer.state_dict()['state']))
    PATH = os.path.join(tempfile.mkdtemp(), 'model.pt')
    torch.save({'epoch': 5, 'model_state_dict': net.state_dict(), 'optimizer_state_dict': optimizer.state_dict(),
                'loss': loss}, PATH)
    model = Net()
    optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    checkpoint = torch.load(PATH, weights_only=True)
    print(model.load_state_dict(checkpoint['model_state_dict']), checkpoint['epoch'], checkpoint['loss'].grad_fn)
    optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
    val_losses += optimizer.state_dict()['state'][1]['momentum_buffer'].tolist()
    netB = Net(out=5)
    print(netB.load_state_dict({k: v for k, v in net.state_dict().items() if 'fc2' not in k}, strict=False))
    for sd in ({k: v for k, v in net.state_dict().items() if k != 'fc1.bias'}, dict(net.state_dict(), extra=bias)):
        try:
            netB.load_state_dict(sd)
        except RuntimeError as e:
            print(e)
    m = Net()
    m.load_state_dict(net.state_dict(), assign=True)
    torch.save(net.state_dict(), PATH)
    print(m.fc1.weight is net.fc1.weight, m.fc1.weight.is_leaf, torch.equal(m.fc1.weight, net.fc1.weight),
          torch.equal(torch.load(PATH, mmap=True, weights_only=True)['fc2.bias'], net.fc2.bias))
    return val_losses


def test_nn_tutorial_and_state_dict_recipes():
    got, want = _same_print(_nn_tutorial_and_recipes)
    np.testing.assert_allclose(got, want, rtol=1e-4)


def _nlp_tutorials(torch):
    """beginner/nlp: the bag-of-words classifier, the n-gram language model, the LSTM part-of-speech tagger and
    the Bi-LSTM CRF (forward algorithm, Viterbi decoding), each trained a few steps."""
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    torch.manual_seed(1)
    x, y = torch.tensor([1., 2., 3], requires_grad=True), torch.tensor([4., 5., 6], requires_grad=True)
    s = (x + y).sum()
    s.backward()
    print(x + y, s.grad_fn, x.grad, torch.cat([torch.randn(2, 3), torch.randn(2, 5)], 1), torch.randn(2, 3, 4).view(2, -1))
    data = [("me gusta comer en la cafeteria".split(), 0), ("Give it to me".split(), 1),
            ("No creo que sea una buena idea".split(), 0), ("No it is not a good idea to get lost at sea".split(), 1)]
    word_to_ix = {}
    for sent, _ in data:
        for word in sent:
            word_to_ix.setdefault(word, len(word_to_ix))
    bow = nn.Linear(len(word_to_ix), 2)
    optimizer = optim.SGD(bow.parameters(), lr=0.1)
    losses = []
    for epoch in range(3):
        for instance, label in data:
            vec = torch.zeros(len(word_to_ix))
            for word in instance:
                vec[word_to_ix[word]] += 1
            bow.zero_grad()
            loss = nn.NLLLoss()(F.log_softmax(bow(vec.view(1, -1)), dim=1), torch.LongTensor([label]))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    test_sentence = "When forty winters shall besiege thy brow, And dig deep trenches in thy beauty's field".split()
    ngrams = [([test_sentence[i - j - 1] for j in range(2)], test_sentence[i]) for i in range(2, len(test_sentence))]
    word_to_ix = {word: i for i, word in enumerate(sorted(set(test_sentence)))}
    embeddings, linear1, linear2 = nn.Embedding(len(word_to_ix), 10), nn.Linear(20, 32), nn.Linear(32, len(word_to_ix))
    params = [*embeddings.parameters(), *linear1.parameters(), *linear2.parameters()]
    optimizer = optim.SGD(params, lr=0.001)
    for epoch in range(1):
        total_loss = 0
        for context, target in ngrams:
            out = linear2(F.relu(linear1(embeddings(torch.tensor([word_to_ix[w] for w in context])).view((1, -1)))))
            loss = nn.NLLLoss()(F.log_softmax(out, dim=1), torch.tensor([word_to_ix[target]]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss)
    lstm = nn.LSTM(3, 3)
    inputs = torch.randn(5, 1, 3)
    print(lstm(inputs, (torch.randn(1, 1, 3), torch.randn(1, 1, 3))))

    def argmax(vec):
        return torch.max(vec, 1)[1].item()

    def log_sum_exp(vec):
        max_score = vec[0, argmax(vec)]
        return max_score + torch.log(torch.sum(torch.exp(vec - max_score.view(1, -1).expand(1, vec.size()[1]))))
    tag_to_ix = {"B": 0, "I": 1, "O": 2, "<START>": 3, "<STOP>": 4}
    sentence = "georgia tech is a university in georgia".split()
    tags = torch.tensor([tag_to_ix[t] for t in "B I O O O O B".split()])
    word_to_ix = {w: i for i, w in enumerate(dict.fromkeys(sentence))}
    word_embeds, bilstm, hidden2tag = nn.Embedding(len(word_to_ix), 5), nn.LSTM(5, 2, bidirectional=True), nn.Linear(4, 5)
    transitions = nn.Parameter(torch.randn(5, 5))
    transitions.data[3, :] = -10000
    transitions.data[:, 4] = -10000
    params = [*word_embeds.parameters(), *bilstm.parameters(), *hidden2tag.parameters(), transitions]
    optimizer = optim.SGD(params, lr=0.01, weight_decay=1e-4)
    sentence_in = torch.tensor([word_to_ix[w] for w in sentence], dtype=torch.long)

    def features():
        hidden = (torch.randn(2, 1, 2), torch.randn(2, 1, 2))
        lstm_out, _ = bilstm(word_embeds(sentence_in).view(len(sentence), 1, -1), hidden)
        return hidden2tag(lstm_out.view(len(sentence), 4))

    def viterbi(feats):
        forward_var, backpointers = torch.full((1, 5), -10000.), []
        forward_var[0][3] = 0
        for feat in feats:
            bptrs_t, viterbivars_t = [], []
            for next_tag in range(5):
                next_tag_var = forward_var + transitions[next_tag]
                bptrs_t.append(argmax(next_tag_var))
                viterbivars_t.append(next_tag_var[0][bptrs_t[-1]].view(1))
            forward_var = (torch.cat(viterbivars_t) + feat).view(1, -1)
            backpointers.append(bptrs_t)
        terminal_var = forward_var + transitions[4]
        best_path = [argmax(terminal_var)]
        for bptrs_t in reversed(backpointers):
            best_path.append(bptrs_t[best_path[-1]])
        return terminal_var[0][best_path[0]], best_path[::-1]
    for step in range(2):
        optimizer.zero_grad()
        feats = features()
        forward_var = torch.full((1, 5), -10000.)
        forward_var[0][3] = 0.
        for feat in feats:
            alphas_t = [log_sum_exp(forward_var + transitions[t].view(1, -1) + feat[t].view(1, -1).expand(1, 5)).view(1)
                        for t in range(5)]
            forward_var = torch.cat(alphas_t).view(1, -1)
        forward_score = log_sum_exp(forward_var + transitions[4])
        score, full_tags = torch.zeros(1), torch.cat([torch.tensor([3], dtype=torch.long), tags])
        for i, feat in enumerate(feats):
            score = score + transitions[full_tags[i + 1], full_tags[i]] + feat[full_tags[i + 1]]
        loss = forward_score - (score + transitions[4, full_tags[-1]])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        print(viterbi(features()))
    return losses


def test_nlp_tutorials():
    got, want = _same_print(_nlp_tutorials)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def _transformer_tutorial(torch):
    """beginner/transformer_tutorial: a TransformerEncoder language model (sinusoidal PositionalEncoding buffer,
    generate_square_subsequent_mask, batchify/get_batch, SGD with clip_grad_norm_ and StepLR) on random tokens."""
    nn = torch.nn
    torch.manual_seed(0)

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=64):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            position = torch.arange(max_len).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len, 1, d_model)
            pe[:, 0, 0::2] = torch.sin(position * div_term)
            pe[:, 0, 1::2] = torch.cos(position * div_term)
            self.register_buffer('pe', pe)

        def forward(self, x):
            return self.dropout(x + self.pe[:x.size(0)])

    class TransformerModel(nn.Module):
        def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.5):
            super().__init__()
            self.pos_encoder = PositionalEncoding(d_model, dropout)
            self.transformer_encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout),
                                                             nlayers)
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)
            self.embedding.weight.data.uniform_(-0.1, 0.1)
            self.linear.bias.data.zero_()
            self.linear.weight.data.uniform_(-0.1, 0.1)

        def forward(self, src):
            src = self.pos_encoder(self.embedding(src) * math.sqrt(self.d_model))
            mask = nn.Transformer.generate_square_subsequent_mask(len(src))
            return self.linear(self.transformer_encoder(src, mask))
    data = torch.randint(0, 30, (160,))
    train_data = data[:len(data) // 8 * 8].view(8, -1).t().contiguous()
    model = TransformerModel(30, 16, 2, 32, 2, 0.2)
    print(model, nn.Transformer.generate_square_subsequent_mask(3))
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    losses = []
    model.train()
    for i in range(0, train_data.size(0) - 1, 8):
        seq_len = min(8, len(train_data) - 1 - i)
        src, targets = train_data[i:i + seq_len], train_data[i + 1:i + 1 + seq_len].reshape(-1)
        loss = nn.CrossEntropyLoss()(model(src).view(-1, 30), targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
    model.eval()
    with torch.no_grad():
        losses.append(nn.CrossEntropyLoss()(model(train_data[:8]).view(-1, 30), train_data[1:9].reshape(-1)).item())
    return losses + scheduler.get_last_lr()


def test_transformer_tutorial():
    got, want = _same_print(_transformer_tutorial)
    np.testing.assert_allclose(got, want, rtol=1e-5)
