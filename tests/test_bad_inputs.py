"""A catalogue of bad inputs to the API, to weight files and to `gan-course train`: each raises (or exits with) a clear
error whose type and message are checked, and leaves no file behind, whole or partial, and no run folder changed.

The command-line argument cases of `tests/test_cli.py` and the data-file cases of `tests/test_data.py` add to these."""
import json, pickle, shutil, torch, torch.nn as nn
import numpy as np, pytest
from PIL import Image
from safetensors.torch import save_file

from gan_course.cli import main
from gan_course.data import ImageSet, digits
from gan_course.losses import discriminator_loss, generator_loss
from gan_course.models import mlp_generator, mlp_discriminator, dcgan_generator, dcgan_discriminator
from gan_course.learner import gan_learner
from gan_course.data import gan_dataloaders
from types import SimpleNamespace
from gan_course.metrics import feature_stats, GANEvaluation, split_for_scoring, scorer_for, _model_input
from gan_course.sampling import save_generator, load_generator, interpolate, training_gif
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


def _api_cases(tmp, dls, run):
    "(name, call, exception type, message fragment) for the Python API and for weight files."
    good = tmp/'g.safetensors'
    save_generator(mlp_generator(), good)
    save_file({'w': torch.zeros(2)}, str(tmp/'no_config.safetensors'))
    (tmp/'truncated.safetensors').write_bytes(good.read_bytes()[:100])
    _pickle_that_writes(tmp/'evil.safetensors', tmp/'pwned')
    (tmp/'notes.txt').write_text('not weights')
    G, D = mlp_generator(), mlp_discriminator()
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
    ]


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
    return [
        ('resume: no such folder', ['--resume', str(tmp/'nowhere')], 'there is no run.json there'),
        ('resume: no checkpoint', ['--resume', str(tmp/'no_checkpoint')], 'there is no checkpoint.safetensors there'),
        ('resume: a pickled checkpoint', ['--resume', str(tmp/'pickled')], 'never unpickles weights'),
        ('resume: run.json cut short', ['--resume', str(tmp/'bad_json')], 'run.json is not valid JSON'),
        ('resume: no more epochs to train', ['--resume', str(run)], 'its checkpoint is at epoch 1 of 1 already'),
        ('resume: a setting that would change the run', ['--resume', str(run), '--epochs', '2', '--lr', '0.1'], 'not --lr'),
        ('resume: with --out as well', ['--resume', str(run), '--epochs', '2', '--out', str(tmp/'elsewhere')], 'not --out'),
        ('new run: neither --out nor --resume', ['--data', 'digits'], '--out is required (or --resume DIR'),
    ]


def _cli_cases(tmp):
    "(name, argv, message fragment) for `gan-course train` beyond the argument checks of test_cli.py."
    (tmp/'broken').mkdir()
    for i in range(3): Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp/'broken'/f'{i}.png')
    (tmp/'broken'/'3.png').write_bytes(b'not a png')
    (tmp/'a_file.png').write_bytes(b'x')
    return [
        ('cli: a corrupt image in --data', ['--data', str(tmp/'broken')], 'could not be read as an image'),
        ('cli: --data is a file', ['--data', str(tmp/'a_file.png')], 'is a file; pass the folder'),
        ('cli: --size 0', ['--size', '0'], '--size must be at least 1'),
        ('cli: --lr nan', ['--lr', 'nan'], '--lr must be positive'),
        ('cli: --channels 3 with a built-in dataset', ['--channels', '3'], '--size and --channels apply to a folder of images'),
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
    resume_cases = _resume_cases(tmp_path, finished_run)
    copies = {name: _contents(tmp_path/name) for name in ('no_checkpoint', 'pickled', 'bad_json')}
    for name, argv, fragment in resume_cases:
        assert main(['train', *argv]) == 2, name
        err = capsys.readouterr().err
        assert fragment in err and err.count('\n') == 1, f"{name}: {err}"
        assert _contents(finished_run) == run_files and not (tmp_path/'elsewhere').exists(), f"{name} changed files"
        assert all(_contents(tmp_path/n) == c for n, c in copies.items()), f"{name} changed a copied run folder"
    assert not (tmp_path/'pwned').exists()
    n = len(cases) + len(cli_cases) + len(resume_cases)
    with capsys.disabled(): print(f"\nbad-input catalogue: {n} cases, each a clear error and no file left behind")
    assert n >= 25
