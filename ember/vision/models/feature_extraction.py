"""``torchvision.models.feature_extraction``: named so that code importing it (avalanche's RAR plugin) imports, but
not provided: ember's torch.fx has no graph rewriting of torchvision's kind, so calling either raises naming it."""
from ...aliasing import unsupported_function

_DETAIL = 'ember has no fx-based feature extraction; read intermediate outputs with forward hooks'
create_feature_extractor = unsupported_function('torchvision.models.feature_extraction.create_feature_extractor',
                                                _DETAIL)
get_graph_node_names = unsupported_function('torchvision.models.feature_extraction.get_graph_node_names', _DETAIL)
