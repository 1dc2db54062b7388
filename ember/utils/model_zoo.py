"""``ember.utils.model_zoo`` (``torch.utils.model_zoo``): the old name of ``torch.hub``'s checkpoint download,
which older programs call (``model_zoo.load_url(model_urls['resnet18'])``)."""
from ..hub import load_state_dict_from_url as load_url

__all__ = ['load_url']
