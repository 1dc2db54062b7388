"""Time-series forecasting libraries under ``ember.aliasing.as_torch()`` (session 37): pytorch-forecasting 1.8
(TimeSeriesDataSet, TemporalFusionTransformer, NBeats, DeepAR, its metrics, on Lightning 2.6) and neuralforecast 3.3
(NHITS, NBEATS, LSTM, PatchTST). Run side by side with PyTorch with the same seed, they print PyTorch's losses and
forecasts; each place ember stopped or differed is reduced here to the lines that found it, checked against
PyTorch. Neither library is needed here."""
import numpy as np
import torch

import ember
from helpers import run_both


# -- pytorch_forecasting/utils/_utils.py: ``def move_to_device(x, device: str | torch.DeviceObjType)`` at import ---
def test_device_obj_type_annotates():
    """pytorch-forecasting annotates with ``torch.DeviceObjType`` at import (``str | torch.DeviceObjType``);
    TorchScript's type of a device prints as ``Device`` and is made only by ``get()``."""
    def device_type(T):
        d, s = T.DeviceObjType.get(), T.StreamObjType.get()
        return [repr(d), str(s), d.kind(), s.kind(), d.annotation_str, d == T.DeviceObjType.get(), d == s,
                isinstance(d, T.Type), T._C.DeviceObjType is T.DeviceObjType, len((str | T.DeviceObjType).__args__)]
    run_both(device_type)
    run_both(lambda T: T.DeviceObjType(), message=True)
    run_both(lambda T: T.StreamObjType(), message=True)


# -- pytorch_forecasting/models/nn/rnn.py: ``rnn.pad_packed_sequence(packed_out, batch_first=True)`` ------------
def test_pad_packed_unsorted_batch_first_is_dense():
    """TFT's LSTM packs with ``enforce_sorted=False`` and unpacks with ``batch_first=True``: PyTorch's output is
    dense (index_select after the transpose), so the ``nn.Dropout`` that follows (post_lstm_gate_encoder) draws its
    mask in that order; ember's was the transposed view, and training losses differed from the first step."""
    def unpack(T):
        T.manual_seed(0)
        lstm = T.nn.LSTM(3, 4, batch_first=True)
        x = T.randn(3, 5, 3)
        packed = T.nn.utils.rnn.pack_padded_sequence(x, T.tensor([2, 5, 3]), batch_first=True, enforce_sorted=False)
        out, lengths = T.nn.utils.rnn.pad_packed_sequence(lstm(packed)[0], batch_first=True)
        seq, _ = T.nn.utils.rnn.pad_packed_sequence(lstm(packed)[0], batch_first=False)
        return [out.stride(), seq.stride(), lengths, out, seq, T.nn.functional.dropout(out, 0.3)]
    run_both(unpack)


# -- pytorch_forecasting/metrics/distributions.py: BetaDistributionLoss's ``-distribution.log_prob(y)`` -----------
def test_xlogy_float32_is_x_times_the_rounded_log():
    """Beta's log_prob (Dirichlet's ``xlogy(concentration - 1, value)``) trained DeepAR with BetaDistributionLoss to
    other losses from the first batch: PyTorch's float32 xlogy is ``x * logf(y)``, the log correctly rounded, where
    NumPy's float32 log is 1 ulp off for about 1 value in 5. These y are such values; the values and gradients are
    PyTorch's bit for bit (xlog1py likewise multiplies its float32 log1p)."""
    y = np.array([0.02372686378657818, 0.04137568920850754, 0.04627813771367073, 0.05363181605935097,
                  0.06245622783899307, 0.06735868006944656, 0.08206602931022644, 0.08500750362873077], np.float32)
    x = np.full_like(y, 1000.5)
    got = {}
    for T in (torch, ember):
        a, b = T.tensor(x, requires_grad=True), T.tensor(y, requires_grad=True)
        out = T.xlogy(a, b)
        out.backward(T.ones_like(out))
        c0, c1 = T.tensor(x[:4] / 100), T.tensor(x[4:] / 100)
        lp = T.distributions.Beta(c1, c0).log_prob(T.tensor(y[:4]))
        got[T] = [out.detach().numpy(), a.grad.numpy(), b.grad.numpy(), T.special.xlog1py(T.tensor(x), T.tensor(y)).numpy(),
                  lp.numpy()]
    for t, e in zip(got[torch], got[ember]):
        assert t.dtype == e.dtype and np.array_equal(t, e), (t, e)
