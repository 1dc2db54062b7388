"""``torch.stft`` and ``torch.istft``, composed as PyTorch composes them (aten's stft/istft) from ember's
differentiable ops: reflect padding, frames as an unfold, the window, an r2c/c2c transform over each frame; and back
by a c2r/c2c transform, the window, overlap-add (fold) divided by the window's squared overlap-add. Gradients come
from those ops."""
from .._warn import warn_user
from ..ops._util import check_tensor_args
from ..tensor import Tensor


def _window(name, window, win_length, n_fft, like):
    """The window padded with zeros to n_fft, centred (ones when None), as aten's stft/istft pad it."""
    from .. import ones, zeros
    from ..nn.functional import pad
    if window is None:
        window = ones(win_length, dtype=like.dtype.to_real() if like.is_complex() else like.dtype)
    elif window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f'{name}: expected a 1D window tensor of size equal to win_length={win_length}, but got '
                           f'window with size {list(window.shape)}')
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = pad(window, (left, n_fft - win_length - left))
    return window


def _lengths(name, n_fft, hop_length, win_length):
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if hop <= 0:
        raise RuntimeError(f'{name}: expected hop_length > 0, but got hop_length={hop}')
    if not 0 < win <= n_fft:
        raise RuntimeError(f'{name}: expected 0 < win_length <= n_fft, but got win_length={win}')
    return hop, win


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode='reflect',
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """The short-time Fourier transform: frames of ``n_fft`` points every ``hop_length``, windowed, transformed;
    shape (batch?, freqs, frames)."""
    from .. import fft as _fft, view_as_real
    from ..nn.functional import pad
    if center and align_to_window is not None:
        raise RuntimeError('stft align_to_window should only be set when center = false')
    if align_to_window:
        raise NotImplementedError('stft with align_to_window=True is not supported by ember yet')
    cplx = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not cplx:
            raise RuntimeError('stft requires the return_complex parameter be given for real inputs, and will further '
                               'require that return_complex=True in a future PyTorch release.')
        return_complex = True
    if not return_complex:
        warn_user('stft with return_complex=False is deprecated. In a future pytorch release, stft will return '
                  'complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you can '
                  'still call torch.view_as_real on the complex output to recover the old return format.',
                  once=True, internally='aten/src/ATen/native/SpectralOps.cpp:874', inside=0)
    if input.dim() not in (1, 2):
        raise RuntimeError(f'stft: expected a 1D or 2D tensor, but got {input.dim()}D tensor')
    if center:
        nd = input.dim()
        p = n_fft // 2
        input = pad(input.view([1] * (3 - nd) + list(input.shape)), [p, p], pad_mode)
        input = input.view(input.shape[-nd:])
    length = input.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f'stft: expected 0 < n_fft < {length}, but got n_fft={n_fft}')
    hop, win = _lengths('stft', n_fft, hop_length, win_length)
    if window is None:
        warn_user('A window was not provided. A rectangular window will be applied,which is known to cause '
                  'spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are '
                  'recommended to reduce spectral leakage.To suppress this warning and use a rectangular window, '
                  'explicitly set `window=torch.ones(n_fft, device=<device>)`.', once=True,
                  internally='aten/src/ATen/native/SpectralOps.cpp:835', inside=0)
    w = _window('stft', window, win, n_fft, input)
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)
    frames = x.unfold(-1, n_fft, hop) * w                     # (batch, frames, n_fft)
    if onesided is None:
        onesided = not frames.is_complex()
    norm = 'ortho' if normalized else 'backward'
    out = _fft.rfft(frames, norm=norm) if onesided and not frames.is_complex() else _fft.fft(frames, norm=norm)
    out = out.transpose(1, 2)
    if not batched:
        out = out.squeeze(0)
    return out if return_complex else view_as_real(out)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """The inverse of ``stft``: each frame transformed back, windowed and overlap-added, divided by the window's
    squared overlap-add (PyTorch's least-squares inverse)."""
    try:
        from .. import fft as _fft
        from ..nn.functional import fold, pad
        if not input.is_complex():
            raise RuntimeError('istft requires a complex-valued input tensor matching the output from stft with '
                               'return_complex=True.')
        if input.dim() not in (2, 3):
            raise RuntimeError(f'istft: expected a tensor with 2 or 3 dimensions of complex, but got {input.dim()}')
        hop, win = _lengths('istft', n_fft, hop_length, win_length)
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(0)
        fft_size, n_frames = x.shape[-2], x.shape[-1]
        onesided = fft_size != n_fft if onesided is None else onesided
        if onesided and n_fft // 2 + 1 != fft_size:
            raise RuntimeError(f'istft expected the frequency dimension (3rd to the last) of the input tensor to match '
                               f'n_fft / 2 + 1 when onesided=True, but got {fft_size}')
        if not onesided and n_fft != fft_size:
            raise RuntimeError(f'istft expected the frequency dimension (3rd to the last) of the input tensor to match '
                               f'n_fft when onesided=False, but got {fft_size}')
        if window is None:   # torch.istft is bound directly (no Python wrapper): at the caller's line
            warn_user('A window was not provided. A rectangular window will be applied.Please provide the same '
                      'window used by stft to make the inversion lossless.To suppress this warning and use a '
                      'rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.', once=True,
                      internally='aten/src/ATen/native/SpectralOps.cpp:1035')
        w = _window('istft', window, win, n_fft, x)
        x = x.transpose(1, 2)                                      # (batch, frames, freqs)
        norm = 'ortho' if normalized else 'backward'
        if return_complex:
            if onesided:
                raise RuntimeError('cannot have onesided output if window or input is complex')
            frames = _fft.ifft(x, norm=norm)
        else:
            if window is not None and window.is_complex():
                raise RuntimeError('Complex windows are incompatible with return_complex=False')
            if not onesided:
                x = x[..., :n_fft // 2 + 1]
            frames = _fft.irfft(x, n=n_fft, norm=norm)
        frames = frames * w                                        # (batch, frames, n_fft)
        total = n_fft + hop * (n_frames - 1)
        y = _overlap_add(frames, total, n_fft, hop, fold)
        env = _overlap_add((w * w).expand(1, n_frames, n_fft), total, n_fft, hop, fold)
        start = n_fft // 2 if center else 0
        end = total if length is None and not center else (start + length if length is not None else total - n_fft // 2)
        y, env = y[:, start:min(end, total)], env[:, start:min(end, total)]
        if float(env.abs().min()) <= 1e-11:
            raise RuntimeError('istft(...): window overlap add min: 0')
        y = y / env
        if end > total:
            y = pad(y, (0, end - total))
        return y if batched else y.squeeze(0)
    except (AttributeError, TypeError):
        check_tensor_args('istft', 'input', 'window?')
        raise


def _overlap_add(frames, total, n_fft, hop, fold):
    """Sum of ``frames`` (batch, n, n_fft) placed every ``hop`` points: (batch, total)."""
    if frames.is_complex():
        from .. import complex as _complex_of
        re = _overlap_add(frames.real, total, n_fft, hop, fold)
        im = _overlap_add(frames.imag, total, n_fft, hop, fold)
        return _complex_of(re, im)
    out = fold(frames.transpose(1, 2), (1, total), (1, n_fft), stride=(1, hop))
    return out.reshape(frames.shape[0], total)
