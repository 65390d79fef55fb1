"Data loading: real MNIST through GAN_COURSE_DATA, the cache, the fastai layout, and bad input."
import os, time
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image

from gan_course.data import (read_idx, load_folder, load_idx_folder, load_image_folder, load_mnist_png, mnist, find_mnist,
                             digits, fashion_mnist, ImageSet, save_png_folder, gan_dataloaders, to_tanh_range, DEBIAN_FASHION)
from conftest import write_idx

MNIST_MD5 = {'t10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3'}


def test_mnist_from_environment_variable(mnist_dir, monkeypatch):
    monkeypatch.setenv('GAN_COURSE_DATA', str(mnist_dir))
    ds = mnist(download=False)
    assert ds.images.shape == (10000, 1, 28, 28) and ds.images.dtype == torch.uint8
    assert ds.labels.dtype == torch.int64 and ds.labels.min() == 0 and ds.labels.max() == 9
    assert ds.splits == {'t10k': (0, 10000)}
    assert ds.labels[:8].tolist() == [7, 2, 1, 0, 4, 1, 4, 9]  # the canonical first test labels
    assert torch.bincount(ds.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_second_load_is_cached_and_fast(mnist_dir, private_cache):
    first = load_idx_folder(mnist_dir)
    assert len(list(private_cache.glob('idx-*.npz'))) == 1
    start = time.perf_counter(); second = load_idx_folder(mnist_dir); took = time.perf_counter() - start
    assert took < 1, took
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    assert second.splits == first.splits and second.classes == first.classes


def test_cache_is_invalidated_when_the_source_changes(tmp_path, private_cache):
    images, labels = tmp_path/'t10k-images-idx3-ubyte', tmp_path/'t10k-labels-idx1-ubyte'
    write_idx(images, np.zeros((3, 28, 28), np.uint8)); write_idx(labels, np.arange(3, dtype=np.uint8))
    assert load_idx_folder(tmp_path).images.sum() == 0
    write_idx(images, np.full((3, 28, 28), 7, np.uint8))
    os.utime(images, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert load_idx_folder(tmp_path).images.unique().tolist() == [7]


def test_cache_write_leaves_no_temporary_files(tmp_path, private_cache):
    write_idx(tmp_path/'t10k-images-idx3-ubyte.gz', np.zeros((2, 4, 4), np.uint8)); write_idx(tmp_path/'t10k-labels-idx1-ubyte.gz', np.zeros(2, np.uint8))
    load_idx_folder(tmp_path)
    assert [p.suffix for p in private_cache.iterdir()] == ['.npz']


def test_truncated_idx_file_names_the_file(mnist_dir, tmp_path):
    data = (mnist_dir/'t10k-images-idx3-ubyte.gz').read_bytes()
    import gzip
    raw = gzip.decompress(data)
    (tmp_path/'t10k-images-idx3-ubyte').write_bytes(raw[:len(raw)//2])
    with pytest.raises(ValueError, match=r't10k-images-idx3-ubyte has 3,920,008 bytes but its header .* needs 7,840,016.*truncated'):
        read_idx(tmp_path/'t10k-images-idx3-ubyte')
    (tmp_path/'cut.gz').write_bytes(data[:len(data)//2])
    with pytest.raises(ValueError, match='cut.gz is a damaged gzip file'):
        read_idx(tmp_path/'cut.gz')


def test_label_file_passed_as_images(mnist_dir):
    with pytest.raises(ValueError, match='1-dimensional data but 3-dimensional was expected.*swap'):
        read_idx(mnist_dir/'t10k-labels-idx1-ubyte.gz', ndim=3)


@pytest.mark.parametrize('content, message', [
    (b'', 'not an IDX file'),
    (b'\x00\x00\x08', 'not an IDX file'),
    (b'\x00\x00\x07\x03', 'not an IDX file'),
    (b'\x00\x00\x08\x03\x00\x00', 'truncated inside its header'),
    (b'GIF89a' + bytes(20), 'not an IDX file'),
])
def test_corrupt_idx_headers(tmp_path, content, message):
    (tmp_path/'bad').write_bytes(content)
    with pytest.raises(ValueError, match=message): read_idx(tmp_path/'bad')


def test_idx_other_types_round_trip(tmp_path):
    floats = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    assert np.array_equal(read_idx(write_idx(tmp_path/'f.idx', floats, type_byte=0x0D)), floats)


def test_image_label_count_mismatch(tmp_path):
    write_idx(tmp_path/'t10k-images-idx3-ubyte.gz', np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path/'t10k-labels-idx1-ubyte.gz', np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match='5 images but t10k-labels-idx1-ubyte.gz has 4 labels'):
        load_idx_folder(tmp_path)


def test_missing_label_file(tmp_path):
    write_idx(tmp_path/'t10k-images-idx3-ubyte.gz', np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(FileNotFoundError, match='has the t10k images but not the labels'):
        load_folder(tmp_path)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'): load_folder(tmp_path/'nope')
    (tmp_path/'empty').mkdir()
    with pytest.raises(ValueError, match='No images in'): load_folder(tmp_path/'empty')
    (tmp_path/'file.txt').write_text('x')
    with pytest.raises(ValueError, match='is a file; pass the folder'): load_folder(tmp_path/'file.txt')


def test_non_image_files_are_ignored_and_broken_images_named(tmp_path):
    Image.fromarray(np.full((10, 12), 200, np.uint8)).save(tmp_path/'a.png')
    (tmp_path/'notes.txt').write_text('not an image')
    ds = load_image_folder(tmp_path)
    assert ds.images.shape == (1, 1, 10, 12) and ds.classes is None and ds.labels.tolist() == [-1]
    (tmp_path/'b.jpg').write_bytes(b'this is not a jpeg')
    with pytest.raises(ValueError, match='b.jpg could not be read as an image'): load_image_folder(tmp_path)


def test_image_folder_sizes_colour_and_classes(tmp_path):
    for cls, colour in [('cats', (255, 0, 0)), ('dogs', (0, 0, 255))]:
        (tmp_path/cls).mkdir()
        Image.new('RGB', (40, 30), colour).save(tmp_path/cls/'x.png')
    Image.new('RGB', (20, 20), (0, 255, 0)).save(tmp_path/'cats'/'y.png')
    with pytest.raises(ValueError, match='different sizes.*pass size='): load_image_folder(tmp_path, channels=3)
    ds = load_image_folder(tmp_path, size=16, channels=3)
    assert ds.images.shape == (3, 3, 16, 16) and ds.classes == ['cats', 'dogs'] and ds.labels.tolist() == [0, 0, 1]
    assert ds.images[0, 0].float().mean() > 250 and ds.images[2, 2].float().mean() > 250
    with pytest.raises(ValueError, match='channels must be 1'): load_image_folder(tmp_path, channels=2)


def test_fastai_mnist_png_layout(mnist_dir, tmp_path, monkeypatch):
    real = load_idx_folder(mnist_dir)
    train, test = real[:300], real[300:400]
    save_png_folder(train, tmp_path/'mnist_png'/'training'); save_png_folder(test, tmp_path/'mnist_png'/'testing')
    monkeypatch.setenv('GAN_COURSE_DATA', str(tmp_path/'mnist_png'))
    ds = mnist(download=False)
    assert ds.splits == {'train': (0, 300), 't10k': (300, 400)} and ds.classes == [str(i) for i in range(10)]
    assert sorted(ds.labels[:300].tolist()) == sorted(train.labels.tolist())
    # each PNG decodes to exactly the IDX pixels it was written from
    for split, part in [('train', train), ('t10k', test)]:
        got = ds.split(split)
        for lbl in part.labels.unique():
            assert torch.equal(got.images[got.labels == lbl], part.images[part.labels == lbl])


def test_find_mnist_order_without_network(tmp_path, monkeypatch):
    calls = []
    def fake_download(): calls.append(1); return tmp_path/'dl'
    monkeypatch.setattr('gan_course.data.downloaded_mnist', lambda: tmp_path/'never-downloaded')
    monkeypatch.setenv('GAN_COURSE_DATA', str(tmp_path/'env'))
    assert find_mnist(tmp_path/'arg', downloader=fake_download) == tmp_path/'arg'
    assert find_mnist(downloader=fake_download) == tmp_path/'env'
    monkeypatch.delenv('GAN_COURSE_DATA')
    (tmp_path/'cached').mkdir()
    monkeypatch.setattr('gan_course.data.downloaded_mnist', lambda: tmp_path/'cached')
    assert find_mnist(downloader=fake_download) == tmp_path/'cached' and not calls
    monkeypatch.setattr('gan_course.data.downloaded_mnist', lambda: tmp_path/'never-downloaded')
    assert find_mnist(downloader=fake_download) == tmp_path/'dl' and calls == [1]
    with pytest.raises(FileNotFoundError, match='set GAN_COURSE_DATA'): find_mnist(download=False)
    def offline(): raise OSError('Name or service not known')
    with pytest.raises(RuntimeError, match=r'Could not download MNIST \(OSError: Name or service not known\).*digits\(\)'):
        find_mnist(downloader=offline)


def test_digits_look_like_mnist():
    ds = digits()
    assert ds.images.shape == (1797, 1, 28, 28) and ds.images.dtype == torch.uint8
    assert ds.images.max() == 255 and ds.images[..., :4, :].max() == 0 and ds.images[..., -4:].max() == 0


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason='apt-get install dataset-fashion-mnist')
def test_fashion_mnist_from_debian():
    ds = fashion_mnist(download=False)
    assert ds.images.shape == (70000, 1, 28, 28) and ds.classes[9] == 'Ankle boot'
    assert torch.bincount(ds.labels).tolist() == [7000] * 10


def test_batches_are_scaled_shuffled_and_complete(mnist_dir):
    ds = load_idx_folder(mnist_dir)
    dls = gan_dataloaders(ds, bs=128, device='cpu')
    batches = list(dls.train)
    assert len(batches) == 78 and all(b[0].shape == (128, 1, 28, 28) for b in batches)
    x = torch.cat([b[0] for b in batches])
    assert x.dtype == torch.float32 and x.min() == -1 and x.max() == 1
    assert len(torch.cat([b[1] for b in batches]).unique()) == 10
    # with each image's row number as its label: every image at most once an epoch, in a new order each epoch
    numbered = gan_dataloaders(ImageSet(ds.images, torch.arange(len(ds))), bs=128, device='cpu').train
    epoch1, epoch2 = [torch.cat([b[1] for b in numbered]) for _ in range(2)]
    assert len(epoch1.unique()) == len(epoch1) == 78 * 128
    assert not torch.equal(epoch1, epoch2)
    x3, rows3 = next(iter(numbered))
    assert torch.equal(x3, to_tanh_range(ds.images[rows3]))


def test_unshuffled_batches_match_the_images(mnist_dir):
    ds = load_idx_folder(mnist_dir)[:300]
    x, y = next(iter(gan_dataloaders(ds, bs=100, device='cpu').train.new(shuffle=False)))
    assert torch.equal(x, to_tanh_range(ds.images[:100])) and torch.equal(y, ds.labels[:100])


def test_bad_batch_sizes_and_empty_data():
    ds = digits()
    for bs in (0, -1, 2.5, '64'):
        with pytest.raises(ValueError, match='bs must be a positive whole number'): gan_dataloaders(ds, bs=bs)
    with pytest.raises(ValueError, match='empty'): gan_dataloaders(ds[:0])


def test_imageset_validation():
    with pytest.raises(ValueError, match='uint8 tensor of shape'): ImageSet(torch.zeros(2, 1, 4, 4))
    with pytest.raises(ValueError, match='2 images but 3 labels'): ImageSet(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.arange(3))
