"""``SummaryWriter``: logs scalars, histograms, images, figures and text to TensorBoard event files in
``log_dir`` (default ``runs/<Mon><DD>_<HH-MM-SS>_<host><comment>``), as PyTorch's writer does."""
import os
import socket
import time
from datetime import datetime

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from ...aliasing import unsupported
from . import summary as S

__all__ = ['FileWriter', 'SummaryWriter']


class FileWriter:
    """Events into one directory's event file (TensorBoard's own writer queues and flushes them)."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=''):
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self):
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None):
        self.add_event(Event(summary=summary), global_step, walltime)

    def flush(self):
        self.event_writer.flush()

    def close(self):
        self.event_writer.close()

    def reopen(self):
        self.event_writer.reopen()


class SummaryWriter:
    """Writes TensorBoard summaries; ``add_scalars`` keeps one sub-run per tag, as PyTorch's does."""

    def __init__(self, log_dir=None, comment='', purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=''):
        if not log_dir:
            stamp = datetime.now().strftime('%b%d_%H-%M-%S')
            log_dir = os.path.join('runs', stamp + '_' + socket.gethostname() + comment)
        self.log_dir, self.purge_step = log_dir, purge_step
        self.max_queue, self.flush_secs, self.filename_suffix = max_queue, flush_secs, filename_suffix
        self.file_writer = self.all_writers = None
        self.default_bins = S.default_bins()
        self._get_file_writer()

    def _get_file_writer(self):
        """The main writer, opened again after ``close()``; a purge_step first writes the restart events."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step, self.purge_step = self.purge_step, None
                self.file_writer.add_event(Event(step=step, file_version='brain.Event:2'))
                self.file_writer.add_event(Event(step=step, session_log=SessionLog(status=SessionLog.START)))
        return self.file_writer

    def get_logdir(self):
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        summary = S.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Each tag's curve in the sub-run ``<log_dir>/<main_tag>_<tag>``, all with one wall time."""
        walltime = time.time() if walltime is None else walltime
        root = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            path = root + '/' + main_tag.replace('/', '_') + '_' + tag
            writer = self.all_writers.get(path)
            if writer is None:
                writer = self.all_writers[path] = FileWriter(path, self.max_queue, self.flush_secs,
                                                             self.filename_suffix)
            writer.add_summary(S.scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins='tensorflow', walltime=None, max_bins=None):
        if isinstance(bins, str) and bins == 'tensorflow':
            bins = self.default_bins
        self._get_file_writer().add_summary(S.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step=None, walltime=None):
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError('len(bucket_limits) != len(bucket_counts), see the document.')
        histo = S.HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                                 bucket_limit=bucket_limits, bucket=bucket_counts)
        self._get_file_writer().add_summary(S.Summary(value=[S.Summary.Value(tag=tag, histo=histo)]),
                                            global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats='CHW'):
        self._get_file_writer().add_summary(S.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats='NCHW'):
        self._get_file_writer().add_summary(S.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them, as a grid) as an image."""
        if isinstance(figure, list):
            import numpy as np
            self.add_image(tag, np.stack([S.figure_to_chw(f, close) for f in figure]), global_step, walltime,
                           dataformats='NCHW')
        else:
            self.add_image(tag, S.figure_to_chw(figure, close), global_step, walltime, dataformats='CHW')

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """One run's hyperparameters and metrics for TensorBoard's HPARAMS tab: the hparams plugin's summaries and
        each metric as a scalar, in the sub-run ``<log_dir>/<run_name>`` (default: the current time)."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError('hparam_dict and metric_dict should be dictionary.')
        summaries = S.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=logdir) as w_hp:
            for summary in summaries:
                w_hp.file_writer.add_summary(summary, global_step)
            for k, v in metric_dict.items():
                w_hp.add_scalar(k, v, global_step)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._get_file_writer().add_summary(S.text(tag, text_string), global_step, walltime)

    def flush(self):
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self):
        """Flush and close every event file (a second close does nothing; a later add reopens)."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()


def _refused(name, detail):
    def method(self, *args, **kwargs):
        raise NotImplementedError(unsupported(f'torch.utils.tensorboard.SummaryWriter.{name}', detail))
    method.__name__ = name
    return method


for _name, _detail in (('add_graph', 'ember has no TorchScript tracer to record the graph'),
                       ('add_onnx_graph', 'ember has no ONNX support'),
                       ('add_embedding', 'the projector output is not written yet'),
                       ('add_pr_curve', 'precision-recall curves are not written yet'),
                       ('add_pr_curve_raw', 'precision-recall curves are not written yet'),
                       ('add_video', 'videos are not written yet'), ('add_audio', 'audio is not written yet'),
                       ('add_mesh', 'meshes are not written yet'), ('add_tensor', 'raw tensors are not written yet'),
                       ('add_image_with_boxes', 'boxes are not drawn yet'),
                       ('add_custom_scalars', 'custom scalar layouts are not written yet'),
                       ('add_custom_scalars_marginchart', 'custom scalar layouts are not written yet'),
                       ('add_custom_scalars_multilinechart', 'custom scalar layouts are not written yet')):
    setattr(SummaryWriter, _name, _refused(_name, _detail))
del _name, _detail
