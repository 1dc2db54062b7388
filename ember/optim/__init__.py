"""``ember.optim``: the optimizers of ``torch.optim`` and learning-rate schedulers."""
from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from ._adafactor import Adafactor
from ._muon import Muon
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ['Optimizer', 'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'NAdam', 'RAdam',
           'ASGD', 'Rprop', 'SparseAdam', 'LBFGS', 'Adafactor', 'Muon', 'lr_scheduler', 'swa_utils']

# as torch.optim does: the optimizers' modules stay importable (torch.optim.adam) but are not attributes
del adadelta, adagrad, adam, adamw, adamax, asgd, lbfgs, nadam, optimizer, radam, rmsprop, rprop  # noqa: F821
del sgd, sparse_adam  # noqa: F821
