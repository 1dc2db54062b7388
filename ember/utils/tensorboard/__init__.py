"""``torch.utils.tensorboard``: ``SummaryWriter`` writing TensorBoard event files through the
``tensorboard`` package's own event writer and protocol buffers, as PyTorch does; like PyTorch's, it needs
``pip install tensorboard`` (without it, importing this module raises ModuleNotFoundError)."""
import tensorboard  # noqa: F401  (PyTorch's module fails here too when TensorBoard is missing)

from tensorboard.summary.writer.record_writer import RecordWriter

from .writer import FileWriter, SummaryWriter

__all__ = ['FileWriter', 'RecordWriter', 'SummaryWriter']
