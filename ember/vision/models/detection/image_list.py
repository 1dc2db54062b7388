"""``ImageList``: a padded batch of images and the size each had before padding."""

__all__ = ['ImageList']


class ImageList:
    """``tensors`` ``[N, C, H, W]`` (padded) and ``image_sizes``, the ``(h, w)`` of each image inside it."""

    def __init__(self, tensors, image_sizes):
        self.tensors = tensors
        self.image_sizes = image_sizes

    def to(self, device):
        return ImageList(self.tensors.to(device), self.image_sizes)
