"""``ember demo``: train a small CNN on the handwritten digits that ship with ember (or on Fashion-MNIST)
with ``ember.nn``, ``ember.optim.Adam`` and a ``DataLoader``; it prints the loss and test accuracy of
each epoch and saves a loss curve and a picture of the backward graph."""
import argparse
import os
import sys
import time

import ember
from ember import nn
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms

from . import viz

ATTRIBUTION = ('Digits data: UCI ML hand-written digits (optdigits), E. Alpaydin and C. Kaynak, UCI Machine '
               'Learning Repository, https://archive.ics.uci.edu/dataset/80, licensed CC BY 4.0 '
               '(https://creativecommons.org/licenses/by/4.0/); shipped as ember/data/digits.csv.gz.')
DEBIAN_FASHION = '/usr/share/datasets/fashion-mnist'
FASHION_MEAN_STD = ((0.2860,), (0.3530,))
DEFAULT_EPOCHS = {'digits': 10, 'fashion-mnist': 2}
DEFAULT_LR = {'digits': 1e-2, 'fashion-mnist': 3e-3}
WIDTHS = {'digits': (16, 32), 'fashion-mnist': (8, 16)}


def positive_int(text):
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def parse_args(argv):
    """The demo's options (``ember demo --help`` lists them with the data's attribution)."""
    parser = argparse.ArgumentParser(
        prog='ember demo', description=__doc__.split('\n\n')[0].replace('``', ''), epilog=ATTRIBUTION)
    add = parser.add_argument
    add('--dataset', choices=sorted(DEFAULT_EPOCHS), default='digits',
        help='digits (built in, 8x8) or fashion-mnist (28x28, files needed; default: digits)')
    add('--epochs', type=positive_int,
        help='passes over the training set (default: 10 for digits, 2 for fashion-mnist)')
    add('--batch-size', type=positive_int, default=64, help='images per step (default: 64)')
    add('--lr', type=float, help="Adam's learning rate (default: 0.01 for digits, 0.003 for fashion-mnist)")
    add('--seed', type=int, default=0, help='seed of weights and shuffling (default: 0)')
    add('--out', metavar='DIR', default='ember-demo', help='folder for the pictures (default: ./ember-demo)')
    add('--root', metavar='DIR',
        help="Fashion-MNIST folder: the IDX files themselves (as Debian's dataset-fashion-mnist installs them "
             f"in {DEBIAN_FASHION}, the default when present) or torchvision's layout DIR/FashionMNIST/raw "
             '(default otherwise: ./data)')
    add('--download', action='store_true', help='download Fashion-MNIST when it is missing')
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = DEFAULT_EPOCHS[args.dataset]
    if args.lr is None:
        args.lr = DEFAULT_LR[args.dataset]
    return args


class FashionMNISTFolder(datasets.FashionMNIST):
    """Fashion-MNIST read from IDX files lying directly in ``root`` (Debian's layout) instead of
    ``root/FashionMNIST/raw``."""

    @property
    def raw_folder(self):
        return self.root


def holds_idx_files(folder):
    """Whether ``folder`` itself holds Fashion-MNIST's training images (plain or gzipped)."""
    name = os.path.join(folder, 'train-images-idx3-ubyte')
    return os.path.isfile(name) or os.path.isfile(name + '.gz')


def load_fashion(root, download):
    """Fashion-MNIST's training and test sets, normalized tensors, from ``root`` in either layout."""
    if root is None:
        root = DEBIAN_FASHION if holds_idx_files(DEBIAN_FASHION) else 'data'
    cls = FashionMNISTFolder if holds_idx_files(root) else datasets.FashionMNIST
    extra = {} if cls is FashionMNISTFolder else {'download': download}
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(*FASHION_MEAN_STD)])
    sets = cls(root, train=True, transform=tf, **extra), cls(root, train=False, transform=tf, **extra)
    return sets if has_pillow() else tuple(as_tensors(s, FASHION_MEAN_STD) for s in sets)


def load_data(args):
    """``(train_set, test_set)`` of (1 x H x W float tensor, label) pairs for ``args.dataset``."""
    if args.dataset == 'digits':
        tf = transforms.ToTensor()
        sets = datasets.Digits(train=True, transform=tf), datasets.Digits(train=False, transform=tf)
        return sets if has_pillow() else tuple(as_tensors(s) for s in sets)
    return load_fashion(args.root, args.download)


