"""Optimizer libraries and meta-learning run under the alias against PyTorch (session 40): pytorch_optimizer 4.1
(its 126 optimizers a few steps each), schedulefree 1.4, prodigyopt 1.1, dadaptation 3.2 and higher 0.2 (MAML inner
loops through differentiable optimizers, an LSTM inside), each reduced to the lines that found a defect in ember."""
import copy
import pickle

import numpy as np
import torch

import ember
from helpers import run_both


# -- higher: optim.py keys its differentiable optimizers on ``type(opt)`` and names the class in its refusal ---------
def test_optimizer_classes_live_where_pytorchs_do():
    """AdamW is torch.optim.adamw.AdamW (higher's "Optimizer type <class 'torch.optim.adamw.AdamW'> not supported"),
    Adafactor and Muon say torch.optim; under the alias the classes print and pickle by PyTorch's names."""
    def name(c):
        return c.__module__.replace('ember', 'torch') + '.' + c.__qualname__
    for n in ('AdamW', 'Adam', 'Adafactor', 'Muon', 'SGD'):
        assert name(getattr(ember.optim, n)) == name(getattr(torch.optim, n)), n
    import importlib
    assert importlib.import_module('ember.optim.adamw').AdamW is ember.optim.AdamW
    from ember import aliasing
    with aliasing.as_torch():
        import torch as T
        got = [repr(T.optim.AdamW), repr(T.optim.Adafactor), repr(T.optim.Muon)]
        data = pickle.dumps([T.optim.AdamW, T.optim.Muon])
    assert got == [repr(torch.optim.AdamW), repr(torch.optim.Adafactor), repr(torch.optim.Muon)]
    assert pickle.loads(data) == [torch.optim.AdamW, torch.optim.Muon]


# -- schedulefree: ScheduleFreeWrapperReference puts its own entries in the base Adam's state before Adam's first step
def test_adam_state_without_its_moments_raises_before_any_param_moves():
    """A param whose state has entries but not Adam's: KeyError for 'exp_avg' (PyTorch's _init_group reads the
    moments, then 'step'), raised before any param's step counter or value changed."""
    def run(lib, cls, missing):
        p = lib.nn.Parameter(lib.ones(3))
        q = lib.nn.Parameter(lib.ones(2))
        opt = getattr(lib.optim, cls)([p, q], lr=0.1, amsgrad=missing == 'max_exp_avg_sq')
        p.grad, q.grad = lib.ones(3), lib.ones(2)
        opt.step()
        del opt.state[q][missing]
        try:
            opt.step()
        except KeyError as e:
            return [repr(e), opt.state[p]['step'], p.detach()]
    for cls in ('Adam', 'AdamW'):
        for missing in ('exp_avg', 'exp_avg_sq', 'step', 'max_exp_avg_sq'):
            run_both(lambda lib: run(lib, cls, missing), tol=0)


# -- higher: patch.py gives an RNN its fast weights by assigning ``module._flat_weights`` ---------------------------
def _lstm_pair(**kw):
    ember.manual_seed(0)
    em = ember.nn.LSTM(3, 4, num_layers=2, batch_first=True, **kw).double()
    tm = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, **kw).double()
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in em.state_dict().items()})
    return {ember: em, torch: tm}


def test_rnn_forward_reads_the_flat_weights_list():
    """``_flat_weights`` is a list (not recomputed from the names): one assigned to it is what forward uses, with
    gradients to its tensors; assigning a weight attribute updates its entry; ``.double()`` and a swapped Parameter
    under a weight's name refresh it; deepcopy and pickle keep it."""
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    for kw in ({}, {'bidirectional': True}, {'proj_size': 2}, {'bias': False}):
        mods = _lstm_pair(**kw)

        def run(lib):
            m = mods[lib]
            fast = [(w * 1.5).requires_grad_() if w.dim() == 2 else w * 1.5 for w in m._flat_weights]
            leaf = [w for w in fast if w.requires_grad]
            m._flat_weights = fast
            out = m(lib.tensor(x))[0]
            grads = lib.autograd.grad(out.square().sum(), leaf)
            m.weight_hh_l0 = lib.nn.Parameter(m.weight_hh_l0.detach() * 0.5)
            same = m._flat_weights[1] is m.weight_hh_l0
            out2 = m(lib.tensor(x))[0]
            vars(m)['_parameters']['weight_ih_l1'] = lib.nn.Parameter(m.weight_ih_l1.detach() + 0.25)
            out3 = m(lib.tensor(x))[0]
            m.float()
            kinds = [type(m._flat_weights).__name__, len(m._flat_weights), m._flat_weights[0].dtype, same]
            outs = [copy.deepcopy(m)(lib.tensor(x, dtype=lib.float32))[0],
                    pickle.loads(pickle.dumps(m))(lib.tensor(x, dtype=lib.float32))[0]]
            return [out, *grads, out2, out3, *outs, kinds]
        run_both(run, tol=1e-5)


