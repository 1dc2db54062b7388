"""The summary protocol buffers ``SummaryWriter`` writes (scalars, histograms, images, text), built as
PyTorch's ``torch.utils.tensorboard.summary`` builds them, so TensorBoard shows the same runs."""
import io

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData


def to_numpy(x):
    """An ember tensor, a NumPy array or a Python number as an array (a number becomes shape (1,))."""
    from ...tensor import Tensor
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, Tensor):
        return x.detach().numpy()
    raise NotImplementedError(f'Got {type(x)}, but numpy array or torch tensor are expected.')


def scalar(name, value, new_style=False, double_precision=False):
    """One scalar: ``simple_value``, or (new_style) a one-element tensor tagged for the scalars plugin."""
    value = to_numpy(value).squeeze()
    if value.ndim != 0:
        raise AssertionError(f'Tensor should contain one element (0 dimensions). Was given size: {value.size} '
                             f'and {value.ndim} dimensions.')
    number = float(value)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=number)])
    proto = (TensorProto(double_val=[number], dtype='DT_DOUBLE') if double_precision
             else TensorProto(float_val=[number], dtype='DT_FLOAT'))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name='scalars'))
    return Summary(value=[Summary.Value(tag=name, tensor=proto, metadata=meta)])


def default_bins():
    """TensorBoard's default histogram edges: +-1e-12 growing by 10% up to 1e20, and 0."""
    edges, v = [], 1e-12
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0] + edges


def histogram(name, values, bins, max_bins=None):
    return Summary(value=[Summary.Value(tag=name, histo=make_histogram(to_numpy(values).astype(float), bins,
                                                                       max_bins))])


def make_histogram(values, bins, max_bins=None):
    """``np.histogram`` trimmed to the occupied buckets (plus one empty bucket on the left, since
    TensorBoard stores right edges only), merged down to ``max_bins`` buckets when given."""
    if values.size == 0:
        raise ValueError('The input has no element.')
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        counts = np.pad(counts, (0, (-len(counts)) % group)).reshape(-1, group).sum(-1)
        limits = np.append(limits[:-1:group], limits[-1])
    seen = np.cumsum(counts > 0)
    start, end = (int(i) for i in np.searchsorted(seen, [0, seen[-1] - 1], side='right'))
    end += 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError('The histogram is empty, please file a bug report.')
    return HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                          sum_squares=values.dot(values), bucket_limit=limits.tolist(), bucket=counts.tolist())


def image(tag, array, dataformats='NCHW'):
    """An image (or a grid of images, eight per row) as PNG; float data is taken to lie in [0, 1]."""
    array = to_hwc(to_numpy(array), dataformats)
    scale = 1 if array.dtype == np.uint8 else 255
    array = (array.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=png_image(array))])


def png_image(hwc):
    try:
        from PIL import Image
    except ImportError:
        raise ModuleNotFoundError('SummaryWriter.add_image needs Pillow: pip install ember[vision]') from None
    height, width, channels = hwc.shape
    out = io.BytesIO()
    Image.fromarray(hwc).resize((width, height), Image.Resampling.LANCZOS).save(out, format='PNG')
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=out.getvalue())


def to_hwc(array, dataformats):
    """``array`` laid out as ``dataformats`` (letters N, C, H, W) as one height x width x 3 image."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt):
        raise AssertionError(f'You can not use the same dimension shorthand twice. input_format: {dataformats}')
    if array.ndim != len(fmt):
        raise AssertionError(f'size of input tensor and input format are different. tensor shape: '
                             f'{array.shape}, input_format: {dataformats}')
    if len(fmt) == 4:
        return image_grid(array.transpose([fmt.find(c) for c in 'NCHW'])).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = array.transpose([fmt.find(c) for c in 'HWC'])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    hw = array.transpose([fmt.find(c) for c in 'HW'])
    return np.stack([hw] * 3, 2)


def image_grid(nchw, ncols=8):
    """N images of 1 or 3 channels tiled row by row, ``ncols`` per row, on a zero canvas."""
    if nchw.shape[1] == 1:
        nchw = np.concatenate([nchw] * 3, 1)
    if nchw.ndim != 4 or nchw.shape[1] != 3:
        raise AssertionError('Input should be a 4D numpy array with 3 channels')
    n, _, h, w = nchw.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((3, h * nrows, w * ncols), nchw.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h:(y + 1) * h, x * w:(x + 1) * w] = nchw[i]
    return canvas


def figure_to_chw(figure, close=True):
    """A matplotlib figure rendered to an RGB array (channels first)."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    w, h = figure.canvas.get_width_height()
    rgb = np.frombuffer(canvas.buffer_rgba(), np.uint8).reshape(h, w, 4)[:, :, :3]
    if close:
        plt.close(figure)
    return np.moveaxis(rgb, 2, 0)


def text(tag, string):
    """A text summary for TensorBoard's text plugin (the tag gains ``/text_summary``)."""
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name='text', content=TextPluginData(version=0).SerializeToString()))
    proto = TensorProto(dtype='DT_STRING', string_val=[string.encode('utf_8')],
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + '/text_summary', metadata=meta, tensor=proto)])


def hparams(hparam_dict, metric_dict, hparam_domain_discrete=None):
    """The hparams plugin's three summaries (experiment, session start, session end) for one run: each
    hyperparameter with its type (a number, bool included as PyTorch checks numbers first, a string, or a
    one-element tensor as a number) and its optional discrete domain, and the metric tags."""
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams.api_pb2 import DataType, Experiment, HParamInfo, MetricInfo, MetricName, Status
    from tensorboard.plugins.hparams.metadata import (EXPERIMENT_TAG, PLUGIN_DATA_VERSION, PLUGIN_NAME,
                                                      SESSION_END_INFO_TAG, SESSION_START_INFO_TAG)
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo
    from ...tensor import Tensor
    for name, value in (('hparam_dict', hparam_dict), ('metric_dict', metric_dict)):
        if not isinstance(value, dict):
            raise TypeError(f'parameter: {name} should be a dictionary, nothing logged.')
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError('parameter: hparam_domain_discrete should be a dictionary, nothing logged.')
    for k, v in domains.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f'parameter: hparam_domain_discrete[{k}] should be a list of same type as '
                            f'hparam_dict[{k}].')
    ssi, infos = SessionStartInfo(), []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        tensor = isinstance(v, Tensor)
        if tensor:
            v = float(to_numpy(v).reshape(-1)[0])
        if isinstance(v, (int, float)):
            field, kind = 'number_value', 'DATA_TYPE_FLOAT64'
        elif isinstance(v, str):
            field, kind = 'string_value', 'DATA_TYPE_STRING'
        else:
            raise ValueError('value should be one of int, float, str, bool, or torch.Tensor')
        setattr(ssi.hparams[k], field, v)
        domain = (struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in domains[k]])
                  if k in domains and not tensor else None)
        infos.append(HParamInfo(name=k, type=DataType.Value(kind), domain_discrete=domain))

    def summary(tag, **content):
        data = HParamsPluginData(version=PLUGIN_DATA_VERSION, **content).SerializeToString()
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=data))
        return Summary(value=[Summary.Value(tag=tag, metadata=meta)])
    experiment = Experiment(hparam_infos=infos, metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    return (summary(EXPERIMENT_TAG, experiment=experiment), summary(SESSION_START_INFO_TAG, session_start_info=ssi),
            summary(SESSION_END_INFO_TAG, session_end_info=SessionEndInfo(status=Status.Value('STATUS_SUCCESS'))))
