"""PyTorch Lightning 2.6.6 (lightning, pytorch_lightning, lightning_fabric) with torchmetrics 1.9.0, imported under
``ember.aliasing.as_torch()`` (session 34): the torch names and internals it stopped at, reduced to the lines that
reached them. A LightningModule trained by ``L.Trainer(max_epochs=2, accelerator="cpu", devices=1)`` with a
scheduler, ModelCheckpoint and CSVLogger, then ``Trainer.test``/``predict``, prints PyTorch's losses, metrics and
weights on ember. The libraries are not needed here."""
import collections
import importlib
import os

import numpy as np
import pytest
import torch

import ember
from ember import aliasing
from helpers import run_both

# the import lines of Lightning (file: the line) that stopped on ember
IMPORTS = {
    'lightning/fabric/plugins/collectives/torch_collective.py':
        'from torch.distributed.constants import default_pg_timeout',
    'lightning/fabric/utilities/load.py': 'from torch._C import _TensorMeta',
    'lightning/fabric/wrappers.py': 'from torch._dynamo import OptimizedModule',
    'lightning/pytorch/utilities/_pytree.py':
        'from torch.utils._pytree import SUPPORTED_NODES, LeafSpec, PyTree, TreeSpec, _get_node_type, tree_unflatten',
    'lightning/pytorch/utilities/model_summary/model_summary.py':
        'from torch.utils.flop_counter import FlopCounterMode',
    'lightning/pytorch/core/module.py': 'from torch import ScriptModule, Tensor',
}
# attributes Lightning reads at import or in fit (file: expression)
READS = {
    'lightning/fabric/utilities/load.py': 'torch.PyTorchFileReader',
    'lightning/pytorch/profilers/profiler.py': 'torch.autograd.profiler.emit_nvtx',
    'lightning/pytorch/profilers/pytorch.py': 'torch.profiler.kineto_available()',
    'lightning/pytorch/trainer/trainer.py': 'torch._C._log_api_usage_once("lightning.trainer.fit")',
    'lightning/fabric/utilities/seed.py': 'torch.cuda.set_rng_state_all(torch.cuda.get_rng_state_all())',
}


@pytest.mark.parametrize('where', sorted(IMPORTS))
def test_lightning_imports(where):
    """Each import line runs under the alias and binds what PyTorch's does (by type name)."""
    line = IMPORTS[where]
    names = line.split(' import ')[1].split(', ')
    got = {}
    for lib in (torch, ember):
        scope = {}
        if lib is ember:
            with aliasing.as_torch():
                exec(line, scope)
        else:
            exec(line, scope)
        got[lib] = [type(scope[n]).__name__ if not isinstance(scope[n], type) else 'class' for n in names]
    assert got[ember] == got[torch]


@pytest.mark.parametrize('where', sorted(READS))
def test_lightning_reads(where):
    """Each expression gives PyTorch's CPU build's value (None, True, a class)."""
    expr = READS[where]
    values = []
    for lib in (torch, ember):
        value = eval(expr, {'torch': lib})
        values.append(value if not isinstance(value, type) else 'class')
    assert values[0] == values[1]


def test_compiled_module_is_optimized_module():
    """lightning/fabric/wrappers.py unwraps a compiled model: isinstance(m, OptimizedModule), then m._orig_mod."""
    def unwrap(T):
        from importlib import import_module
        m = T.nn.Linear(2, 2)
        c = T.compile(m)
        return [isinstance(c, import_module(f'{T.__name__}._dynamo').OptimizedModule), c._orig_mod is m]
    run_both(unwrap)


def test_lightning_errors():
    """PyTorch's exception for each refusal of the names above (the registry's cases of them are the error-free
    ones: tests/registry_api.py LIGHTNING)."""
    import registry_api
    cases = [c for e in registry_api.LIGHTNING for c in e.cases if c.error]
    assert len(cases) >= 8
    for case in cases:
        run_both(case.fn)


