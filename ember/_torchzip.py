"""The zip layout torch.save writes (PyTorch's PyTorchStreamWriter on miniz), byte for byte below 4 GiB, so that
ember's checkpoints are the size of PyTorch's (the dynamic-quantization recipe prints it): each record's data
starts at a multiple of 64 (an 'FB' extra field of 'Z's pads the local header), the local header carries no sizes
(a data descriptor follows the data), the central directory has no extras, and a zip64 end record and locator
come before the plain end record."""
import struct
import zlib

_ALIGN = 64
_LIMIT = 0xFFFFFFFF


class TooLarge(Exception):
    """The archive needs zip64 sizes or offsets (PyTorch's layout of those is not written here)."""


class Writer:
    """Writes records one after another to ``fh`` (only ``write`` is used), then the directory at ``close``."""

    def __init__(self, fh):
        self.fh, self.offset, self.entries = fh, 0, []

    def _put(self, data):
        self.fh.write(data)
        self.offset += len(data)

    def record(self, name, chunks):
        """A stored record ``name`` whose bytes are ``chunks`` (bytes-like objects)."""
        encoded = name.encode('utf-8')
        start = self.offset
        pad = (-(start + 30 + len(encoded) + 4)) % _ALIGN
        extra = b'FB' + struct.pack('<H', pad) + b'Z' * pad
        self._put(struct.pack('<IHHHHHIIIHH', 0x04034b50, 0, 0x0808, 0, 0, 0, 0, 0, 0, len(encoded), len(extra))
                  + encoded + extra)
        crc = size = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(memoryview(chunk).cast('B'))
            self._put(chunk)
        if size >= _LIMIT or self.offset >= _LIMIT:
            raise TooLarge(name)
        self._put(struct.pack('<IIII', 0x08074b50, crc, size, size))
        self.entries.append((encoded, crc, size, start))

    def close(self):
        """The central directory, the zip64 end record and locator, and the end record."""
        cd_start = self.offset
        for encoded, crc, size, start in self.entries:
            self._put(struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0, 0, 0x0808, 0, 0, 0, crc, size, size,
                                  len(encoded), 0, 0, 0, 0, 0, start) + encoded)
        cd_size, n = self.offset - cd_start, len(self.entries)
        end64 = self.offset
        if end64 >= _LIMIT:
            raise TooLarge('central directory')
        self._put(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 0x031e, 45, 0, 0, n, n, cd_size, cd_start))
        self._put(struct.pack('<IIQI', 0x07064b50, 0, end64, 1))
        self._put(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, cd_size, cd_start, 0))