def has_pillow():
    """Whether Pillow (the ``vision`` extra) is installed: the datasets then yield PIL images."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def as_tensors(dataset, mean_std=None):
    """The dataset's images as ToTensor (and Normalize) would make them, without Pillow: the demo runs on
    NumPy alone."""
    images = dataset.data.unsqueeze(1).float() / 255
    if mean_std is not None:
        images = (images - mean_std[0][0]) / mean_std[1][0]
    return ember.utils.data.TensorDataset(images, dataset.targets)


def make_model(side, widths=(16, 32)):
    """Two conv-ReLU-maxpool blocks and a linear classifier for ``side`` x ``side`` grayscale images."""
    c1, c2 = widths
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * (side // 4) ** 2, 10))


def progress(loader, desc):
    """``loader`` wrapped in a tqdm bar (on stderr) when tqdm is installed, else ``loader`` itself."""
    try:
        from tqdm import tqdm
    except ImportError:
        return loader
    return tqdm(loader, desc=desc, unit='batch', leave=False, dynamic_ncols=True)


def train_epoch(model, loader, optimizer, loss_fn, desc, on_first_loss=None):
    """One pass over ``loader``; returns the loss of every step."""
    model.train()
    losses = []
    bar = progress(loader, desc)
    for images, labels in bar:
        loss = loss_fn(model(images), labels)
        if on_first_loss is not None:
            on_first_loss(loss, images, labels)
            on_first_loss = None
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if bar is not loader:
            bar.set_postfix(loss=f'{losses[-1]:.4f}', refresh=False)
    return losses


def evaluate(model, loader):
    """Fraction of ``loader``'s images whose highest-scoring class is the label."""
    model.eval()
    correct = total = 0
    with ember.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += len(labels)
    return correct / total


def graph_saver(model, out, notes):
    """A callback that draws the backward graph of the first loss into ``out`` (see ``ember.viz``)."""
    def save(loss, images, labels):
        names = dict(model.named_parameters(), images=images, labels=labels, loss=loss)
        graph = viz.draw(loss, names)
        dot_path = graph.save(os.path.join(out, 'graph.dot'))
        if viz.has_dot():
            notes.append(f'computation graph: {graph.render(os.path.join(out, "graph.png"))} (and {dot_path})')
        else:
            notes.append(f"computation graph: {dot_path} (DOT text; Graphviz's dot was not found, install "
                         f'Graphviz for a picture: dot -Tpng {dot_path} -o graph.png)')
    return save


def save_loss_curve(path, step_losses, accuracies, title):
    """A PNG of the training loss per step and the test accuracy per epoch; a note when matplotlib is absent."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return 'loss curve: skipped (matplotlib is not installed: pip install matplotlib)'
    fig = Figure(figsize=(9, 3.5), layout='constrained')
    ax_loss, ax_acc = fig.subplots(1, 2)
    steps = len(step_losses) / len(accuracies)
    ax_loss.plot([i / steps for i in range(1, len(step_losses) + 1)], step_losses, lw=0.8)
    ax_loss.set(xlabel='epoch', ylabel='training loss', yscale='log', title='Loss per step')
    epochs = range(1, len(accuracies) + 1)
    ax_acc.plot(epochs, [100 * a for a in accuracies], 'o-', color='tab:green')
    ax_acc.set(xlabel='epoch', ylabel='test accuracy (%)', title='Test accuracy', xticks=list(epochs))
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
    return f'loss curve: {path}'


def main(argv=None):
    """Run the demo with command-line arguments ``argv``; returns the exit status."""
    args = parse_args(argv)
    start = time.perf_counter()
    ember.manual_seed(args.seed)
    try:
        train_set, test_set = load_data(args)
    except RuntimeError as exc:
        print(f'ember demo: {exc}\nOn Debian/Ubuntu: apt-get install dataset-fashion-mnist, or pass --root '
              'DIR or --download.', file=sys.stderr)
        return 1
    if args.dataset == 'digits':
        print(ATTRIBUTION)
    return run(args, train_set, test_set, start)


def run(args, train_set, test_set, start):
    """Train and evaluate, print one line per epoch and a summary, save the pictures."""
    os.makedirs(args.out, exist_ok=True)
    side = train_set[0][0].shape[-1]
    model = make_model(side, WIDTHS[args.dataset])
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=500)
    print(f'{args.dataset}: {len(train_set)} training and {len(test_set)} test images of {side}x{side}; '
          f'{sum(p.numel() for p in model.parameters())} parameters')
    notes, step_losses, accuracies = [], [], []
    hook = graph_saver(model, args.out, notes)
    for epoch in range(1, args.epochs + 1):
        losses = train_epoch(model, train_loader, optimizer, loss_fn, f'epoch {epoch}/{args.epochs}', hook)
        hook = None
        step_losses += losses
        accuracies.append(evaluate(model, test_loader))
        print(f'epoch {epoch}/{args.epochs}: train loss {sum(losses) / len(losses):.4f}, '
              f'test accuracy {100 * accuracies[-1]:.2f}% ({time.perf_counter() - start:.1f} s)', flush=True)
    elapsed = time.perf_counter() - start
    notes.append(save_loss_curve(os.path.join(args.out, 'loss_curve.png'), step_losses, accuracies,
                                 f'ember demo: small CNN on {args.dataset}'))
    print('\n'.join(notes))
    print(f'final test accuracy: {100 * accuracies[-1]:.2f}% on {len(test_set)} {args.dataset} test images '
          f"after {args.epochs} epoch{'s' if args.epochs != 1 else ''} in {elapsed:.1f} s")
    return 0