def test_emit_nvtx_needs_cuda():
    """lightning/pytorch/profilers/profiler.py types its profilers with emit_nvtx; entered it needs CUDA."""
    run_both(lambda T: T.autograd.profiler.emit_nvtx().__enter__(), message=True)


class _Dtypes:
    """lightning/fabric/utilities/device_dtype_mixin.py: ``to`` reads device and dtype with ``_parse_to``."""
    def __init__(self, T):
        self.T, self.model = T, T.nn.Linear(2, 2)

    def to(self, *args, **kwargs):
        device, dtype = self.T._C._nn._parse_to(*args, **kwargs)[:2]
        self.model.to(*args, **kwargs)
        return [str(device), str(dtype), str(self.model.weight.dtype)]


def test_device_dtype_mixin_to():
    run_both(lambda T: [_Dtypes(T).to(T.float64), _Dtypes(T).to('cpu'), _Dtypes(T).to('cpu', T.float16),
                        _Dtypes(T).to(T.ones(1, dtype=T.float64)), _Dtypes(T).to(dtype=T.float64, device='cpu')])


def _lazy_records(T, saver, tmp_path):
    """lightning/fabric/utilities/load.py's _lazy_load opens a checkpoint with PyTorchFileReader and unpickles
    its 'data.pkl' record; a file of either library."""
    path = str(tmp_path / f'{saver.__name__}_{T.__name__}.ckpt')
    saver.save({'state_dict': {'w': saver.tensor([1.0, 2.0])}, 'epoch': 1}, path)
    reader = T.PyTorchFileReader(path)
    return [sorted(reader.get_all_records()), len(reader.get_record('data.pkl')) > 0,
            reader.get_record('data/0'), reader.get_record('byteorder')]


@pytest.mark.parametrize('saver', ['torch', 'ember'])
def test_lazy_load_reader(saver, tmp_path):
    lib = torch if saver == 'torch' else ember
    run_both(lambda T: _lazy_records(T, lib, tmp_path))


def _flatten(pt, tree):
    """lightning/pytorch/utilities/_pytree.py's _tree_flatten (containers of primitives kept whole)."""
    kind = pt._get_node_type(tree)
    if kind not in pt.SUPPORTED_NODES:
        return [tree], pt.LeafSpec()
    children, context = pt.SUPPORTED_NODES[kind].flatten_fn(tree)
    if all(isinstance(c, (int, float, str)) for c in children):
        return [tree], pt.LeafSpec()
    leaves, specs = [], []
    for child in children:
        flat, spec = _flatten(pt, child)
        leaves += flat
        specs.append(spec)
    return leaves, pt.TreeSpec(kind, context, specs)


def _lightning_batch(T):
    """A batch as Lightning's fetchers flatten it to count its size and move it: leaves, spec, rebuilt batch."""
    pt = importlib.import_module(f'{T.__name__}.utils._pytree')
    Batch = collections.namedtuple('Batch', 'x y')
    batch = {'inputs': Batch(T.ones(2, 3), T.tensor([0, 1])), 'ids': [1, 2], 'meta': ('a', T.zeros(1))}
    leaves, spec = _flatten(pt, batch)
    rebuilt = pt.tree_unflatten([x * 2 if isinstance(x, T.Tensor) else x for x in leaves], spec)
    return [leaves, str(spec), rebuilt['inputs'].x, rebuilt['meta'][1], rebuilt['ids'], spec.num_leaves]


def test_lightning_pytree_flatten():
    run_both(_lightning_batch)


def test_leafspec_warns_as_pytorch():
    """PyTorch 2.13 deprecates making a LeafSpec (Lightning's _tree_flatten makes one); its tree_flatten does not
    warn."""
    for T in (torch, ember):
        pt = importlib.import_module(f'{T.__name__}.utils._pytree')
        with pytest.warns(FutureWarning, match='LeafSpec.* is deprecated'):
            pt.LeafSpec()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        ember.utils._pytree.tree_flatten([1, (2, 3)])


