"""``torch.PyTorchFileReader``: the records of a ``torch.save`` archive by their names inside its folder
(``data.pkl``, ``data/0``), as bytes. Lightning's lazy checkpoint loader reads checkpoints through it."""
import zipfile


class PyTorchFileReader:
    """Read the records of a zip archive written by ``torch.save`` (a path or a seekable binary file)."""

    def __init__(self, file):
        if not isinstance(file, str) and not hasattr(file, 'tell'):
            raise AttributeError(f"'{type(file).__name__}' object has no attribute 'tell'")
        try:
            self._zip = zipfile.ZipFile(file)
        except FileNotFoundError as e:
            raise RuntimeError(f'open file failed because of errno 2 on fopen: {e.strerror}, file path: {file}') \
                from None
        except zipfile.BadZipFile:
            raise RuntimeError('PytorchStreamReader failed reading zip archive: failed finding central directory') \
                from None
        names = self._zip.namelist()
        self._prefix = names[0].split('/', 1)[0] + '/' if names else ''

    def get_all_records(self):
        """The names of all records, without the archive's folder."""
        return [n[len(self._prefix):] for n in self._zip.namelist() if n.startswith(self._prefix)]

    def has_record(self, name):
        return self._prefix + name in self._zip.NameToInfo

    def _info(self, name):
        info = self._zip.NameToInfo.get(self._prefix + name)
        if info is None:
            raise RuntimeError(f'PytorchStreamReader failed locating file {name}: file not found')
        return info

    def get_record(self, name):
        """The record's bytes."""
        return self._zip.read(self._info(name))

    def get_record_size(self, name):
        return self._info(name).file_size

    def serialization_id(self):
        """The archive's serialization id (empty for an archive without one)."""
        name = '.data/serialization_id'
        return self.get_record(name).decode() if self.has_record(name) else ''