def test_rnn_flat_weights_follow_functional_call():
    """``torch.func.functional_call`` swaps the weights under their names: forward re-reads the list (PyTorch's
    _update_flat_weights), and after the call the module's own weights are used again."""
    x = np.random.default_rng(1).standard_normal((2, 4, 3))
    mods = _lstm_pair()

    def run(lib):
        m = mods[lib]
        new = {k: v.detach() * 0.5 for k, v in m.named_parameters()}
        swapped = lib.func.functional_call(m, new, (lib.tensor(x),))[0]
        return [swapped, m(lib.tensor(x))[0]]
    run_both(run)


# -- pytorch_optimizer: utils.py's StochasticAccumulator hook does ``del p.grad`` -----------------------------------
def test_del_grad_sets_none_and_del_data_raises():
    def run(lib):
        p = lib.nn.Parameter(lib.ones(2))
        p.sum().backward()
        del p.grad
        x = lib.ones(2)
        try:
            del x.data
        except RuntimeError as e:
            return [p.grad, str(e)]
    run_both(run)


# -- pytorch_optimizer: MADGRAD and DAdaptAdaGrad's sparse paths call ``dense.sparse_mask(grad)`` ---------------------
def _sparse_parts(lib):
    i = lib.tensor([[0, 2, 2, 1], [1, 0, 0, 2]])
    return i, lib.sparse_coo_tensor(i, lib.tensor([1., 2., 3., 4.]), (3, 3))


def test_sparse_mask_values_layout_and_gradient():
    """Values at the mask's indices as stored (duplicates kept, the coalesced flag kept), dense dims carried, a sparse
    self, integer dtypes; the gradient (a coalesced mask) summed into self's dense shape; PyTorch's errors."""
    def run(lib):
        _, s = _sparse_parts(lib)
        out = []
        for mask in (s, s.coalesce()):
            r = lib.arange(9.).reshape(3, 3).sparse_mask(mask)
            out += [r._indices(), r._values(), r.is_coalesced(), str(r.layout)]
        d3 = lib.arange(18.).reshape(3, 3, 2)
        m3 = lib.sparse_coo_tensor(s._indices(), lib.ones(4, 2), (3, 3, 2))
        out.append(d3.sparse_mask(m3)._values())
        out.append(lib.arange(9.).reshape(3, 3).to_sparse().sparse_mask(s)._values())
        out.append(lib.arange(9).reshape(3, 3).sparse_mask(s)._values())
        d = lib.arange(9., dtype=lib.float64).reshape(3, 3).requires_grad_()
        r = d.sparse_mask(s.coalesce().double())
        (r.to_dense() * lib.arange(9., dtype=lib.float64).reshape(3, 3)).sum().backward()
        out += [type(r.grad_fn).__name__, d.grad, str(d.grad.layout)]
        for bad in (lib.sparse_coo_tensor(s._indices(), s._values(), (3, 4)), lib.ones(3, 3)):
            try:
                lib.ones(3, 3).sparse_mask(bad)
            except (RuntimeError, NotImplementedError) as e:
                out.append([type(e).__name__, str(e).split('.')[0]])
        return out
    run_both(run)
    ref = torch.arange(9., dtype=torch.float64).reshape(3, 3).requires_grad_()
    mask = _sparse_parts(torch)[1].coalesce().double()
    assert torch.autograd.gradcheck(lambda t: t.sparse_mask(mask).to_dense(), (ref,))


# -- pytorch_optimizer: SM3's make_sparse calls ``grad.new(indices, values, size)`` and ``grad.new().resize_as_(grad)``
def test_sparse_legacy_new_and_resize_as():
    def run(lib):
        i, s = _sparse_parts(lib)
        v = lib.tensor([1., 2., 3., 4.], dtype=lib.float64)
        made = [s.new(i, v, (3, 3)), s.new(i, v, (2, 2)), s.new(i, v), s.new(2, 3), s.new(lib.Size([4])), s.new(),
                s.new().resize_as_(s), s.new().resize_as_(lib.sparse_coo_tensor(i, lib.ones(4, 2), (3, 3, 2)))]
        out = [[str(t.layout), t.dtype, tuple(t.shape), t._indices(), t._values(), t.is_coalesced(), t.requires_grad]
               for t in made]
        for args in (([1., 2.],), (v,)):
            try:
                s.new(*args)
            except TypeError as e:
                out.append(str(e).split(' - ')[0])
        return out
    run_both(run)
