"""Crafted files (made here, never committed) against every reader of untrusted data: checkpoints, IDX and
gzip files, CIFAR pickles. Each file is read in a child process with a capped address space (bounded.py), so
a memory bomb that gets through fails its test instead of the machine; a mutation fuzzer runs the same way."""
import collections
import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
import torch

import ember

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIMIT_MB = 512   # every bomb below asks for 1 GB or more


def run_bounded(tmp_path, cases):
    spec = tmp_path / 'cases.json'
    spec.write_text(json.dumps(cases))
    env = {**os.environ, 'PYTHONPATH': ROOT, 'OPENBLAS_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, os.path.join(HERE, 'bounded.py'), str(spec), str(LIMIT_MB)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads(r.stdout.strip().splitlines()[-1])
    bad = {k: v for k, v in results.items() if v != 'ok'}
    assert not bad, '\n\n'.join(f'{k}: {v}' for k, v in bad.items())
    assert len(results) == len(cases)
    return results


# ---------------------------------------------------------------------------------------------- zip crafting
def zip_bytes(entries, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, 'w', method) as zf:
        warnings.simplefilter('ignore')   # duplicate names are made on purpose
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def declare_sizes(data, name, size=None, packed=None):
    """The archive with entry ``name``'s declared sizes (central directory and local header) replaced."""
    data, raw = bytearray(data), name.encode()
    for sig, at_packed, at_size, at_name in ((b'PK\x01\x02', 20, 24, 46), (b'PK\x03\x04', 18, 22, 30)):
        pos = data.find(sig)
        while pos >= 0:
            if data[pos + at_name:pos + at_name + len(raw)] == raw:
                if packed is not None:
                    data[pos + at_packed:pos + at_packed + 4] = struct.pack('<I', packed)
                if size is not None:
                    data[pos + at_size:pos + at_size + 4] = struct.pack('<I', size)
            pos = data.find(sig, pos + 4)
    return bytes(data)


def torch_file(numel, shape, stride, stype=None, key='0', payload=b'\0' * 16, extra=()):
    """A torch.save-style archive whose data.pkl rebuilds one tensor from storage ``key`` of ``numel``
    elements, with ``payload`` as that storage's bytes."""
    marker = object()
    stype = stype or torch.ByteStorage

    class Rebuild:
        def __reduce__(self):
            return torch._utils._rebuild_tensor_v2, (marker, 0, shape, stride, False, collections.OrderedDict())

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ('storage', stype, key, 'cpu', numel) if obj is marker else None

    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump({'t': Rebuild()})
    return zip_bytes([('archive/data.pkl', buf.getvalue()), ('archive/byteorder', b'little'),
                      (f'archive/data/{key}', payload), *extra, ('archive/version', b'3\n')])


def ember_file(numel, shape, stride, payload_numel=4):
    """An ember.save-style archive: one float32 storage (its .npy header declaring ``numel``) and one tensor."""
    npy, payload = io.BytesIO(), np.arange(payload_numel, dtype=np.float32)
    header = {**np.lib.format.header_data_from_array_1_0(payload), 'shape': (numel,)}
    np.lib.format.write_array_header_1_0(npy, header)
    raw = npy.getvalue() + payload.tobytes()
    header = {'format': 'ember', 'version': 1, 'storages': [{'dtype': 'float32', 'numel': numel}],
              'tensors': [{'dtype': 'float32', 'shape': shape, 'stride': stride, 'offset': 0, 'storage': 0,
                           'type': 'tensor'}], 'root': {'$': 'ref', 'id': 0}}
    return zip_bytes([('archive/ember.json', json.dumps(header)), ('archive/data/0.npy', raw)])


def legacy_file(storages, keys=None, header=None):
    """A legacy-format (pre-1.6) checkpoint: one float32 tensor per (key, declared numel, payload) in
    ``storages``; ``header`` replaces the protocol-version pickle."""
    class Storage:
        def __init__(self, key, numel):
            self.pid = ('storage', torch.FloatStorage, key, 'cpu', numel, None)

    class Rebuild:
        def __init__(self, key, numel):
            self.storage = Storage(key, numel)

        def __reduce__(self):
            return torch._utils._rebuild_tensor, (self.storage, 0, (1,), (1,))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return obj.pid if isinstance(obj, Storage) else None

    out = io.BytesIO()
    pickle.dump(0x1950a86a20f9469cfc6c, out, protocol=2)
    out.write(header or pickle.dumps(1001, protocol=2))
    pickle.dump({'little_endian': True}, out, protocol=2)
    Pickler(out, protocol=2).dump({k: Rebuild(k, n) for k, n, _ in storages})
    pickle.dump([k for k, _, _ in storages] if keys is None else keys, out, protocol=2)
    for k, n, payload in storages:
        out.write(struct.pack('<q', n) + payload)
    return out.getvalue()


def deflate(archive):
    """The same entries, deflated."""
    zf = zipfile.ZipFile(io.BytesIO(archive))
    return zip_bytes([(n, zf.read(n)) for n in zf.namelist()], zipfile.ZIP_DEFLATED)


def pickle_bytes(*ops):
    return b'\x80\x02' + b''.join(ops) + b'.'


def body(x):
    """The opcodes that push ``x`` (protocol 2, without PROTO and STOP)."""
    return pickle.dumps(x, protocol=2)[2:-1]


def case(name, kind, arg, raises=None, **checks):
    """One case for bounded.py: ``raises`` a regex the error must match, or ``equals``/``seconds`` checks."""
    return {'name': name, 'kind': kind, 'arg': arg, 'raises': raises, **checks}


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------------------------------------- checkpoints
def test_checkpoint_bombs_and_differentials(tmp_path):
    gb = 1 << 30
    stored_lie = declare_sizes(torch_file(gb, (gb,), (1,)), 'archive/data/0', size=gb, packed=gb)
    size_lie = declare_sizes(torch_file(gb, (gb,), (1,)), 'archive/data/0', size=gb)
    deflated = deflate(torch_file(16, (16,), (1,)))
    ratio_lie = declare_sizes(deflate(torch_file(gb, (gb,), (1,))), 'archive/data/0', size=gb)
    packed = zipfile.ZipFile(io.BytesIO(deflate(torch_file(1, (1,), (1,), payload=b'\0' * 65536)))).getinfo(
        'archive/data/0').compress_size
    deflate_short = declare_sizes(deflate(torch_file(500 * packed, (4,), (1,), payload=b'\0' * 65536)),
                                  'archive/data/0', size=500 * packed)
    memo_bomb = zip_bytes([('archive/data.pkl', pickle_bytes(b']r\xff\xff\xff\x7f'))])
    bytes8_bomb = zip_bytes([('archive/data.pkl', b'\x80\x04\x8e' + struct.pack('<Q', 1 << 34) + b'xx.')])
    good = torch_file(4, (4,), (1,), payload=b'\x01\x02\x03\x04')
    dup_first = zip_bytes([('archive/data.pkl', pickle.dumps('first', protocol=2)),
                           ('archive/data.pkl', pickle.dumps('second', protocol=2)), ('archive/version', b'3\n')])
    ember_format = zipfile.ZipFile(io.BytesIO(ember_file(4, [4], [1])))
    both = zip_bytes([*[(n, ember_format.read(n)) for n in ember_format.namelist()],
                      ('archive/data.pkl', pickle.dumps({'w': 'other'}, protocol=2))])
    bz2 = io.BytesIO()
    with zipfile.ZipFile(bz2, 'w', zipfile.ZIP_BZIP2) as zf:
        zf.writestr('archive/data.pkl', pickle.dumps(1, protocol=2))
    ember_lie = declare_sizes(ember_file(gb // 4, [gb // 4], [1]), 'archive/data/0.npy', size=gb, packed=gb)
    ember_size_lie = declare_sizes(ember_file(gb // 4, [gb // 4], [1]), 'archive/data/0.npy', size=gb)
    bad_json = [('overflow', {'$': 'npscalar', 'dtype': 'int8', 'v': 10 ** 30}),
                ('complex', {'$': 'complex', 'v': [10 ** 400, 0]}),
                ('dtype', {'$': 'npscalar', 'dtype': [1], 'v': 1})]
    files = {name: write(tmp_path, name + '.pt', data) for name, data in [
        ('stored_lie', stored_lie), ('size_lie', size_lie), ('ratio_lie', ratio_lie), ('deflate_short', deflate_short),
        ('deflated', deflated), ('memo', memo_bomb), ('bytes8', bytes8_bomb), ('big_record', torch_file(2, (2,), (1,))),
        ('good', good), ('dup', dup_first), ('both', both), ('bz2', bz2.getvalue()), ('ember_lie', ember_lie),
        ('ember_size_lie', ember_size_lie), ('stride0', ember_file(16, [2 ** 26, 16], [0, 1], 16))]}
    uint8 = torch.uint8
    cases = [
        case('stored entry declares 1 GB the archive lacks', 'load', files['stored_lie'], 'more than the archive holds'),
        case('stored entry declares two sizes', 'load', files['size_lie'], 'declares 1073741824 bytes but holds'),
        case('deflated entry beyond deflate ratio', 'load', files['ratio_lie'], 'more than deflate can expand'),
        case('deflated entry shorter than declared', 'load', files['deflate_short'], 'truncated|Bad CRC'),
        case('deflated archive loads', 'repr', files['deflated'], equals=repr({'t': torch.zeros(16, dtype=uint8)})),
        case('memo index bomb in data.pkl', 'load', files['memo'], 'memo entry'),
        case('BINBYTES8 length bomb in data.pkl', 'load', files['bytes8'], 'malformed data.pkl'),
        case('storage record larger than its numel (PyTorch refuses too)', 'load', files['big_record'],
             'does not match'),
        case('hand-made torch file loads', 'repr', files['good'],
             equals=repr({'t': torch.tensor([1, 2, 3, 4], dtype=uint8)})),
        case('duplicate data.pkl refused', 'load', files['dup'], "two entries named 'archive/data.pkl'"),
        case('ember.json and data.pkl in one file refused', 'load', files['both'], 'both ember.json'),
        case('bzip2 entry refused', 'load', files['bz2'], 'compression method 12'),
        case('ember storage declares 1 GB the archive lacks', 'load', files['ember_lie'], 'more than the archive holds'),
        case('ember storage declares two sizes', 'load', files['ember_size_lie'], 'declares 1073741824 bytes but holds'),
        case('printing a 2^26 x 16 stride-0 view copies nothing', 'repr', files['stride0'], seconds=2,
             equals=repr(torch.arange(16.).expand(2 ** 26, 16))),
    ]
    half_gb = gb // 8   # float32 elements
    for name, data, what, err in [
        ('legacy_big', legacy_file([('0', gb, b'\0' * 16)]), 'declares 1 G elements the file lacks', 'more than the file'),
        ('legacy_sum', legacy_file([(str(i), half_gb, b'\0' * 16) for i in range(9)]) + bytes(half_gb // 2),
         'nine storages each within the file but together over it', 'more than the file'),
        ('legacy_bytes8', legacy_file([], header=b'\x80\x04\x8e' + struct.pack('<Q', 1 << 34) + b'xx.'),
         'BINBYTES8 length bomb in a header pickle', 'unreadable'),
        ('legacy_memo', legacy_file([], header=pickle_bytes(b']r\xff\xff\xff\x7f')), 'memo index bomb', 'memo entry'),
        ('legacy_good', legacy_file([('0', 1, b'\0\0\x80?')]), None, None)]:
        path = write(tmp_path, name + '.pt', data)
        cases.append(case(f'legacy format: {what}', 'load', path, err) if what else
                     case('legacy format: hand-made file loads', 'repr', path, equals=repr({'0': torch.ones(1)})))
    for i, (what, value) in enumerate(bad_json):
        header = {'format': 'ember', 'version': 1, 'storages': [], 'tensors': [], 'root': value}
        path = write(tmp_path, f'json{i}.pt', zip_bytes([('archive/ember.json', json.dumps(header))]))
        cases.append(case(f'bad {what} value in ember.json', 'load', path, 'UnpicklingError: obj: malformed'))
    run_bounded(tmp_path, cases)


def test_duplicate_entries_are_ambiguous_in_pytorch():
    """Why duplicates are refused rather than resolved: PyTorch picks a copy by a binary search over sorted
    names, so which copy it reads depends on the other names (here not the first of three)."""
    three = zip_bytes([('archive/data.pkl', pickle.dumps(i, protocol=2)) for i in range(3)] +
                      [('archive/version', b'3\n')])
    assert torch.load(io.BytesIO(three)) != 0
    with pytest.raises(ember.serialization.UnpicklingError, match='two entries'):
        ember.load(io.BytesIO(three))


# ---------------------------------------------------------------------------------------------- datasets
def idx(arr, dims=None):
    dims = arr.shape if dims is None else dims
    return struct.pack('>I', 0x800 + len(dims)) + b''.join(struct.pack('>I', d) for d in dims) + arr.tobytes()


def gzip_bomb(head, gigabytes):
    """A gzip stream of ``head`` then ``gigabytes`` GB of zeros: concatenated members, a few MB on disk."""
    member = gzip.compress(b'\0' * (1 << 24), compresslevel=9)
    return gzip.compress(head) + member * (64 * gigabytes)


def md5(path):
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def mnist_root(tmp_path, name, images, labels, gz=False):
    raw = tmp_path / name / 'MNIST' / 'raw'
    raw.mkdir(parents=True)
    for stem, data in (('train-images-idx3-ubyte', images), ('train-labels-idx1-ubyte', labels)):
        for split in ('', 't10k'):
            fname = (stem if not split else stem.replace('train', split)) + ('.gz' if gz else '')
            (raw / fname).write_bytes(gzip.compress(data) if gz else data)
    return str(tmp_path / name)


def cifar_root(tmp_path, name, batch=None, raw=None, meta=None):
    """A cifar-10-batches-py folder whose first training batch is ``batch`` (or the bytes ``raw``)."""
    folder = tmp_path / name / 'cifar-10-batches-py'
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    good = {b'data': rng.integers(0, 256, (2, 3072), dtype=np.uint8), b'labels': [1, 2], b'batch_label': b'x'}
    for i, fname in enumerate([f'data_batch_{k}' for k in range(1, 6)] + ['test_batch']):
        data = pickle.dumps(good, protocol=2)
        if i == 0:
            data = raw if raw is not None else pickle.dumps(batch, protocol=2)
        (folder / fname).write_bytes(data)
    (folder / 'batches.meta').write_bytes(pickle.dumps(meta or {b'label_names': [b'a'] * 10}, protocol=2))
    spec = {'root': str(tmp_path / name), 'class': 'CIFAR10',
            'md5': {f: md5(folder / f) for f in os.listdir(folder)}}
    return spec


PLAIN_STATE = (3, '|', None, None, None, -1, -1, 0)


def array_pickle(shape, raw, dtype_state=PLAIN_STATE, spec='u1', build=True):
    """A NumPy array pickle as NumPy writes it (_reconstruct, then BUILD with the dtype and the raw bytes),
    with every part under the test's control."""
    ops = [b'cnumpy._core.multiarray\n_reconstruct\n', b'cnumpy\nndarray\n', body((0,)), body(b'b'), b'\x87R']
    if build:
        ops += [b'(', body(1), body(shape), b'cnumpy\ndtype\n', body((spec, False, True)), b'R', body(dtype_state),
                b'b', body(False), body(raw), b'tb']
    return pickle_bytes(*ops)


def test_dataset_bombs_and_checks(tmp_path):
    ok_images = idx(np.zeros((3, 28, 28), np.uint8))
    ok_labels = idx(np.array([1, 2, 3], np.uint8))
    noisy = idx(np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8))
    zeros, c2 = np.zeros((2, 3072), np.uint8), np.eye(2, 3072, dtype=np.int16) * 300
    field_state = (3, '|', None, ('f',), {'f': (np.dtype('u1'), 1 << 40)}, 1, 1, 16)
    files = {name: write(tmp_path, name, data) for name, data in [
        ('bomb-idx3-ubyte.gz', gzip_bomb(idx(np.zeros((10, 28, 28), np.uint8)), 4)),
        ('wrap-idx3-ubyte', idx(np.zeros(16, np.uint8), (2 ** 31, 2 ** 31, 4))),
        ('short-idx3-ubyte.gz', gzip.compress(idx(np.zeros((10, 28, 28), np.uint8), (1 << 20, 28, 28)))),
        ('notgz-idx3-ubyte.gz', b'plain bytes, not gzip'),
        ('truncgz-idx3-ubyte.gz', gzip.compress(noisy)[:len(noisy) // 2]),
        ('trunc-idx3-ubyte', ok_images[:6]),
        ('ba.pkl', pickle_bytes(b'c__builtin__\nbytearray\n', body((1 << 34,)), b'R')),
        ('rc.pkl', array_pickle((1 << 40,), b'', build=False)),
        ('short.pkl', array_pickle((1 << 40,), b'\0' * 4)),
        ('plain.pkl', array_pickle((2, 2), b'\1\2\3\4')),
        ('dt.pkl', array_pickle((4,), b'\0' * 4, field_state)),
        ('v8.pkl', pickle.dumps(np.zeros(2, 'V8'), 2)),
        ('memo.pkl', pickle_bytes(b']r\xff\xff\xff\x7f')),
        ('py3.pkl', pickle.dumps({'a': np.arange(3, dtype='>i4'), 'b': bytearray(b'xy'), 'n': np.int64(5)}, 2))]}
    mnist = {name: {'root': mnist_root(tmp_path, name, ok_images, labels, gz), 'class': 'MNIST'}
             for name, labels, gz in [('m1', idx(np.array([1, 2], np.uint8)), False),
                                      ('m2', idx(np.array([1, 12, 3], np.uint8)), True), ('m3', ok_labels, False)]}
    cases = [
        case('gzip bomb: 10 images declared, 4 GB inflated', 'idx', files['bomb-idx3-ubyte.gz'], seconds=5),
        case('IDX dims (2^31, 2^31, 4) do not wrap', 'idx', files['wrap-idx3-ubyte'],
             r'declares shape \(2147483648, 2147483648, 4\) \(18446744073709551616 values\) but it holds only 16'),
        case('IDX header declares more than a gzip holds', 'idx', files['short-idx3-ubyte.gz'], 'holds only 7840'),
        case('not a gzip file', 'idx', files['notgz-idx3-ubyte.gz'], 'notgz-idx3-ubyte.gz: cannot read it'),
        case('truncated gzip', 'idx', files['truncgz-idx3-ubyte.gz'], 'truncgz-idx3-ubyte.gz: cannot read it'),
        case('truncated IDX header', 'idx', files['trunc-idx3-ubyte'], 'trunc-idx3-ubyte: truncated IDX header'),
        case('MNIST images and labels disagree in count', 'dataset', mnist['m1'], 'holds 3 images but .* 2 labels'),
        case('MNIST label out of range', 'dataset', mnist['m2'], 'label 12, outside 0..9'),
        case('MNIST good files load', 'dataset', mnist['m3'], equals=3),
        case('CIFAR bytearray(2^34) refused', 'restricted', files['ba.pkl'], 'refusing bytearray'),
        case('CIFAR _reconstruct of 2^40 elements allocates nothing', 'restricted', files['rc.pkl'],
             'never given its data'),
        case('CIFAR array state with too few bytes', 'restricted', files['short.pkl'], 'comes with 4 bytes'),
        case('CIFAR plain array pickle loads', 'restricted', files['plain.pkl'],
             equals=repr(np.array([[1, 2], [3, 4]], np.uint8))),
        case('CIFAR dtype with a field outside the item refused', 'restricted', files['dt.pkl'],
             'refusing a numpy.dtype state'),
        case('CIFAR structured dtype spec refused', 'restricted', files['v8.pkl'], r"refusing numpy.dtype\('V8'\)"),
        case('CIFAR memo index bomb', 'restricted', files['memo.pkl'], 'memo entry'),
        case('CIFAR Python 3 pickle of arrays, bytearray, scalar loads', 'restricted', files['py3.pkl'],
             equals=repr({'a': np.arange(3, dtype=np.int32), 'b': bytearray(b'xy'), 'n': np.int64(5)})),
        case('CIFAR images and labels disagree in count', 'dataset',
             cifar_root(tmp_path, 'c1', {b'data': zeros, b'labels': [1, 2, 3]}), 'holds 2 images but 3 labels'),
        case('CIFAR pixel above 255', 'dataset', cifar_root(tmp_path, 'c2', {b'data': c2, b'labels': [1, 2]}),
             r'reach 0\.\.300, outside 0\.\.255'),
        case('CIFAR label out of range', 'dataset', cifar_root(tmp_path, 'c3', {b'data': zeros, b'labels': [1, 10]}),
             'label 10, outside 0..9'),
        case('CIFAR missing data key', 'dataset', cifar_root(tmp_path, 'c4', {b'labels': [1, 2]}),
             "data_batch_1 is not a CIFAR batch: it has no 'data'"),
        case('CIFAR bad meta', 'dataset', cifar_root(tmp_path, 'c5', {b'data': zeros, b'labels': [1, 2]},
                                                     meta={b'x': 1}),
             "batches.meta is not a CIFAR batch: it has no 'label_names'"),
        case('CIFAR truncated pickle names the file', 'dataset',
             cifar_root(tmp_path, 'c6', raw=pickle.dumps({b'data': 1}, 2)[:-5]), 'malformed .*data_batch_1'),
        case('CIFAR good batch loads', 'dataset', cifar_root(tmp_path, 'c7', {b'data': zeros, b'labels': [1, 2]}),
             equals=10),
    ]
    run_bounded(tmp_path, cases)


# ---------------------------------------------------------------------------------------------- fuzzer
def test_mutation_fuzzer(tmp_path):
    """Truncations and byte flips of ember-format and PyTorch-format files (written by PyTorch and by ember):
    each loads or raises UnpicklingError, within the memory cap."""
    sd = collections.OrderedDict([('w', torch.arange(6.).reshape(2, 3)), ('b', torch.ones(3, dtype=torch.int64))])
    files = []
    for i, obj in enumerate([sd, {'state': {0: {'step': torch.tensor(1.)}}, 'groups': [{'lr': 0.1, 'p': [0]}]}]):
        path = tmp_path / f'torch{i}.pt'
        torch.save(obj, path)
        files.append(str(path))
    w = ember.arange(6.).reshape(2, 3)
    esd = collections.OrderedDict([('w', w), ('v', w.t())])
    for i, obj in enumerate([esd, {'x': [1, 2.5, 'a', b'b', (None, 1j)], 't': ember.ones(2, dtype=ember.int8)}]):
        path = tmp_path / f'saved{i}.pt'
        ember.save(obj, path)           # PyTorch's format, as ember writes it
        files.append(str(path))
    files.append(write(tmp_path, 'ember_format.pt', ember_file(16, [4, 4], [4, 1], 16)))   # ember's own format
    legacy = tmp_path / 'legacy.pt'
    torch.save({'w': sd['w'], 'col': sd['w'][:, 1], 'n': [1, 'a']}, legacy, _use_new_zipfile_serialization=False)
    files.append(str(legacy))
    cases = [case('fuzz', 'fuzz', {'files': files, 'seed': 0, 'truncations': 25, 'flips': 75}, seconds=60,
                  equals=600)]
    run_bounded(tmp_path, cases)
