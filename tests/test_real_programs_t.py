"""The tools PyTorch users bolt onto their models (session 35), run under ``ember.aliasing.as_torch()`` on a small
CNN and a small MLP with PyTorch's seed: captum 0.9 (IntegratedGradients, Saliency, DeepLift, GradientShap,
NoiseTunnel, LayerGradCam...), grad-cam 1.5.7, torchviz 0.0.3, fvcore, thop, ptflops, tensorboard's SummaryWriter,
torch.utils.flop_counter and the profiler. Each test is the lines of the library that stopped on ember or printed
something else, reduced; the libraries are not needed here."""
import numpy as np
import pytest
import torch

import ember


def test_future_is_torch_future():
    """captum/attr/_core/feature_ablation.py: ``isinstance(initial_eval, torch.Future)`` on the model's output."""
    for lib in (torch, ember):
        fut = lib.futures.Future()
        assert isinstance(fut, lib.Future) and not isinstance(lib.ones(1), lib.Future)
        fut.set_result(3)
        assert fut.wait() == 3
