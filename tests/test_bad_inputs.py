"""A catalogue of bad inputs to the API, to weight files and to `gan-course train`: each raises (or exits with) a clear
error whose type and message are checked, and leaves no file behind, whole or partial, and no run folder changed.

The command-line argument cases of `tests/test_cli.py` and the data-file cases of `tests/test_data.py` add to these."""
import errno, gzip, json, os, pickle, shutil, struct, torch, torch.nn as nn
import numpy as np, pytest
from PIL import Image
from safetensors.torch import save_file, load_file

from gan_course.cli import main
from gan_course.data import ImageSet, digits, load_folder, save_grid
from gan_course.files import atomic_save, FileWriteError, FolderClaim, FolderInUse
from gan_course.stabilising import stable_learner, GeneratorEMA
from gan_course.conditional import conditional_learner, conditional_generator, conditional_discriminator, class_label, generate_classes
from gan_course.losses import discriminator_loss, generator_loss
from gan_course.models import mlp_generator, mlp_discriminator, dcgan_generator, dcgan_discriminator
from gan_course.learner import gan_learner
from gan_course.data import gan_dataloaders
from types import SimpleNamespace
from gan_course.metrics import feature_stats, GANEvaluation, split_for_scoring, scorer_for, _model_input, TimeBudget
from gan_course.sampling import save_generator, load_generator, interpolate, training_gif, header_json
from gan_course.reliability import Checkpoint, read_checkpoint
from gan_course.colour import render_emoji, pets_dog_files


@pytest.fixture(scope='module')
def small_dls(): return gan_dataloaders(digits()[:256], bs=64)


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory):
    "A one-epoch `gan-course train` run folder of the MLP on the digits."
    out = tmp_path_factory.mktemp('runs')/'done'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--epochs', '1', '--bs', '256', '--out', str(out)]) == 0
    return out


def _pickle_that_writes(path, marker):
    "A pickle that would create `marker` if it were ever unpickled."
    class Payload:
        def __reduce__(self): return (open, (str(marker), 'w'))
    path.write_bytes(pickle.dumps(Payload()))


def _with_header(path, source, tensors=None, raw=None, **config):
    "A copy of the generator file `source` with its tensors (or `tensors`), and its header's configuration changed by `config` (or replaced by the text `raw`)."
    stored = header_json(source, 'gan_course_config', 'generator config', 'save_generator')
    save_file(load_file(str(source)) if tensors is None else tensors, str(path), metadata={'gan_course_config': raw or json.dumps(stored | config)})


def _idx_folder(folder):
    "A folder of IDX files holding 8 blank 28x28 images and their labels."
    folder.mkdir()
    (folder/'t10k-images-idx3-ubyte.gz').write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack('>3I', 8, 28, 28) + bytes(8 * 784)))
    (folder/'t10k-labels-idx1-ubyte.gz').write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack('>I', 8) + bytes(range(8))))
    return folder


