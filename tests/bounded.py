"""Runs file-reading cases in a child process whose address space is capped with ``resource.setrlimit``,
so that a memory bomb that slips through fails its test (MemoryError) instead of taking the machine.

The parent test writes the crafted files and a JSON list of cases; this child loads each file as the case
says and reports, per case, 'ok' or what went wrong. Run as ``python bounded.py CASES.json LIMIT_MB``."""
import json
import os
import re
import resource
import sys
import time
import traceback


def _load(path):
    import ember
    return ember.load(path)


def _repr(path):
    return repr(_load(path))


def _restricted(path):
    from ember.vision.datasets.utils import restricted_load
    with open(path, 'rb') as f:
        return repr(restricted_load(f))


def _idx(path):
    from ember.vision.datasets.mnist import read_sn3_pascalvincent_array
    return read_sn3_pascalvincent_array(path, strict=False)


def _dataset(spec):
    """A dataset class built over ``root`` (CIFAR classes get the crafted files' md5s)."""
    from ember.vision import datasets
    root, cls = spec['root'], getattr(datasets, spec['class'])
    if 'md5' in spec:
        md5 = spec['md5']
        cls = type(cls.__name__, (cls,), {
            'train_list': [[n, md5[n]] for n, _ in cls.train_list],
            'test_list': [[n, md5[n]] for n, _ in cls.test_list],
            'meta': {**cls.meta, 'md5': md5[cls.meta['filename']]}})
    return len(cls(root, train=spec.get('train', True)))


def _fuzz(spec):
    """Every mutation of each base file loads or raises UnpicklingError; returns the number of cases tried."""
    import random

    import ember
    from ember.serialization import UnpicklingError
    rng, tried = random.Random(spec['seed']), 0
    for path in spec['files']:
        with open(path, 'rb') as f:
            base = f.read()
        mutants = [base[:rng.randrange(len(base))] for _ in range(spec['truncations'])]
        for _ in range(spec['flips']):
            b = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            mutants.append(bytes(b))
        for m in mutants:
            tried += 1
            try:
                out = ember.load(__import__('io').BytesIO(m))
                repr(out)
            except UnpicklingError:
                pass
            except Exception as e:
                name = os.path.basename(path)
                raise AssertionError(f'mutant of {name} raised {type(e).__name__}: {e}') from None
    return tried


_KINDS = {'load': _load, 'repr': _repr, 'restricted': _restricted, 'idx': _idx, 'dataset': _dataset,
          'fuzz': _fuzz}


def run_case(case):
    """'ok' when the case behaved as expected (raised a matching error, or returned within its time)."""
    start = time.perf_counter()
    try:
        out = _KINDS[case['kind']](case['arg'])
    except MemoryError:
        return f'MemoryError: the case tried to allocate past the limit\n{traceback.format_exc()[-1500:]}'
    except Exception as e:
        text = f'{type(e).__name__}: {e}'
        if case.get('raises') and 'MemoryError' not in text and re.search(case['raises'], text):
            return 'ok'
        return f'unexpected {text}\n{traceback.format_exc()[-1500:]}'
    elapsed = time.perf_counter() - start
    if case.get('raises'):
        return f'returned {str(out)[:200]!r} instead of raising {case["raises"]!r}'
    if 'equals' in case and out != case['equals']:
        return f'returned {str(out)[:300]!r}, expected {str(case["equals"])[:300]!r}'
    if elapsed > case.get('seconds', 30):
        return f'took {elapsed:.1f} s'
    return 'ok'


def main(cases_path, limit_mb):
    import ember  # noqa: F401  (imported before the cap: the cap bounds what reading the files costs)
    import ember.vision.datasets  # noqa: F401
    import numpy  # noqa: F401
    with open('/proc/self/status') as f:
        now = int(re.search(r'VmSize:\s+(\d+) kB', f.read()).group(1)) * 1024
    cap = now + limit_mb * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    with open(cases_path) as f:
        cases = json.load(f)
    results = {c['name']: run_case(c) for c in cases}
    print(json.dumps(results))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
