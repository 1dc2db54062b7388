"""``torch.save(model)``: a whole Module (or Optimizer, or user object) is pickled as PyTorch pickles it
and loads in another ember process with ``weights_only=False``; ``weights_only`` loads refuse it with
PyTorch's advice, unless its classes are allowed with ``torch.serialization.safe_globals``."""
import io
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAVER = '''import ember as torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
model(torch.ones(2, 3)).sum().backward()
opt.step()
torch.save(model, "model.pt")
torch.save({"model": model, "opt": opt, "epoch": 3}, "ckpt.pt")
print(model(torch.ones(1, 3)).item())
'''
LOADER = '''import ember as torch
model = torch.load("model.pt", weights_only=False)
ckpt = torch.load("ckpt.pt", weights_only=False)
print(model(torch.ones(1, 3)).item())
print(type(model).__name__, type(model[0].weight).__name__, model[0].weight.requires_grad, ckpt["epoch"])
print(ckpt["opt"].state_dict()["state"][0]["momentum_buffer"].shape)
print(ckpt["opt"].param_groups[0]["params"][0] is ckpt["model"][0].weight)
'''


def run(tmp_path, code):
    proc = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_whole_module_and_optimizer_between_ember_processes(tmp_path):
    saved = run(tmp_path, SAVER)
    loaded = run(tmp_path, LOADER)
    assert loaded == [saved[0], 'Sequential Parameter True 3', 'torch.Size([4, 3])', 'True']


def model_in(T):
    return T.nn.Sequential(T.nn.Linear(2, 2), T.nn.Tanh())


def _refusal(T, data):
    with pytest.raises(pickle.UnpicklingError) as info:
        T.load(io.BytesIO(data))
    return str(info.value)


def test_weights_only_load_refuses_whole_objects_and_safe_globals_allow_them():
    model = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.Tanh())
    buf = io.BytesIO()
    ember.save(model, buf)
    for T, module in ((torch, model_in(torch)), (ember, model)):     # PyTorch's messages, word for word
        theirs = io.BytesIO()
        T.save(module, theirs)
        messages = [_refusal(T, theirs.getvalue())]
        with T.serialization.safe_globals([T.nn.Sequential, T.nn.Linear]):
            messages.append(_refusal(T, theirs.getvalue()))
        if T is torch:
            want = messages
    assert messages == want and 'GLOBAL torch.nn.modules.activation.Tanh was not' in want[1]
    with ember.serialization.safe_globals([ember.nn.Sequential, ember.nn.Linear, ember.nn.Tanh]):
        back = ember.load(io.BytesIO(buf.getvalue()))
    assert repr(back) == repr(model) and ember.equal(back[0].weight, model[0].weight)
    assert ember.serialization.get_safe_globals() == []


def test_safe_globals_registry_behaves_as_pytorchs():
    class Point:
        pass
    answers = []
    for lib in (ember, torch):
        lib.serialization.clear_safe_globals()
        lib.serialization.add_safe_globals([Point, (Point, 'x.Point')])
        with lib.serialization.safe_globals([dict]):
            inside = lib.serialization.get_safe_globals()
        answers.append((set(inside), set(lib.serialization.get_safe_globals())))
        lib.serialization.clear_safe_globals()
        answers.append(lib.serialization.get_safe_globals())
    assert answers[:2] == answers[2:]


def test_unpicklable_objects_raise_what_torch_save_raises():
    for lib in (torch, ember):
        with pytest.raises(AttributeError, match="^Can't pickle local object 'test_unpicklable_objects_raise_what"):
            lib.save({'f': lambda: 0}, io.BytesIO())


def test_pytorchs_whole_module_files_load():
    """A whole module PyTorch pickled loads as ember's (tests/test_real_programs_o.py has more); a tensor that
    PyTorch pickles with another rebuild function (sparse here) inside one is refused, naming it."""
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buf)
    loaded = ember.load(io.BytesIO(buf.getvalue()), weights_only=False)
    reference = torch.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert type(loaded) is ember.nn.Linear
    np.testing.assert_array_equal(loaded.weight.detach().numpy(), reference.weight.detach().numpy())
    buf = io.BytesIO()
    torch.save([torch.nn.Linear(2, 2), torch.eye(2).to_sparse()], buf)
    with pytest.raises(pickle.UnpicklingError, match='torch._utils._rebuild_sparse_tensor.*save the state_dict '
                                                     'instead'):
        ember.load(io.BytesIO(buf.getvalue()), weights_only=False)