def _full_disk(f): f.write(b'part of it'); raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _api_cases(tmp, dls, run):
    "(name, call, exception type, message fragment) for the Python API and for weight files."
    good = tmp/'g.safetensors'
    save_generator(mlp_generator(), good)
    save_file({'w': torch.zeros(2)}, str(tmp/'no_config.safetensors'))
    (tmp/'truncated.safetensors').write_bytes(good.read_bytes()[:100])
    _pickle_that_writes(tmp/'evil.safetensors', tmp/'pwned')
    (tmp/'notes.txt').write_text('not weights')
    _with_header(tmp/'huge.safetensors', good, hidden=[10**9, 10**9])
    _with_header(tmp/'kind.safetensors', good, kind='stylegan')
    _with_header(tmp/'field.safetensors', good, depth=3)
    _with_header(tmp/'not_object.safetensors', good, raw='[1, 2]')
    _with_header(tmp/'not_json.safetensors', good, raw='{"kind": ')
    overwritten = load_file(str(good)); overwritten['0.weight'].view(-1)[0] = 1e30
    _with_header(tmp/'overwritten.safetensors', good, overwritten)
    tensors, header = read_checkpoint(run/'checkpoint.safetensors'); tensors['generator.0.weight'].view(-1)[0] = 1e30
    save_file(tensors, str(tmp/'damaged_checkpoint.safetensors'), metadata={'gan_course_checkpoint': json.dumps(header)})
    idx = _idx_folder(tmp/'idx')
    (tmp/'claimed').mkdir()
    unlabelled = gan_dataloaders(ImageSet(torch.zeros(64, 1, 28, 28, dtype=torch.uint8)), bs=32)
    colour = gan_dataloaders(ImageSet(torch.zeros(64, 3, 28, 28, dtype=torch.uint8)), bs=32)
    G, D = mlp_generator(), mlp_discriminator()
    pets = conditional_generator(n_classes=2, classes=['cat', 'dog'])
    return [
        ('learner: unknown loss', lambda: gan_learner(dls, G, D, loss='wgan'), ValueError, 'loss must be one of'),
        ('learner: smoothing 0.5', lambda: gan_learner(dls, G, D, smooth=0.5), ValueError, 'smooth must be in [0, 0.5)'),
        ('learner: n_d 0', lambda: gan_learner(dls, G, D, n_d=0), ValueError, 'n_d must be a whole number >= 1'),
        ('learner: n_g 1.5', lambda: gan_learner(dls, G, D, n_g=1.5), ValueError, 'n_g must be a whole number >= 1'),
        ('learner: negative lr', lambda: gan_learner(dls, G, D, lr=-1e-3), ValueError, 'lr must be a positive number'),
        ('learner: beta2 = 1', lambda: gan_learner(dls, G, D, betas=(0.5, 1.0)), ValueError, 'betas must be two numbers in [0, 1)'),
        ('learner: no latent size', lambda: gan_learner(dls, nn.Linear(3, 784), D), ValueError, 'Pass nz='),
        ('loss: batch shapes differ', lambda: discriminator_loss(torch.zeros(4, 1), torch.zeros(4, 2)), ValueError, 'differ beyond the batch'),
        ('loss: empty logits', lambda: discriminator_loss(torch.zeros(0), torch.zeros(0)), ValueError, 'is empty'),
        ('loss: unknown kind', lambda: generator_loss(torch.zeros(4), kind='wasserstein'), ValueError, 'kind must be one of'),
        ('metrics: too few samples', lambda: feature_stats(torch.randn(64, 128)), ValueError, 'use at least 129'),
        ('metrics: images in [0, 255] as float', lambda: _model_input(torch.rand(4, 1, 28, 28) * 255, (1, 28, 28)), ValueError, 'x * 2 - 1'),
        ('metrics: wrong image shape', lambda: _model_input(torch.zeros(4, 3, 28, 28), (1, 28, 28)), ValueError, 'expected images of shape (N, 1, 28, 28)'),
        ('metrics: unlabelled data', lambda: split_for_scoring(ImageSet(torch.zeros(8, 1, 28, 28, dtype=torch.uint8))), ValueError, 'unlabelled images'),
        ('metrics: evaluate every 0 epochs', lambda: GANEvaluation(None, every=0), ValueError, 'every must be a whole number >= 1'),
        ('metrics: score against an unknown part', lambda: scorer_for(digits(), against='test'), ValueError, "against must be 'held_out' or 'validation'"),
        ('metrics: choose the best epoch on held-out images', lambda: GANEvaluation(SimpleNamespace(part='held_out')), ValueError, "against='validation'"),
        ('sampling: unknown interpolation', lambda: interpolate(G, kind='cubic'), ValueError, "kind must be 'slerp' or 'lerp'"),
        ('sampling: GIF of no grids', lambda: training_gif([], tmp/'t.gif'), ValueError, 'No grids to animate'),
        ('weights: save a generator without config', lambda: save_generator(nn.Linear(2, 2), tmp/'plain.safetensors'), ValueError, 'no known build config'),
        ('weights: missing file', lambda: load_generator(tmp/'missing.safetensors'), FileNotFoundError, 'does not exist'),
        ('weights: a pickle named .safetensors', lambda: load_generator(tmp/'evil.safetensors'), ValueError, 'never unpickles weights'),
        ('weights: a text file', lambda: load_generator(tmp/'notes.txt'), ValueError, 'is not a safetensors file'),
        ('weights: truncated file', lambda: load_generator(tmp/'truncated.safetensors'), ValueError, 'is not a safetensors file'),
        ('weights: safetensors without config', lambda: load_generator(tmp/'no_config.safetensors'), ValueError, 'has no gan_course generator config'),
        ('weights: wrong architecture', lambda: load_generator(good, generator=dcgan_generator()), ValueError, 'but this architecture needs'),
        ('colour: no emoji font', lambda: render_emoji(tmp/'emoji', font_path=tmp/'missing.ttf'), FileNotFoundError, 'apt-get install fonts-noto-color-emoji'),
        ('colour: a folder without Pets dog photos', lambda: pets_dog_files(tmp), ValueError, 'No dog photos in'),
        ('checkpoint: missing file', lambda: read_checkpoint(tmp/'missing.safetensors'), FileNotFoundError, 'does not exist'),
        ('checkpoint: a pickle named .safetensors', lambda: read_checkpoint(tmp/'evil.safetensors'), ValueError, 'never unpickles weights'),
        ('checkpoint: a generator file', lambda: read_checkpoint(good), ValueError, 'has no gan_course checkpoint'),
        ('checkpoint: resume another architecture', lambda: _resume_fit(dls, run, 2, dcgan=True), ValueError, 'this architecture needs'),
        ('checkpoint: resume to an epoch it has passed', lambda: _resume_fit(dls, run, 1), ValueError, 'is at epoch 1 already'),
        ('checkpoint: a weight overwritten after it was written', lambda: read_checkpoint(tmp/'damaged_checkpoint.safetensors'), ValueError, 'is damaged'),
        ('weights: a header claiming a network of 10^9 units', lambda: load_generator(tmp/'huge.safetensors'), ValueError, 'but this architecture needs (1000000000, 100)'),
        ('weights: an unknown generator kind', lambda: load_generator(tmp/'kind.safetensors'), ValueError, "kind 'stylegan', which is not one of"),
        ('weights: a config field no builder takes', lambda: load_generator(tmp/'field.safetensors'), ValueError, 'cannot build a mlp generator'),
        ('weights: a config that is not an object', lambda: load_generator(tmp/'not_object.safetensors'), ValueError, 'is not a JSON object'),
        ('weights: a config that is not JSON', lambda: load_generator(tmp/'not_json.safetensors'), ValueError, 'is not valid JSON'),
        ('weights: a weight overwritten after saving', lambda: load_generator(tmp/'overwritten.safetensors'), ValueError, 'is damaged'),
        ('files: a write under a file', lambda: atomic_save(good/'inside.bin', lambda f: f.write(b'x')), FileWriteError, 'is a file, not a folder'),
        ('files: a file name too long', lambda: atomic_save(tmp/('x' * 300), lambda f: f.write(b'x')), FileWriteError, 'file name too long'),
        ('files: a full disk in the middle of a write', lambda: atomic_save(good, _full_disk), FileWriteError, 'no space left on device'),
        ('files: a folder another process holds', lambda: _claim_twice(tmp/'claimed'), FolderInUse, 'is in use by another process'),
        ('data: an IDX folder with a size', lambda: load_folder(idx, size=32), ValueError, 'holds IDX files, read as they are stored'),
        ('data: an IDX folder in colour', lambda: load_folder(idx, channels=3), ValueError, 'size and channels apply to a folder of images'),
        ('stabilising: the hinge loss with smoothing', lambda: stable_learner(dls, G, D, loss='hinge', smooth=0.1), ValueError, 'smooth applies'),
        ('stabilising: a negative R1 weight', lambda: stable_learner(dls, G, D, r1=-1), ValueError, 'r1 must be a number >= 0'),
        ('stabilising: a negative gradient penalty', lambda: stable_learner(dls, G, D, gp=-10), ValueError, 'gp must be a number >= 0'),
        ('stabilising: an unknown augmentation', lambda: stable_learner(dls, G, D, augment=('flip',)), ValueError, 'unknown augmentation'),
        ('stabilising: an average that never moves', lambda: stable_learner(dls, G, D, ema=1.), ValueError, 'ema must be in [0, 1)'),
        ('stabilising: GeneratorEMA with beta 1', lambda: GeneratorEMA(1.), ValueError, 'beta must be in [0, 1)'),
        ('metrics: a negative time budget', lambda: TimeBudget(-1), ValueError, 'seconds must be a number >= 0'),
        ('conditional: unlabelled images', lambda: conditional_learner(unlabelled, conditional_generator(), conditional_discriminator()), ValueError, 'needs labelled images'),
        ('conditional: more classes than the networks know', lambda: conditional_learner(dls, conditional_generator(n_classes=3), conditional_discriminator()), ValueError, 'knows 3 classes'),
        ('learner: a grey generator for colour data', lambda: gan_learner(colour, G, D), ValueError, "makes images of shape (1, 28, 28) but the data's are (3, 28, 28)"),
        ('learner: a discriminator for other images', lambda: gan_learner(dls, G, dcgan_discriminator(channels=3)), ValueError, "cannot take the generator's images of shape (1, 28, 28)"),
        ('learner: a discriminator with many outputs', lambda: gan_learner(dls, G, nn.Sequential(nn.Flatten(), nn.Linear(784, 10))), ValueError, 'it must give one logit per image'),
        ('learner: the wrong latent size', lambda: gan_learner(dls, G, D, nz=10), ValueError, 'cannot make images from noise of size nz=10'),
        ('conditional: a class name it does not know', lambda: class_label(pets, 'emu'), ValueError, "no class 'emu'; it knows cat, dog"),
        ('conditional: a label out of range', lambda: class_label(pets, 2), ValueError, 'class 2 is out of range'),
        ('conditional: generating a label out of range', lambda: generate_classes(pets, torch.tensor([0, 5])), ValueError, 'label 5 is out of range'),
        ('conditional: fewer names than classes', lambda: conditional_generator(n_classes=3, classes=['cat']), ValueError, 'n_classes=3 but 1 class names'),
        ('data: a grid saved as JPEG', lambda: save_grid(torch.zeros(4, 1, 28, 28), tmp/'grid.jpg'), ValueError, 'name the file .png'),
    ]


