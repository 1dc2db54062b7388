"""``ember.cuda.random``: PyTorch's module of the CUDA seeding functions (torchattacks' APGD, FAB and Square call
``torch.cuda.random.manual_seed``); they are ``ember.cuda``'s own, which accept seeds and keep no generator."""
from . import (get_rng_state, get_rng_state_all, initial_seed, manual_seed, manual_seed_all, seed, seed_all,
               set_rng_state, set_rng_state_all)

__all__ = ['get_rng_state', 'get_rng_state_all', 'set_rng_state', 'set_rng_state_all', 'manual_seed',
           'manual_seed_all', 'seed', 'seed_all', 'initial_seed']
