"""``ember run`` and the torch aliasing: scripts and notebooks run as ``python PATH`` would, with
``import torch`` giving ember. Subprocess runs are batched into a few scripts to keep this file fast."""
import importlib.util
import json
import os
import subprocess
import sys
import types
from functools import partial
from pathlib import Path

import pytest

import ember
from ember import _notebook, aliasing, cli

ROOT = Path(__file__).resolve().parents[1]
ALIASES = {"torch": "ember", "torch.nn": "ember.nn", "torch.nn.functional": "ember.nn.functional",
           "torch.optim": "ember.optim", "torch.optim.lr_scheduler": "ember.optim.lr_scheduler",
           "torch.autograd": "ember.autograd", "torch.linalg": "ember.linalg",
           "torch.utils.data": "ember.utils.data", "torchvision": "ember.vision",
           "torchvision.datasets": "ember.vision.datasets", "torchvision.transforms": "ember.vision.transforms",
           "torchvision.utils": "ember.vision.utils"}
HAS_MPL = importlib.util.find_spec("matplotlib") is not None

SCRIPT = r'''
import importlib, importlib.util, json, sys
import helper
import torch
import torch.autograd
from torch import autograd

ALIASES = json.loads(sys.argv[-1])
def exists(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False
report = {"argv": sys.argv[:-1], "name": __name__, "file": __file__, "path0": sys.path[0],
          "helper": helper.VALUE, "data": open("data.txt").read(), "torch": torch.__spec__.name,
          "autograd": autograd is torch.autograd is importlib.import_module("ember.autograd"),
          "aliased": [t for t, e in ALIASES.items() if exists(e)],
          "errors": []}
for stmt in ["import torch.nested", "from torch.autograd import NoSuchThing", "torch.no_such_thing"]:
    try:
        exec(stmt)
    except (ImportError, AttributeError) as exc:
        report["errors"].append(str(exc))
report["not_aliased"] = [t for t in report["aliased"]
                         if importlib.import_module(t) is not importlib.import_module(ALIASES[t])]
print(json.dumps(report))
if importlib.util.find_spec("matplotlib"):
    import matplotlib
    import matplotlib.pyplot as plt
    plt.plot([1, 2, 3])
    plt.show()
    plt.figure()
    plt.figure()
    plt.savefig("saved.png")
    plt.show()
    print("backend", matplotlib.get_backend())
sys.exit(3)
'''

FAILING = '''import torch


def broken():
    raise ValueError("boom")


broken()
'''

CELLS = [
    "%matplotlib inline\nimport sys\nimport torch\nprint(sys.argv, __name__, torch.__spec__.name)",
    "!pip install something\n1 + 1",
    "x = 5\nx;",
    "None",
    "%%time\ny = x * 2\ny",
    "%%bash\necho never",
    "for i in range(2):\n    !ls\n    %time z = i\nz",
    "s = ('%d'\n     % 3)\n'abc'  # a comment",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]);" if HAS_MPL else "pass",
    "print('last')\ndef g():\n    return 1 / 0\ng()",
    "print('not reached')",
]


