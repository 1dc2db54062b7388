"""Character-level data in the layout of nanoGPT's shakespeare_char: each character of input.txt becomes
its index in the sorted alphabet; the first 90% go to train.bin and the rest to val.bin (uint16), and
meta.pkl keeps the alphabet. input.txt: five of Shakespeare's sonnets (public domain)."""
import os
import pickle

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, 'input.txt')) as f:
    text = f.read()
alphabet = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(alphabet)}
itos = dict(enumerate(alphabet))
print(f'{len(text):,} characters, vocabulary of {len(alphabet)}')

cut = int(len(text) * 0.9)
for name, part in (('train', text[:cut]), ('val', text[cut:])):
    ids = np.array([stoi[ch] for ch in part], dtype=np.uint16)
    ids.tofile(os.path.join(here, f'{name}.bin'))
    print(f'{name}: {len(ids):,} tokens')

with open(os.path.join(here, 'meta.pkl'), 'wb') as f:
    pickle.dump({'vocab_size': len(alphabet), 'itos': itos, 'stoi': stoi}, f)