def _claim_twice(folder):
    "Claim `folder` while holding a claim on it, as a second run would."
    with FolderClaim(folder): FolderClaim(folder)


def _resume_fit(dls, run, epochs, dcgan=False):
    "Resume the checkpoint of `run` in a new learner and fit for `epochs` epochs."
    G, D = (dcgan_generator(), dcgan_discriminator()) if dcgan else (mlp_generator(), mlp_discriminator())
    learn = gan_learner(dls, G, D, cbs=Checkpoint(run/'checkpoint.safetensors', resume=True))
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs)


def _resume_cases(tmp, run):
    "(name, argv, message fragment) for `gan-course train --resume`: each must leave the run folder as it was."
    shutil.copytree(run, tmp/'no_checkpoint'); (tmp/'no_checkpoint'/'checkpoint.safetensors').unlink()
    shutil.copytree(run, tmp/'pickled'); _pickle_that_writes(tmp/'pickled'/'checkpoint.safetensors', tmp/'pwned')
    shutil.copytree(run, tmp/'bad_json'); (tmp/'bad_json'/'run.json').write_text('{"epochs": ')
    shutil.copytree(run, tmp/'first_epoch'); [(tmp/'first_epoch'/n).unlink() for n in ('checkpoint.safetensors', 'metrics.csv')]
    shutil.copytree(run, tmp/'no_metrics'); (tmp/'no_metrics'/'metrics.csv').unlink()
    shutil.copytree(run, tmp/'json_list'); (tmp/'json_list'/'run.json').write_text('[1, 2]')
    shutil.copytree(run, tmp/'json_type'); settings = json.loads((run/'run.json').read_text())
    (tmp/'json_type'/'run.json').write_text(json.dumps(settings | {'bs': 'many'}))
    shutil.copytree(run, tmp/'other_model'); shutil.copy(tmp/'dcgan_run'/'checkpoint.safetensors', tmp/'other_model')
    shutil.copytree(run, tmp/'damaged'); shutil.copy(tmp/'damaged_checkpoint.safetensors', tmp/'damaged'/'checkpoint.safetensors')
    return [
        ('resume: no such folder', ['--resume', str(tmp/'nowhere')], 'there is no run.json there'),
        ('resume: no checkpoint', ['--resume', str(tmp/'no_checkpoint')], 'there is no checkpoint.safetensors there'),
        ('resume: a pickled checkpoint', ['--resume', str(tmp/'pickled')], 'never unpickles weights'),
        ('resume: run.json cut short', ['--resume', str(tmp/'bad_json')], 'run.json is not valid JSON'),
        ('resume: no more epochs to train', ['--resume', str(run)], 'its checkpoint is at epoch 1 of 1 already'),
        ('resume: a setting that would change the run', ['--resume', str(run), '--epochs', '2', '--lr', '0.1'], 'not --lr'),
        ('resume: with --out as well', ['--resume', str(run), '--epochs', '2', '--out', str(tmp/'elsewhere')], 'not --out'),
        ('new run: neither --out nor --resume', ['--data', 'digits'], '--out is required (or --resume DIR'),
        ('resume: a run stopped in its first epoch', ['--resume', str(tmp/'first_epoch')], 'the run stopped before its first epoch ended'),
        ('resume: metrics.csv deleted', ['--resume', str(tmp/'no_metrics')], 'there is no metrics.csv there'),
        ('resume: run.json not an object', ['--resume', str(tmp/'json_list')], "run.json does not hold a run's settings"),
        ('resume: run.json with a setting of the wrong type', ['--resume', str(tmp/'json_type'), '--epochs', '2'], "run.json has bs='many', not a int"),
        ("resume: another model's checkpoint", ['--resume', str(tmp/'other_model'), '--epochs', '2'], 'come from different runs'),
        ('resume: a damaged checkpoint', ['--resume', str(tmp/'damaged'), '--epochs', '2'], 'is damaged'),
    ]


