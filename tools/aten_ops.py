"""Write ember/data/aten_ops.txt: the operators of PyTorch's ``aten`` namespace and their overload names, read
from PyTorch 2.13's dispatcher. ``torch.ops.aten.<op>.<overload>`` resolves (and ``hasattr`` answers) from this
table, so PyTorch code naming an op ember lacks fails only when it calls it.

    python tools/aten_ops.py           # rewrite ember/data/aten_ops.txt (needs torch)
    python tools/aten_ops.py --check   # exit 1 if the installed torch's table differs from the file
"""
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'ember', 'data', 'aten_ops.txt')


def table():
    """``op overload overload...`` lines, one per aten operator (sorted), its overloads in PyTorch's order (that
    of ``overloads()``); the unnamed overload is ``default``."""
    import torch
    names = sorted({full[len('aten::'):].partition('.')[0] for full in torch._C._dispatch_get_all_op_names()
                    if full.startswith('aten::')})
    return ''.join(f"{name} {' '.join(getattr(torch.ops.aten, name).overloads())}\n" for name in names)


if __name__ == '__main__':
    text = table()
    if '--check' in sys.argv:
        with open(OUT) as f:
            sys.exit(0 if f.read() == text else 1)
    with open(OUT, 'w') as f:
        f.write(text)
