"""``torchvision.ops``: the building blocks torchvision's models share (detection ops are not provided)."""
from .misc import MLP, Conv2dNormActivation, Permute, SqueezeExcitation
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = ['Conv2dNormActivation', 'SqueezeExcitation', 'MLP', 'Permute', 'StochasticDepth', 'stochastic_depth']