def test_flop_counter_made_not_entered():
    """model_summary.py makes a FlopCounterMode for every summary and reads its counts; it is entered only for a
    model with example_input_array (counted as PyTorch's: tests/test_real_programs_t.py)."""
    run_both(lambda T: (lambda fc: [fc.get_total_flops(), fc.get_flop_counts()])(
        importlib.import_module(f'{T.__name__}.utils.flop_counter').FlopCounterMode(display=False, depth=2)))


def _checkpoint(T):
    """What ModelCheckpoint writes (trainer._checkpoint_connector.dump_checkpoint) after fit."""
    T.manual_seed(0)
    model = T.nn.Linear(3, 2)
    opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = T.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    model(T.randn(4, 3)).sum().backward()
    opt.step()
    sched.step()
    return {'epoch': 1, 'global_step': 8, 'pytorch-lightning_version': '2.6.6', 'state_dict': model.state_dict(),
            'loops': {'fit_loop': {'state_dict': {}, 'epoch_progress': {'total': {'ready': 2, 'completed': 2}}}},
            'callbacks': {"ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}": {
                'best_model_score': T.tensor(1.0048), 'best_model_path': '/x/epoch=1-step=8.ckpt',
                'best_k_models': {'/x/epoch=1-step=8.ckpt': T.tensor(1.0048)}, 'kth_value': T.tensor(float('inf'))}},
            'optimizer_states': [opt.state_dict()], 'lr_schedulers': [sched.state_dict()],
            'hyper_parameters': {'lr': 0.1}}


@pytest.mark.parametrize('saver', ['torch', 'ember'])
def test_model_checkpoint_loads_on_both_sides(saver, tmp_path):
    """A .ckpt written with torch.save by either library loads in the other with weights_only=False, as
    Lightning's load_from_checkpoint reads it."""
    lib = torch if saver == 'torch' else ember
    path = str(tmp_path / 'epoch=1-step=8.ckpt')
    lib.save(_checkpoint(lib), path)
    run_both(lambda T: _items(T.load(path, weights_only=False)), tol=0)


def _items(tree):
    """Dicts as [key, value] lists in order (the helper compares sequences, tensors and plain values)."""
    if isinstance(tree, dict):
        return [[k, _items(v)] for k, v in tree.items()]
    if isinstance(tree, (list, tuple)):
        return [_items(v) for v in tree]
    return tree


def _fit(T):
    """Trainer.fit(max_epochs=2) reduced: seed_everything, a shuffled DataLoader, SGD with momentum, StepLR
    stepped each epoch, validation under no_grad with eval(); losses per step and the final weights."""
    import random
    random.seed(0)
    np.random.seed(0)
    T.manual_seed(0)
    T.cuda.manual_seed_all(0)
    x, y = T.randn(64, 8), T.randint(0, 3, (64,))
    data = T.utils.data.DataLoader(T.utils.data.TensorDataset(x, y), batch_size=16, shuffle=True)
    model = T.nn.Sequential(T.nn.Linear(8, 16), T.nn.ReLU(), T.nn.Linear(16, 3))
    opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = T.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    losses = []
    for _ in range(2):
        model.train()
        for xb, yb in data:
            loss = T.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        with T.no_grad():
            losses.append(T.nn.functional.cross_entropy(model(x[:32]), y[:32]).item())
        sched.step()
    return [T.tensor(losses, dtype=T.float64), [p.detach() for p in model.parameters()], sched.get_last_lr()]


def test_fit_losses_and_weights():
    run_both(_fit, tol=1e-5)


def test_alias_reaches_fit_names():
    """Under the alias the names above resolve to ember's objects (a library that imports them gets ember's)."""
    with aliasing.as_torch():
        import torch as T
        from torch.utils._pytree import NodeDef
        assert T is ember and os.path.basename(T.__file__) == '__init__.py'
        assert T._C._TensorMeta is type(ember.Tensor)
        assert NodeDef._fields == ('type', 'flatten_fn', 'unflatten_fn', 'flatten_with_keys_fn')
