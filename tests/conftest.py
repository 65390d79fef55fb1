import os, gzip, struct
from pathlib import Path
import numpy as np, pytest


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    "Every test gets its own empty dataset cache, so tests never read each other's (or the user's) cache."
    monkeypatch.setenv('GAN_COURSE_CACHE', str(tmp_path/'cache'))
    return tmp_path/'cache'


@pytest.fixture
def mnist_dir():
    "The real MNIST IDX folder named by GAN_COURSE_DATA (CI points it at ../shared/data/mnist)."
    folder = os.environ.get('GAN_COURSE_DATA')
    if not folder: pytest.skip('GAN_COURSE_DATA is not set: no local MNIST files')
    return Path(folder)


def write_idx(path, array, type_byte=0x08, gz=None):
    "Write `array` as an IDX file at `path` (gzipped when the name ends in .gz)."
    array = np.asarray(array)
    raw = bytes([0, 0, type_byte, array.ndim]) + struct.pack(f'>{array.ndim}I', *array.shape) + array.astype(array.dtype.newbyteorder('>')).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(raw) if (gz if gz is not None else path.suffix == '.gz') else raw)
    return path
