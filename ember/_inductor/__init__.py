"""``torch._inductor``: importable for scripts that tune ``torch.compile``'s default backend (llm.c's and
nanoGPT-speedrun's ``import torch._inductor.config as config; config.coordinate_descent_tuning = True``). ember has
no compiler, so its settings (``config``) are kept and read back but change nothing."""
from .._config_module import ConfigModule

__all__ = ['config']

# The settings scripts commonly touch, with PyTorch 2.13's defaults.
config = ConfigModule('ember._inductor.config', 'torch._inductor.config', {
    'coordinate_descent_tuning': False, 'coordinate_descent_check_all_directions': False,
    'coordinate_descent_search_radius': 1, 'max_autotune': False, 'max_autotune_gemm': False,
    'max_autotune_pointwise': False, 'epilogue_fusion': True, 'freezing': False, 'fx_graph_cache': True,
    'fx_graph_remote_cache': None, 'cpp_wrapper': False, 'debug': False, 'fallback_random': False,
    'conv_1x1_as_mm': False, 'split_reductions': True, 'benchmark_kernel': False, 'aggressive_fusion': False,
    'shape_padding': True, 'permute_fusion': False, 'compile_threads': 2, 'autotune_local_cache': True,
    'emulate_precision_casts': False, 'force_disable_caches': False, 'unroll_reductions_threshold': 8,
    'size_asserts': True, 'nan_asserts': False, 'layout_optimization': True, 'keep_output_stride': True,
    'implicit_fallbacks': True, 'use_mixed_mm': True, 'force_fuse_int_mm_with_mul': False, 'group_fusion': False,
    'pattern_matcher': True, 'reorder_for_compute_comm_overlap': False,
    'triton': {'cudagraphs': False, 'cudagraph_trees': True, 'unique_kernel_names': True, 'autotune_pointwise': True,
               'descriptive_names': 'original_aten', 'max_tiles': None, 'persistent_reductions': True,
               'multi_kernel': 0, 'use_block_ptr': False},
    'cpp': {'threads': -1, 'simdlen': None, 'enable_kernel_profile': False, 'weight_prepack': True},
    'trace': {'enabled': False, 'debug_log': False, 'info_log': False, 'graph_diagram': False}})
