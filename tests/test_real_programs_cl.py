"""Continual-learning and fine-tuning libraries run under the alias against PyTorch (session 39): avalanche-lib 0.6
(tensor benchmarks, its strategies, evaluation plugins and loggers) and torchtune 0.6, each reduced to the lines
that found a defect in ember."""
import importlib

import pytest

import ember
from helpers import run_both

_AVALANCHE_DATASETS = ['Omniglot', 'CocoCaptions', 'CocoDetection', 'STL10', 'PhotoTour', 'SBU', 'Flickr8k',
                       'Flickr30k', 'VOCDetection', 'VOCSegmentation', 'Cityscapes', 'SBDataset', 'USPS', 'HMDB51',
                       'UCF101', 'CelebA']


def test_torchvision_datasets_avalanche_subclasses_import_and_refuse_construction():
    """avalanche/benchmarks/datasets/*/ (omniglot.py, torchvision_wrapper.py...): ``from torchvision.datasets import
    Omniglot as OmniglotTorch`` and fifteen more at ``import avalanche``, some subclassed there. ember names them,
    as VisionDataset subclasses, and refuses making one, naming it."""
    with ember.aliasing.as_torch():
        from torchvision import datasets
        from torchvision.datasets import Omniglot
    for name in _AVALANCHE_DATASETS:
        cls = getattr(datasets, name)
        assert cls.__name__ == name and issubclass(cls, datasets.VisionDataset)
        with pytest.raises(NotImplementedError, match=f'torchvision.datasets.{name} is not supported by ember yet'):
            cls('root')

    class AvalancheOmniglot(Omniglot):
        pass
    with pytest.raises(NotImplementedError, match='torchvision.datasets.Omniglot'):
        AvalancheOmniglot('root', background=True, download=False)


def test_torchvision_feature_extraction_imports_and_refuses_calls():
    """avalanche/training/plugins/rar.py: ``from torchvision.models.feature_extraction import
    create_feature_extractor, get_graph_node_names`` at ``import avalanche``; calling either raises naming it."""
    with ember.aliasing.as_torch():
        from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names
    model = ember.nn.Linear(2, 2)
    with pytest.raises(NotImplementedError, match='feature_extraction.create_feature_extractor is not supported'):
        create_feature_extractor(model, return_nodes=['weight'])
    with pytest.raises(NotImplementedError, match='feature_extraction.get_graph_node_names is not supported'):
        get_graph_node_names(model)


def test_fake_tensor_converter_imports_and_refuses_construction():
    """torchtune/modules/common_utils.py: ``from torch._subclasses.fake_tensor import FakeTensorConverter,
    FakeTensorMode`` at ``import torchtune``; its low-RAM state-dict hook makes both, which ember refuses, naming
    them (it has no fake tensors)."""
    with ember.aliasing.as_torch():
        from torch._subclasses.fake_tensor import FakeTensorConverter, FakeTensorMode
    with pytest.raises(NotImplementedError, match='fake_tensor.FakeTensorConverter is not supported by ember'):
        FakeTensorConverter()
    with pytest.raises(NotImplementedError, match='fake_tensor.FakeTensorMode is not supported by ember'):
        FakeTensorMode()


def test_tensor_parallel_plans_print_and_hold_their_layouts():
    """torchtune/models/llama3/_parallelism.py: ``BASE_LLAMA_TP_PLAN = {"output": ColwiseParallel(output_layouts=
    Replicate()), "layers.*.attn.output_proj": RowwiseParallel(), ...}`` built at ``import torchtune.models``; applying
    a plan (``parallelize_module``) needs a DeviceMesh, which ember refuses naming."""
    def run(lib):
        tp = importlib.import_module(f'{lib.__name__}.distributed.tensor.parallel')
        style = importlib.import_module(f'{lib.__name__}.distributed.tensor.parallel.style')
        Replicate, Shard = lib.distributed.tensor.Replicate, lib.distributed.tensor.Shard
        plans = [tp.ColwiseParallel(), tp.ColwiseParallel(output_layouts=Replicate()), tp.RowwiseParallel(),
                 tp.RowwiseParallel(input_layouts=Replicate(), use_local_output=False), tp.SequenceParallel(),
                 tp.SequenceParallel(sequence_dim=0, use_local_output=True),
                 tp.ColwiseParallel(input_layouts=Shard(1))]
        return ([repr(p) for p in plans] + [repr(vars(p)) for p in plans]
                + [isinstance(p, style.ParallelStyle) for p in plans] + [plans[0].src_data_rank])
    run_both(run)
    with ember.aliasing.as_torch():
        from torch.distributed.tensor.parallel import parallelize_module
    with pytest.raises(NotImplementedError, match='parallelize_module is not supported by ember yet'):
        parallelize_module(ember.nn.Linear(2, 2), None, {})


class _FreshState:
    """An object whose pickled state holds tensors made anew each time it is pickled (avalanche's checkpointed
    strategy state is such an object)."""

    def __init__(self, values):
        self.values = values

    def __getstate__(self):
        base = ember.tensor(self.values)
        return {'values': self.values, 't': base * 2, 'view': base[1:], 'p': ember.nn.Parameter(base + 1)}

    def __setstate__(self, state):
        self.__dict__.update(state)


def test_save_pickles_tensors_a_getstate_makes_anew():
    """avalanche/checkpointing.py: ``save_checkpoint`` runs ``torch.save({'strategy': strategy, ...}, f)``; ember
    pickles a whole object in two passes, and a tensor made by ``__getstate__`` in the second pass was not in the
    first one's index (KeyError). Such a tensor now gets a storage of its own; ember and PyTorch load the file."""
    import io
    import torch
    buf = io.BytesIO()
    ember.save({'h': _FreshState([1.0, 2.0, 3.0]), 'w': ember.ones(2)}, buf)
    buf.seek(0)
    theirs = torch.load(io.BytesIO(buf.getvalue()), weights_only=False)
    ours = ember.load(buf, weights_only=False)
    for got, lib in ((theirs, torch), (ours, ember)):
        h = got['h'].__dict__
        assert h['t'].tolist() == [2.0, 4.0, 6.0] and h['view'].tolist() == [2.0, 3.0]
        assert type(h['p']) is lib.nn.Parameter and h['p'].tolist() == [2.0, 3.0, 4.0]
        assert got['w'].tolist() == [1.0, 1.0] and type(got['w']) is lib.Tensor