def _cli_cases(tmp):
    "(name, argv, message fragment) for `gan-course train` beyond the argument checks of test_cli.py."
    (tmp/'broken').mkdir()
    for i in range(3): Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp/'broken'/f'{i}.png')
    (tmp/'broken'/'3.png').write_bytes(b'not a png')
    (tmp/'a_file.png').write_bytes(b'x')
    for label in 'ab':
        (tmp/'few'/label).mkdir(parents=True)
        for i in range(20): Image.fromarray(np.full((28, 28), i, np.uint8)).save(tmp/'few'/label/f'{i}.png')
    return [
        ('cli: a corrupt image in --data', ['--data', str(tmp/'broken')], 'could not be read as an image'),
        ('cli: --data is a file', ['--data', str(tmp/'a_file.png')], 'is a file; pass the folder'),
        ('cli: --size 0', ['--size', '0'], '--size must be at least 1'),
        ('cli: --lr nan', ['--lr', 'nan'], '--lr must be positive'),
        ('cli: --channels 3 with a built-in dataset', ['--channels', '3'], '--size and --channels apply to a folder of images'),
        ('cli: --size with an IDX folder', ['--data', str(tmp/'idx'), '--size', '32'], 'holds IDX files, read as they are stored, so leave them out'),
        ('cli: --channels 2', ['--data', str(tmp/'broken'), '--channels', '2'], '--channels: invalid choice: 2 (choose from 1, 3)'),
        ('cli: --minutes nan', ['--minutes', 'nan'], '--minutes must be 0 (none) or more'),
        ('cli: --r1 nan', ['--r1', 'nan'], '--r1 must be 0 (none) or more'),
        ('cli: --gp inf', ['--gp', 'inf'], '--gp must be a finite number'),
        ('cli: --lr inf', ['--lr', 'inf'], '--lr must be a finite number'),
        ('cli: --d-lr-mult nan', ['--d-lr-mult', 'nan'], '--d-lr-mult must be positive'),
        ('cli: --eval-every on a folder too small to score', ['--data', str(tmp/'few'), '--model', 'mlp', '--bs', '2', '--eval-every', '1'], 'scoring needs more than 128 validation and held-out images'),
    ]


