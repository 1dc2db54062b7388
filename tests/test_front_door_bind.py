"""Front door, lane "bind": places where ember was not PyTorch, each checked against PyTorch 2.13: torch.jit's
notes, functions set as class attributes, dense and sparse tensors joined, storages' methods, tensors over
read-only memory."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.jit as ejit


# -- torch.jit: scripting prints nothing; a trace's note comes once per process ---------------------------------
def _jit_program(lib):
    """A library's import-time helpers and a model: scripted functions and a scripted, traced module; the
    warnings caught (PyTorch's trace warns nothing for this code either)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        helpers = []
        for scale in (1.0, 2.0, 3.0):
            @lib.jit.script
            def helper(x, scale: float = scale):
                return x * scale + 1
            helpers.append(helper)
        lib.manual_seed(0)
        net = lib.jit.script(lib.nn.Linear(3, 2))
        traced = [lib.jit.trace(lib.nn.Linear(3, 2), lib.ones(1, 3)) for _ in range(3)]
    x = lib.arange(6.0).reshape(2, 3)
    return [(w.category, str(w.message)) for w in caught], [h(x) for h in helpers] + [net(x)], traced


def _shown(caught):
    """The warnings Python's default filters show: PyTorch's DeprecationWarnings come from its own code."""
    return [m for c, m in caught if c is not DeprecationWarning]


def test_jit_script_is_silent_and_trace_notes_once(monkeypatch):
    monkeypatch.setattr(ejit, '_NOTED', set())
    (t_warn, t_out, _), (e_warn, e_out, _) = _jit_program(torch), _jit_program(ember)
    deprecated = [w for w in t_warn if w[0] is DeprecationWarning]
    assert [w for w in e_warn if w[0] is DeprecationWarning] == deprecated and len(deprecated) == 13
    assert _shown(t_warn) == [] and len(_shown(e_warn)) == 1 and 'no TorchScript tracer' in _shown(e_warn)[0]
    for t, e in zip(t_out, e_out):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    _, _, again = _jit_program(ember)
    assert len(again) == 3     # (and no second note: the set above holds 'trace' now)
    assert ejit._NOTED == {'trace'}


def test_jit_graph_and_code_say_why_and_save_round_trips(tmp_path, monkeypatch):
    monkeypatch.setattr(ejit, '_NOTED', set())
    tm = torch.jit.script(torch.nn.Linear(3, 2))
    assert hasattr(tm, 'graph') and hasattr(tm, 'code')     # PyTorch's TorchScript module has them
    em = ejit.script(ember.nn.Linear(3, 2))
    for name in ('graph', 'code', 'inlined_graph'):
        with pytest.raises(AttributeError, match=f"no attribute '{name}': ember has no TorchScript"):
            getattr(em, name)
    with pytest.raises(AttributeError, match=r"^'Linear' object has no attribute 'graph'$"):
        ember.nn.Linear(3, 2).graph      # a module never scripted: PyTorch's plain message
    with pytest.raises(AttributeError, match=r"^'Linear' object has no attribute 'graph'$"):
        torch.nn.Linear(3, 2).graph
    with pytest.warns(UserWarning, match='PyTorch cannot'):
        em.save(str(tmp_path / 'm.pt'))
    back = ejit.load(str(tmp_path / 'm.pt'))
    x = ember.ones(1, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), em(x).detach().numpy())
    with warnings.catch_warnings():
        warnings.simplefilter('error')    # the note came once
        warnings.simplefilter('ignore', DeprecationWarning)
        ejit.save(em, str(tmp_path / 'm2.pt'))


def test_jit_deprecations_are_pytorchs_and_hidden_by_default(tmp_path):
    """PyTorch 2.13 deprecates torch.jit: ember gives the same DeprecationWarnings, from the library's code, so a
    program run with Python's default filters prints nothing for them, as under PyTorch."""
    prog = ("import {lib}\n@{lib}.jit.script\ndef f(x):\n    return x + 1\n"
            "m = {lib}.jit.trace({lib}.nn.Linear(2, 2), {lib}.ones(1, 2))\n"
            "{lib}.jit.save({lib}.jit.script({lib}.nn.Linear(2, 2)), {path!r})\n"
            "{lib}.jit.load({path!r})\nprint(f({lib}.ones(2)).tolist())\n")
    outs = []
    for lib in ('torch', 'ember'):     # (TorchScript reads the function's source: a file, not -c)
        (tmp_path / f'{lib}_prog.py').write_text(prog.format(lib=lib, path=str(tmp_path / f'{lib}.pt')))
        outs.append(subprocess.run([sys.executable, str(tmp_path / f'{lib}_prog.py')], capture_output=True,
                                   text=True, env={**os.environ, 'PYTHONWARNINGS': ''}))
    assert outs[0].stdout == outs[1].stdout == '[2.0, 2.0]\n' and outs[0].stderr == ''
    # ember's two notes (the trace runs as Python; the file is ember's), once each
    assert outs[1].stderr.count('UserWarning') == 2, outs[1].stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for lib in (torch, ember):
            m = lib.jit.script(lib.nn.Linear(2, 2))
            lib.jit.save(m, str(tmp_path / 'x.pt'))
            lib.jit.load(str(tmp_path / 'x.pt')) if lib is torch else ejit.load(str(tmp_path / 'x.pt'))
    deprecated = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert len(deprecated) == 6 and deprecated[:3] == deprecated[3:]
