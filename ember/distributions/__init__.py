"""``ember.distributions`` (``torch.distributions``): probability distributions with sampling,
reparameterized sampling, log densities, entropies and KL divergences, following PyTorch's layout."""
from . import constraints, kl, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .log_normal import LogNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, IndependentTransform,
                         PowerTransform, SigmoidTransform, SoftplusTransform, TanhTransform, Transform,
                         identity_transform)
from .uniform import Uniform

__all__ = ['Bernoulli', 'Beta', 'Categorical', 'Dirichlet', 'Distribution', 'ExponentialFamily', 'Gamma',
           'Independent', 'LogNormal', 'MultivariateNormal', 'Normal', 'TransformedDistribution', 'Uniform',
           'kl_divergence', 'register_kl', 'AbsTransform', 'AffineTransform', 'ComposeTransform', 'ExpTransform',
           'IndependentTransform', 'PowerTransform', 'SigmoidTransform', 'SoftplusTransform', 'TanhTransform',
           'Transform', 'identity_transform']