def _out_cases(tmp):
    "(name, --out, message fragment) for output folders that cannot hold a run: each must be refused before anything is written."
    (tmp/'a_file').write_text('x')
    (tmp/'someone_elses').mkdir(); (tmp/'someone_elses'/'notes.txt').write_text('keep me')
    (tmp/'in_use').mkdir()
    return [
        ('out: under a file', tmp/'a_file'/'run', 'is a file, not a folder'),
        ('out: a name too long', tmp/('r' * 300), 'file name too long'),
        ('out: a file', tmp/'a_file', 'is a file; choose a new folder'),
        ('out: a folder with other files', tmp/'someone_elses', 'already exists and is not an empty folder'),
        ('out: a folder another run holds', tmp/'in_use', 'is in use by another gan-course train'),
    ]


def _files(folder): return sorted(p.relative_to(folder) for p in folder.rglob('*'))


def _contents(folder): return {p.relative_to(folder): p.read_bytes() for p in folder.rglob('*') if p.is_file()}


def test_bad_inputs_catalogue(tmp_path, small_dls, finished_run, capsys):
    run_files = _contents(finished_run) # before anything below could touch it
    cases = _api_cases(tmp_path, small_dls, finished_run)
    before = _files(tmp_path)
    for name, call, error, fragment in cases:
        with pytest.raises(error) as caught: call()
        assert fragment in str(caught.value), f"{name}: {caught.value}"
        assert _files(tmp_path) == before, f"{name} left files behind"
    cli_cases = _cli_cases(tmp_path)
    for name, argv, fragment in cli_cases:
        out = tmp_path/'run'
        assert main(['train', '--data', 'digits', '--out', str(out), *argv]) == 2, name
        err = capsys.readouterr().err
        assert fragment in err and err.count('\n') == 1, f"{name}: {err}"
        assert not out.exists(), f"{name} created the output folder"
    out_cases = _out_cases(tmp_path)
    for name, out, fragment in out_cases:
        before = _contents(tmp_path)
        with FolderClaim(tmp_path/'in_use'): code = main(['train', '--data', 'digits', '--out', str(out)])
        err = capsys.readouterr().err
        assert code == 2 and fragment in err and err.count('\n') == 1, f"{name}: {err}"
        assert _contents(tmp_path) == before and not (tmp_path/'in_use'/'.gan-course.lock').exists(), f"{name} changed files"
    assert main(['train', '--data', 'digits', '--model', 'dcgan', '--epochs', '1', '--out', str(tmp_path/'dcgan_run')]) == 0
    capsys.readouterr()
    resume_cases = _resume_cases(tmp_path, finished_run)
    copies = {name: _contents(tmp_path/name) for name in ('no_checkpoint', 'pickled', 'bad_json', 'first_epoch', 'no_metrics', 'json_list', 'json_type', 'other_model', 'damaged')}
    for name, argv, fragment in resume_cases:
        assert main(['train', *argv]) == 2, name
        err = capsys.readouterr().err
        assert fragment in err and err.count('\n') == 1, f"{name}: {err}"
        assert _contents(finished_run) == run_files and not (tmp_path/'elsewhere').exists(), f"{name} changed files"
        assert all(_contents(tmp_path/n) == c for n, c in copies.items()), f"{name} changed a copied run folder"
    assert not (tmp_path/'pwned').exists()
    n = len(cases) + len(cli_cases) + len(out_cases) + len(resume_cases)
    with capsys.disabled(): print(f"\nbad-input catalogue: {n} cases, each a clear error and no file left behind")
    assert n >= 80
