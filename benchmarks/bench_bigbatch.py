"""Large batches: a batch through worker processes: 64 samples of 4 MB (a 256 MB float32 batch) per
batch, 2 workers, four batches an epoch, in ms per batch (worker start included, as a user pays it)."""
import torch
from torch.utils.data import DataLoader, Dataset

import _harness

SAMPLES, FLOATS, BATCHES = 64, 1 << 20, 4


class Big(Dataset):
    """Items are 4 MB rows of one tensor made up front, so the figure measures collation and transport."""

    def __init__(self):
        self.rows = torch.rand(SAMPLES, FLOATS)

    def __len__(self):
        return SAMPLES * BATCHES

    def __getitem__(self, index):
        return self.rows[index % SAMPLES]


def measure(dataset):
    loader = DataLoader(dataset, batch_size=SAMPLES, num_workers=2)

    def epoch():
        for batch in loader:
            batch[:, 0].sum()

    seconds = _harness.seconds_per_call(epoch)
    _harness.report("DataLoader 256 MB batch 2 workers", 1000 * seconds / BATCHES, "ms/batch")


if __name__ == "__main__":
    _harness.start(torch)
    measure(Big())
