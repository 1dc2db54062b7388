"""``torch.utils.data._utils``: where older programs import the collate functions from
(``from torch.utils.data._utils.collate import default_collate``) and ``pin_memory``."""
from . import collate, pin_memory