def ember_run(cwd, *args):
    """``python -m ember run ARGS`` in ``cwd`` with this checkout importable."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "ember", "run", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def write_notebook(path, cells):
    """Write an nbformat-4 notebook with a markdown cell first, then ``cells`` as code cells."""
    code = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": c.splitlines(True)} for c in cells]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# t"}] + code}))


def test_script_runs_like_python(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "main.py").write_text(SCRIPT)
    (tmp_path / "scripts" / "helper.py").write_text("VALUE = 42\n")
    (tmp_path / "data.txt").write_text("relative to cwd")
    proc = ember_run(tmp_path, "scripts/main.py", "a", "--flag", json.dumps(ALIASES))
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout.splitlines()[0])
    assert report["argv"] == ["scripts/main.py", "a", "--flag"]
    assert report["name"] == "__main__"
    assert report["file"] == str(tmp_path / "scripts" / "main.py")
    assert report["path0"] == os.path.realpath(tmp_path / "scripts")
    assert (report["helper"], report["data"], report["torch"]) == (42, "relative to cwd", "ember")
    assert report["autograd"]
    assert {"torch", "torch.autograd", "torch.linalg"} <= set(report["aliased"])
    assert report["not_aliased"] == []
    errors = report["errors"]
    assert errors[0].startswith("torch.nested is not supported by ember yet")
    assert all("not supported by ember yet" in e for e in errors[1:]), errors
    assert "NoSuchThing" in errors[1] and "no_such_thing" in errors[2]
    if HAS_MPL:
        figs = sorted(p.name for p in (tmp_path / "scripts").glob("*.png"))
        assert figs == ["main_fig1.png", "main_fig2.png", "main_fig3.png"]
        assert (tmp_path / "saved.png").read_bytes()[:4] == b"\x89PNG"
        assert f"ember: saved figure to {os.path.join('scripts', 'main_fig3.png')}" in proc.stderr
        assert "backend agg" in proc.stdout.lower()


def test_uncaught_exception_traceback_and_exit_code(tmp_path):
    (tmp_path / "fail.py").write_text(FAILING)
    proc = ember_run(tmp_path, "fail.py")
    assert proc.returncode == 1
    path = tmp_path / "fail.py"
    assert proc.stderr.startswith("Traceback (most recent call last):\n")
    assert f'File "{path}", line 8, in <module>\n    broken()' in proc.stderr
    assert f'File "{path}", line 5, in broken\n    raise ValueError("boom")' in proc.stderr
    assert proc.stderr.rstrip().endswith("ValueError: boom")
    assert "cli.py" not in proc.stderr and "_notebook.py" not in proc.stderr


def test_notebook(tmp_path):
    write_notebook(tmp_path / "nb.ipynb", CELLS)
    proc = ember_run(tmp_path, "--figures", "figs", "nb.ipynb", "x1")
    assert proc.returncode == 1, proc.stderr
    out = [line for line in proc.stdout.splitlines() if not line.startswith("[<matplotlib")]
    expected = ["['nb.ipynb', 'x1'] __main__ ember", "2", "10", "1", "'abc'"]
    assert out == expected + ["last"]
    if HAS_MPL:
        assert "ember: saved figure to " + os.path.join("figs", "nb_fig1.png") in proc.stderr
    for magic, cell in [("%matplotlib inline", 1), ("!pip install something", 2), ("%%time", 5),
                        ("%%bash", 6), ("!ls", 7), ("%time z = i", 7)]:
        assert f"ember: skipped IPython magic: {magic} (nb.ipynb:cell {cell})" in proc.stderr
    assert 'File "nb.ipynb:cell 10", line 4, in <module>\n    g()' in proc.stderr
    assert 'File "nb.ipynb:cell 10", line 3, in g\n    return 1 / 0' in proc.stderr
    assert "ZeroDivisionError" in proc.stderr and "never" not in proc.stdout
    if HAS_MPL:
        assert (tmp_path / "figs" / "nb_fig1.png").read_bytes()[:4] == b"\x89PNG"


def test_strip_magics_skips_ipython_help_requests():
    """``obj?``, ``obj??``, ``?obj`` and ``torch.*Tensor?`` ask IPython for help: skipped like magics, while
    Python that merely contains a question mark in a string or comment is kept."""
    code, skipped = _notebook.strip_magics("torch.*Tensor?\nx = 1  # why?\n  torch.nn.Module??\n?len\ns = 'a?'\n")
    assert code == "pass\nx = 1  # why?\n  pass\npass\ns = 'a?'\n"
    assert skipped == ['torch.*Tensor?', 'torch.nn.Module??', '?len']


def test_strip_magics_keeps_python_that_looks_like_magic():
    code, skipped = _notebook.strip_magics("a = (1\n     % 2)\ns = '''\n!not shell\n'''\n  !ls\n%time b = 3\n")
    assert code == "a = (1\n     % 2)\ns = '''\n!not shell\n'''\n  pass\nb = 3\n"
    assert skipped == ["!ls", "%time b = 3"]
    assert _notebook.strip_magics("\n%%writefile f.py\nx = 1\n") == (None, ["%%writefile f.py"])
    assert _notebook.strip_magics("%%capture\nx = 1") == ("\nx = 1", ["%%capture"])


def test_as_torch_restores_sys_modules(monkeypatch):
    sentinel = types.ModuleType("torch")
    monkeypatch.setitem(sys.modules, "torch", sentinel)
    before = {k: v for k, v in sys.modules.items() if k.partition(".")[0] in ("torch", "torchvision")}
    with aliasing.as_torch() as alias:
        import torch
        import torch.autograd as ag
        from torch import linalg
        assert torch is alias is ember and ag is ember.autograd and linalg is ember.linalg
        with aliasing.as_torch():
            import torch as inner
            assert inner is ember
        assert sys.modules["torch"] is ember and aliasing.is_installed()
    with pytest.raises(KeyError), aliasing.as_torch():
        import torch  # noqa: F811
        raise KeyError("propagates")
    after = {k: v for k, v in sys.modules.items() if k.partition(".")[0] in ("torch", "torchvision")}
    assert after == before and sys.modules["torch"] is sentinel
    assert not aliasing.is_installed() and aliasing._FINDER not in sys.meta_path
    assert "__getattr__" not in vars(ember.autograd) or not isinstance(vars(ember.autograd)["__getattr__"], partial)


def test_unsupported_imports_say_so():
    with pytest.raises(ModuleNotFoundError, match="torch.nested is not supported by ember yet"):
        with aliasing.as_torch():
            import torch.nested  # noqa: F401
    with pytest.raises(ModuleNotFoundError, match="torch.ops.pointwise is not supported by ember yet"):
        with aliasing.as_torch():
            import torch.ops.pointwise  # noqa: F401
    with pytest.raises(ImportError) as info:
        with aliasing.as_torch():
            from torch.autograd import NoSuchThing  # noqa: F401
    assert "torch.autograd.NoSuchThing is not supported by ember yet" in str(info.value) + str(
        getattr(info.value, "__notes__", ""))


def test_module_getattr_messages(monkeypatch):
    fake = types.ModuleType("ember.fakemod")
    fake.__getattr__ = partial(aliasing.module_getattr, "ember.fakemod")
    monkeypatch.setitem(sys.modules, "ember.fakemod", fake)
    with pytest.raises(AttributeError, match=r"^torch.fakemod.thing is not supported by ember yet"):
        fake.thing
    with pytest.raises(ImportError, match=r"^torch.fakemod.thing is not supported by ember yet"):
        from ember.fakemod import thing  # noqa: F401
    assert not hasattr(fake, "thing") and not hasattr(fake, "__wrapped__")
    with pytest.raises(AttributeError, match=r"^module 'ember.ops.pointwise' has no attribute 'x'$"):
        aliasing.missing_attribute("ember.ops.pointwise", "x")
    assert aliasing.module_getattr("ember", "linalg") is ember.linalg


def test_name_mapping():
    for torch_name, ember_name in ALIASES.items():
        assert aliasing.ember_name(torch_name) == ember_name
        assert aliasing.torch_name(ember_name) == torch_name
    assert aliasing.ember_name("torchaudio") is None
    assert aliasing.torch_name("ember.ops.pointwise") is None and aliasing.torch_name("ember._dtype") is None


def test_cli_commands(capsys, monkeypatch):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == "ember 0.1.0 (PyTorch 2.13.0 API)\n"
    assert cli.main([]) == 2 and cli.main(["frobnicate"]) == 2 and cli.main(["run"]) == 2
    assert cli.main(["run", "notes.txt"]) == 2
    assert cli.main(["run", "does_not_exist.py"]) == 2
    assert "can't open file" in capsys.readouterr().err
    assert cli.main(["run", "--help"]) == 0 and "ember run" in capsys.readouterr().out
    calls = []
    monkeypatch.setitem(sys.modules, "ember.demo", types.SimpleNamespace(main=lambda argv: calls.append(argv)))
    assert cli.main(["demo", "--fast"]) == 0 and calls == [["--fast"]]
    monkeypatch.setitem(sys.modules, "ember.demo", types.SimpleNamespace())
    assert cli.main(["demo"]) == 1


SPAWN_SCRIPT = '''
import torch
from torch.utils.data import DataLoader, Dataset


class Squares(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return torch.tensor([float(i * i)]), type(torch.tensor(0)).__module__


if __name__ == "__main__":
    loader = DataLoader(Squares(), batch_size=3, num_workers=2, multiprocessing_context="spawn")
    for x, where in loader:
        print(x.flatten().tolist(), sorted(set(where)))
'''


def test_spawned_workers_inherit_the_alias(tmp_path):
    """Workers started with the 'spawn' method (macOS's and Windows's default) re-run the script with torch
    aliased to ember, even where a real torch is installed (as here)."""
    (tmp_path / "spawned.py").write_text(SPAWN_SCRIPT)
    result = ember_run(tmp_path, "spawned.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[0.0, 1.0, 4.0] ['ember.tensor']", "[9.0, 16.0, 25.0] ['ember.tensor']"]


@pytest.mark.parametrize("content", [
    "[1, 2]", '{"cells": [3]}', '{"cells": [{"cell_type": "code", "source": 5}]}',
    '{"cells": [{"cell_type": "code", "source": ["x = 1\\n", 2]}]}', "{not json", '"text"'])
def test_malformed_notebook_is_reported_not_crashed(tmp_path, content):
    (tmp_path / "bad.ipynb").write_text(content)
    result = ember_run(tmp_path, "bad.ipynb")
    assert result.returncode == 2 and "ember: can't read notebook 'bad.ipynb'" in result.stderr
    assert "Traceback" not in result.stderr


def test_syntax_error_in_cell_shows_no_runner_frames(tmp_path):
    write_notebook(tmp_path / "syntax.ipynb", ["x = 1", "def f(:\n    pass"])
    result = ember_run(tmp_path, "syntax.ipynb")
    assert result.returncode == 1 and "SyntaxError" in result.stderr
    assert "syntax.ipynb:cell 2" in result.stderr
    assert "ast.py" not in result.stderr and "_notebook.py" not in result.stderr and "cli.py" not in result.stderr
