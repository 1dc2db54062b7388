"""``torch.torch_version``: ``TorchVersion``, the str that ``torch.__version__`` is, which also compares as a
version (PEP 440) with strings, tuples and other versions, as scripts do (``torch.__version__ >= "1.12"``)."""
import re

__all__ = ['TorchVersion']

# PEP 440: release, pre-release, post-release, dev-release, local label (the part after '+'); re compiles it on
# first use (compiling it took ~0.5 ms of ``import ember``)
_PEP440 = r"""v?(?:(\d+)!)?(\d+(?:\.\d+)*)
                         (?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?
                         (?:-(\d+)|[-_.]?(?:post|rev|r)[-_.]?(\d*))?
                         (?:[-_.]?dev[-_.]?(\d*))?
                         (?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?"""
_PRE = {'a': 'a', 'alpha': 'a', 'b': 'b', 'beta': 'b', 'c': 'rc', 'rc': 'rc', 'pre': 'rc', 'preview': 'rc'}


class InvalidVersion(ValueError):
    """A string that is not a PEP 440 version (``TorchVersion`` then compares as a plain str)."""


def _key(text):
    """The sort key PEP 440 gives ``text``: releases compare numerically with trailing zeros dropped,
    dev < pre < final < post, and a local label sorts after the same public version."""
    m = re.fullmatch(_PEP440, text.strip(), re.VERBOSE | re.IGNORECASE)
    if m is None:
        raise InvalidVersion(f"Invalid version: '{text}'")
    epoch, release, pre_l, pre_n, post_a, post_b, dev, local = m.groups()
    nums = [int(x) for x in release.split('.')]
    while len(nums) > 1 and nums[-1] == 0:
        nums.pop()
    post = post_a if post_a is not None else post_b
    pre = (_PRE[pre_l.lower()], int(pre_n or 0)) if pre_l else None
    if pre is None and post is None and dev is not None:
        pre_key = (-1, '', 0)       # 1.0.dev0 sorts before 1.0a0
    else:
        pre_key = (0,) + pre if pre is not None else (1, '', 0)
    post_key = (0, int(post or 0)) if post is not None else (-1, 0)
    dev_key = (0, int(dev or 0)) if dev is not None else (1, 0)
    local_key = (tuple((0, int(p), '') if p.isdigit() else (-1, 0, p.lower())
                       for p in re.split(r'[-_.]', local)) if local else ((-2, 0, ''),))
    return int(epoch or 0), tuple(nums), pre_key, post_key, dev_key, local_key


def _as_text(other):
    """``other`` (a str, or a tuple/list such as (1, 12)) as version text."""
    if isinstance(other, str):
        return other
    if isinstance(other, (tuple, list)):
        return '.'.join(str(x) for x in other)
    raise InvalidVersion(other)


class TorchVersion(str):
    """A str that compares with strings, tuples and versions by version order, as PyTorch's does
    (``TorchVersion('2.13.0') > '2.4'`` is True where plain strings say False); an invalid version compares
    as a str."""
    __slots__ = ()

    def _compare(self, other, op):
        try:
            return op(_key(self), _key(_as_text(other)))
        except InvalidVersion:
            return getattr(str, f'__{op.__name__}__')(self, other)

    def __gt__(self, other):
        return self._compare(other, _ops.gt)

    def __ge__(self, other):
        return self._compare(other, _ops.ge)

    def __lt__(self, other):
        return self._compare(other, _ops.lt)

    def __le__(self, other):
        return self._compare(other, _ops.le)

    def __eq__(self, other):
        return self._compare(other, _ops.eq)

    __hash__ = str.__hash__


import operator as _ops  # noqa: E402 (used by TorchVersion's comparisons)


from .version import __version__ as _internal  # noqa: E402

__version__ = TorchVersion(_internal)   # torch.torch_version.__version__ is the TorchVersion of torch.version's str
