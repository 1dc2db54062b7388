"""Which fuser joins a run of module types (conv + bn + relu, linear + bn, ...) and the fusers themselves: eval-mode
fusion folds the batch norm into the layer, QAT fusion keeps the parts in an intrinsic container."""
from ...nn.utils import fusion
from ..nn import intrinsic as nni

__all__ = ['fuse_conv_bn', 'fuse_conv_bn_relu', 'fuse_linear_bn', 'fuse_convtranspose_bn', 'get_fuser_method',
           'get_fuser_method_new']


def _check_qat_bn(bn, channels, what):
    if bn.num_features != channels:
        raise AssertionError(what)
    if not bn.affine:
        raise AssertionError(f'Only support fusing {type(bn).__name__} with affine set to True')
    if not bn.track_running_stats:
        raise AssertionError(f'Only support fusing {type(bn).__name__} with tracking_running_stats set to True')


def fuse_conv_bn(is_qat, conv, bn):
    """conv + bn: the conv with bn folded in (eval), or a ConvBnNd container (QAT)."""
    if conv.training != bn.training:
        raise AssertionError('Conv and BN both must be in the same mode (train or eval).')
    if not is_qat:
        return fusion.fuse_conv_bn_eval(conv, bn)
    _check_qat_bn(bn, conv.out_channels, 'Output channel of Conv2d must match num_features of BatchNorm2d.')
    fused = {_nn().Conv1d: nni.ConvBn1d, _nn().Conv2d: nni.ConvBn2d, _nn().Conv3d: nni.ConvBn3d}.get(type(conv))
    if fused is None:
        raise NotImplementedError(f'Cannot fuse train modules: {(conv, bn)}')
    return fused(conv, bn)


def fuse_conv_bn_relu(is_qat, conv, bn, relu):
    """conv + bn + relu: ConvReLUNd of the folded conv (eval), or a ConvBnReLUNd container (QAT)."""
    if not (conv.training == bn.training == relu.training):
        raise AssertionError('Conv and BN both must be in the same mode (train or eval).')
    n = _nn()
    if is_qat:
        _check_qat_bn(bn, conv.out_channels, 'Output channel of Conv2d must match num_features of BatchNorm2d')
        fused = {n.Conv1d: nni.ConvBnReLU1d, n.Conv2d: nni.ConvBnReLU2d, n.Conv3d: nni.ConvBnReLU3d}.get(type(conv))
        if fused is None:
            raise NotImplementedError(f'Cannot fuse train modules: {(conv, bn, relu)}')
        return fused(conv, bn, relu)
    fused = {n.Conv1d: nni.ConvReLU1d, n.Conv2d: nni.ConvReLU2d, n.Conv3d: nni.ConvReLU3d}.get(type(conv))
    if fused is None:
        raise NotImplementedError(f'Cannot fuse eval modules: {(conv, bn, relu)}')
    return fused(fusion.fuse_conv_bn_eval(conv, bn), relu)


def fuse_linear_bn(is_qat, linear, bn):
    """linear + bn: the linear with bn folded in (eval), or a LinearBn1d container (QAT)."""
    if linear.training != bn.training:
        raise AssertionError('Linear and BN both must be in the same mode (train or eval).')
    if not is_qat:
        return fusion.fuse_linear_bn_eval(linear, bn)
    _check_qat_bn(bn, linear.out_features, 'Output features of Linear must match num_features of BatchNorm1d')
    return nni.LinearBn1d(linear, bn)


def fuse_convtranspose_bn(is_qat, convt, bn):
    """conv-transpose + bn: the transposed conv with bn folded in (eval only, as PyTorch)."""
    if convt.training != bn.training:
        raise AssertionError('ConvTranspose and BN both must be in the same mode (train or eval).')
    if is_qat:
        raise Exception('Fusing ConvTranspose+BatchNorm not yet supported in QAT.')
    return fusion.fuse_conv_bn_eval(convt, bn, transpose=True)


def _pair(container):
    def fuser_method(is_qat, m1, m2):
        return container(m1, m2)
    return fuser_method


def _nn():
    from ... import nn
    return nn


def _default_mapping():
    n = _nn()
    table = {}
    for d in (1, 2, 3):
        conv, bn = getattr(n, f'Conv{d}d'), getattr(n, f'BatchNorm{d}d')
        table[(conv, bn)] = fuse_conv_bn
        table[(conv, bn, n.ReLU)] = fuse_conv_bn_relu
        table[(conv, n.ReLU)] = _pair(getattr(nni, f'ConvReLU{d}d'))
        table[(getattr(n, f'ConvTranspose{d}d'), bn)] = fuse_convtranspose_bn
    table[(n.Linear, n.BatchNorm1d)] = fuse_linear_bn
    table[(n.Linear, n.ReLU)] = _pair(nni.LinearReLU)
    table[(n.BatchNorm2d, n.ReLU)] = _pair(nni.BNReLU2d)
    table[(n.BatchNorm3d, n.ReLU)] = _pair(nni.BNReLU3d)
    return table


def get_fuser_method(op_list, additional_fuser_method_mapping=None):
    """The fuser for the tuple of module types ``op_list``; an AssertionError when none is known."""
    mapping = {**_default_mapping(), **(additional_fuser_method_mapping or {})}
    method = mapping.get(op_list)
    if method is None:
        raise AssertionError(f'did not find fuser method for: {op_list} ')
    return method


def get_fuser_method_new(op_pattern, fuser_method_mapping):
    """The FX pattern lookup: ember has no FX graph-mode quantization."""
    raise NotImplementedError('torch.ao.quantization.get_fuser_method_new (FX graph-mode quantization) is not '
                              'supported by ember yet; use eager-mode fuse_modules')
