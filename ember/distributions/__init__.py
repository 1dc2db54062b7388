"""``ember.distributions`` (``torch.distributions``): probability distributions with sampling,
reparameterized sampling, log densities, entropies and KL divergences, following PyTorch's layout."""
from . import constraints, kl, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, IndependentTransform,
                         PowerTransform, SigmoidTransform, SoftplusTransform, TanhTransform, Transform,
                         identity_transform)
from .uniform import Uniform

__all__ = ['Bernoulli', 'Beta', 'Binomial', 'Categorical', 'Cauchy', 'Chi2', 'Dirichlet', 'Distribution', 'Exponential',
           'ExponentialFamily', 'Gamma', 'Geometric', 'Gumbel', 'HalfNormal', 'Independent', 'Laplace', 'LogNormal',
           'MixtureSameFamily', 'Multinomial', 'MultivariateNormal', 'Normal', 'OneHotCategorical', 'OneHotCategoricalStraightThrough',
           'Poisson', 'RelaxedBernoulli', 'RelaxedOneHotCategorical', 'StudentT', 'TransformedDistribution', 'Uniform',
           'kl_divergence', 'register_kl', 'AbsTransform', 'AffineTransform', 'ComposeTransform', 'ExpTransform',
           'IndependentTransform', 'PowerTransform', 'SigmoidTransform', 'SoftplusTransform', 'TanhTransform',
           'Transform', 'identity_transform']
