"`gan-course train`: the files a run writes, and bad arguments that exit 2 and write nothing."
import csv, errno, gzip, json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image

from fastai.callback.core import Callback, CancelTrainException, CancelFitException
from gan_course.cli import main, EVAL_COLUMNS, RunFiles
from gan_course.stabilising import DEFAULT_RECIPE, DCGAN_RECIPE
from gan_course.reliability import InjectNaN, InterruptAt, read_checkpoint
from gan_course.sampling import load_generator, generate
from gan_course.files import FolderClaim, atomic_save


def run_cli(*args):
    "Run the installed console script, as a user would."
    return subprocess.run(['gan-course', *args], capture_output=True, text=True, timeout=600)


def test_train_offline_writes_every_file(tmp_path):
    out = tmp_path/'x'
    result = run_cli('train', '--data', 'digits', '--epochs', '2', '--out', str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ['checkpoint.safetensors', 'generator.safetensors', 'losses.png', 'metrics.csv', 'run.json', 'samples', 'training.gif']
    with Image.open(out/'training.gif') as gif: assert gif.n_frames == 2
    assert sorted(p.name for p in (out/'samples').iterdir()) == ['epoch_001.png', 'epoch_002.png']
    grid = np.asarray(Image.open(out/'samples'/'epoch_002.png'))
    assert grid.shape == (242, 242, 3) and grid.std() > 0  # 8x8 grid of 28x28 samples, not blank
    assert Image.open(out/'losses.png').size[0] > 500
    rows = list(csv.DictReader((out/'metrics.csv').open()))
    assert [r['epoch'] for r in rows] == ['1', '2'] and list(rows[0]) == ['epoch', 'g_loss', 'd_loss', 'D(x)', 'D(G(z))', 'seconds']
    assert all(np.isfinite(float(r[k])) for r in rows for k in ('g_loss', 'd_loss', 'D(x)', 'D(G(z))'))
    assert 0 < float(rows[-1]['D(x)']) < 1
    generator = load_generator(out/'generator.safetensors')
    assert generator.config['kind'] == 'dcgan' and generate(generator, 4).shape == (4, 1, 28, 28)
    assert not list(out.rglob('*.tmp'))


def test_train_from_an_image_folder_with_the_mlp(tmp_path):
    data = tmp_path/'pics'
    for cls in ('a', 'b'):
        (data/cls).mkdir(parents=True)
        for i in range(20): Image.fromarray(np.random.default_rng(i).integers(0, 255, (40, 30), dtype=np.uint8)).save(data/cls/f'{i}.png')
    assert main(['train', '--data', str(data), '--model', 'mlp', '--size', '16', '--bs', '8', '--epochs', '1', '--out', str(tmp_path/'run')]) == 0
    generator = load_generator(tmp_path/'run'/'generator.safetensors')
    assert generate(generator, 2).shape == (2, 1, 16, 16)


def test_same_seed_same_generator_and_sample_grids(tmp_path):
    args = ['train', '--data', 'digits', '--model', 'mlp', '--epochs', '2', '--bs', '256']
    for name, seed in (('a', '3'), ('b', '3'), ('other', '4')): assert main([*args, '--seed', seed, '--out', str(tmp_path/name)]) == 0
    a, b = (load_generator(tmp_path/n/'generator.safetensors') for n in 'ab')
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    grids = lambda run: [(tmp_path/run/'samples'/f'epoch_00{i}.png').read_bytes() for i in (1, 2)]
    assert grids('a') == grids('b') and grids('a')[1] != grids('other')[1]


def test_help():
    result = run_cli('train', '--help')
    assert result.returncode == 0 and '--data' in result.stdout and '--n-d' in result.stdout


@pytest.mark.parametrize('bad, message', [
    (['--epochs', '0'], '--epochs must be at least 1'),
    (['--bs', '-4'], '--bs must be at least 1'),
    (['--n-d', '0'], '--n-d must be at least 1'),
    (['--lr', '0'], '--lr must be positive'),
    (['--smooth', '0.5'], '--smooth must be in [0, 0.5)'),
    (['--loss', 'wgan'], "invalid choice: 'wgan'"),
    (['--model', 'vae'], "invalid choice: 'vae'"),
    (['--epochs', 'ten'], "invalid int value: 'ten'"),
    (['--data', 'nowhere/at/all'], 'neither one of mnist, fashion, digits nor an existing folder'),
    (['--device', 'cuda:7'], 'no CUDA GPU is available'),
    (['--device', 'toaster'], 'is not a device'),
    (['--bs', '5000'], 'larger than the dataset (1797 images)'),
    (['--unknown-flag'], 'unrecognized arguments: --unknown-flag'),
    (['--eval-every', '-1'], '--eval-every must be 0 (never) or at least 1'),
    (['--ema', '1'], '--ema must be in [0, 1)'),
    (['--r1', '-1'], '--r1 must be 0 (none) or more'),
    (['--minutes', '-2'], '--minutes must be 0 (none) or more'),
    (['--augment', 'translation,flip'], "--augment: unknown augmentation 'flip'"),
    (['--loss', 'hinge', '--smooth', '0.1'], '--smooth applies to --loss ns or minimax'),
    (['--d-lr-mult', '0'], '--d-lr-mult must be positive'),
])
def test_bad_arguments_exit_2_on_one_line_and_write_nothing(tmp_path, capsys, bad, message):
    out = tmp_path/'never'
    assert main(['train', '--data', 'digits', '--out', str(out), *bad]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith('gan-course: error:') and err.count('\n') == 1
    assert not out.exists()


def test_a_gpu_number_this_machine_lacks_exits_2_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True); monkeypatch.setattr(torch.cuda, 'device_count', lambda: 1) # a one-GPU machine
    out = tmp_path/'never'
    assert main(['train', '--data', 'digits', '--device', 'cuda:1', '--out', str(out)]) == 2
    assert 'this machine has 1 CUDA GPU(s), numbered from 0' in capsys.readouterr().err and not out.exists()


def test_missing_out_and_command(capsys):
    assert main(['train', '--data', 'digits']) == 2 and '--out is required (or --resume DIR to continue a run)' in capsys.readouterr().err
    assert main([]) == 2


def test_existing_results_are_not_overwritten(tmp_path, capsys):
    out = tmp_path/'old'; out.mkdir(); (out/'metrics.csv').write_text('precious')
    assert main(['train', '--data', 'digits', '--out', str(out)]) == 2
    assert 'already exists and is not an empty folder' in capsys.readouterr().err
    assert (out/'metrics.csv').read_text() == 'precious' and len(list(out.iterdir())) == 1


def test_bad_data_folder_is_reported_before_writing(tmp_path, capsys):
    data = tmp_path/'idx'; data.mkdir()
    (data/'t10k-images-idx3-ubyte.gz').write_bytes(gzip.compress(bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(100)))
    (data/'t10k-labels-idx1-ubyte.gz').write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 5]) + bytes(5)))
    assert main(['train', '--data', str(data), '--out', str(tmp_path/'run')]) == 2
    assert 'truncated or corrupt' in capsys.readouterr().err and not (tmp_path/'run').exists()


def test_dcgan_needs_28_or_64_pixels(tmp_path, capsys):
    data = tmp_path/'big'; data.mkdir()
    for i in range(4): Image.fromarray(np.zeros((64, 64), np.uint8)).save(data/f'{i}.png')
    assert main(['train', '--data', str(data), '--size', '48', '--bs', '2', '--out', str(tmp_path/'run')]) == 2
    assert 'makes 28x28 or 64x64 images but the data is 48x48; use --size 28 or --size 64, or --model mlp' in capsys.readouterr().err
    assert not (tmp_path/'run').exists()


def test_colour_folder_trains_the_64x64_dcgan(tmp_path):
    data = tmp_path/'photos'; data.mkdir()
    for i in range(16): Image.fromarray(np.random.default_rng(i).integers(0, 255, (80, 60, 3), dtype=np.uint8)).save(data/f'{i}.jpg')
    out = tmp_path/'run'
    assert main(['train', '--data', str(data), '--size', '64', '--channels', '3', '--bs', '8', '--epochs', '1', '--out', str(out)]) == 0
    generator = load_generator(out/'generator.safetensors')
    assert generator.config['kind'] == 'dcgan64' and generate(generator, 2).shape == (2, 3, 64, 64)
    grid = np.asarray(Image.open(out/'samples'/'epoch_001.png'))
    assert grid.shape == (8 * 66 + 2, 8 * 66 + 2, 3) and (grid[..., 0] != grid[..., 1]).any() # an 8x8 grid of colour samples
    assert json.loads((out/'run.json').read_text())['channels'] == 3


def test_eval_every_adds_scores_to_the_metrics_file(tmp_path, capsys, monkeypatch):
    import gan_course.metrics
    devices, train_classifier = [], gan_course.metrics.train_classifier
    monkeypatch.setattr(gan_course.metrics, 'train_classifier', lambda *a, device=None, **k: devices.append(device) or train_classifier(*a, device=device, **k))
    out = tmp_path/'scored'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--epochs', '2', '--eval-every', '2', '--device', 'cpu', '--out', str(out)]) == 0
    assert devices == [torch.device('cpu')] # the scoring classifier trains where --device says, not on a GPU regardless
    printed = capsys.readouterr() # digits: 1,078 fit and 359 validation images; a one-line small-sample warning, no source path
    assert 'gan-course: warning: FID from 359 samples' in printed.err and 'metrics.py' not in printed.err
    assert 'training --model mlp on 1,078 images' in printed.out # the GAN trains on the fit part only
    rows = list(csv.DictReader((out/'metrics.csv').open()))
    assert list(rows[0])[-8:] == [*EVAL_COLUMNS, 'seconds']
    assert rows[0]['fid'] == '' and float(rows[1]['fid']) > 0 and 1 <= float(rows[1]['classifier_score']) <= 10
    assert 0 <= int(float(rows[1]['class_coverage'])) <= 10 and 0 <= float(rows[1]['precision']) <= 1


def test_eval_every_needs_labels(tmp_path, capsys):
    data = tmp_path/'flat'; data.mkdir()
    for i in range(300): Image.fromarray(np.random.default_rng(i).integers(0, 255, (28, 28), dtype=np.uint8)).save(data/f'{i}.png')
    assert main(['train', '--data', str(data), '--eval-every', '1', '--out', str(tmp_path/'run')]) == 2
    assert 'unlabelled images' in capsys.readouterr().err and not (tmp_path/'run').exists()


class GifFrames(Callback):
    "After each epoch's files are written, note how many frames training.gif has."
    order = RunFiles.order + 1
    def __init__(self, out:Path): self.out, self.frames = out, []
    def after_epoch(self):
        with Image.open(self.out/'training.gif') as gif: self.frames.append(gif.n_frames)


@pytest.mark.parametrize('plot_every, during', [(0, [1, 2, 3]), (3600, [1, 1, 3])])
def test_the_pictures_of_the_whole_run_are_rewritten_by_time_and_at_the_end(tmp_path, monkeypatch, plot_every, during):
    out, watch = tmp_path/'run', GifFrames(tmp_path/'run')
    monkeypatch.setattr(RunFiles, 'plot_every', plot_every)
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--epochs', '3', '--out', str(out)], cbs=[watch]) == 0
    assert watch.frames == during # the first epoch's pictures at once, then once plot_every seconds have passed, and the last epoch's
    with Image.open(out/'training.gif') as gif: assert gif.n_frames == 3
    assert len(list(csv.DictReader((out/'metrics.csv').open()))) == 3 # the cheap files after every epoch


class StopsInEpoch2(Callback):
    "End training in the middle of the second epoch, as `TimeBudget` does when the time is up."
    order = 100
    def after_batch(self):
        if self.training and self.epoch == 1 and self.iter == 2: raise CancelTrainException()
    def after_cancel_train(self): self.recorder.cancel_train = False
    def after_epoch(self):
        if self.epoch == 1: raise CancelFitException()


def test_the_epoch_a_time_budget_ends_writes_the_pictures_before_its_checkpoint(tmp_path, monkeypatch):
    out, watch = tmp_path/'run', GifFrames(tmp_path/'run')
    monkeypatch.setattr(RunFiles, 'plot_every', 3600)
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--epochs', '5', '--out', str(out)], cbs=[watch, StopsInEpoch2()]) == 0
    assert watch.frames == [1, 2] and len(list(csv.DictReader((out/'metrics.csv').open()))) == 2


def _kept_one_good_epoch(out):
    "The run folder holds exactly epoch 1's files, complete and loadable, and no temporary file."
    assert [r['epoch'] for r in csv.DictReader((out/'metrics.csv').open())] == ['1']
    assert sorted(p.name for p in (out/'samples').iterdir()) == ['epoch_001.png']
    generator = load_generator(out/'generator.safetensors')
    assert all(torch.isfinite(p).all() for p in generator.state_dict().values())
    assert not list(out.rglob('*.tmp'))


def test_divergence_stops_with_epoch_and_step_and_keeps_the_last_good_epoch(tmp_path, capsys):
    out = tmp_path/'nan'
    args = ['train', '--data', 'digits', '--model', 'mlp', '--epochs', '3', '--out', str(out)]
    assert main(args, cbs=[InjectNaN(epoch=2, step=4)]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'epoch 2, step 4 of 14' in err and 'lower learning rate' in err
    _kept_one_good_epoch(out)


def test_ctrl_c_keeps_the_last_complete_epoch(tmp_path, capsys):
    out = tmp_path/'stopped'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--epochs', '3', '--out', str(out)], cbs=[InterruptAt(epoch=2, step=5)]) == 130
    assert capsys.readouterr().err == f'gan-course: interrupted; {out} holds the last complete epoch; continue with: gan-course train --resume {out}\n'
    _kept_one_good_epoch(out)
    assert read_checkpoint(out/'checkpoint.safetensors')[1]['epoch'] == 1


def _same_run(a:Path, b:Path):
    "Two run folders hold identical checkpoints (networks, optimizers, random states, history), generators, grids and metrics."
    (ta, ma), (tb, mb) = read_checkpoint(a/'checkpoint.safetensors'), read_checkpoint(b/'checkpoint.safetensors')
    assert ma == mb and ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)
    assert (a/'generator.safetensors').read_bytes() == (b/'generator.safetensors').read_bytes()
    assert all((a/'samples'/p.name).read_bytes() == p.read_bytes() for p in (b/'samples').iterdir())
    without_seconds = lambda run: [r[:-1] for r in csv.reader((run/'metrics.csv').open())]
    assert without_seconds(a) == without_seconds(b)


def test_two_epochs_then_resume_to_four_is_four_straight(tmp_path):
    args = ['train', '--data', 'digits', '--model', 'dcgan', '--seed', '1', '--device', 'cpu']
    assert main([*args, '--epochs', '4', '--out', str(tmp_path/'straight')]) == 0
    assert main([*args, '--epochs', '2', '--out', str(tmp_path/'resumed')]) == 0
    assert main(['train', '--resume', str(tmp_path/'resumed'), '--epochs', '4']) == 0
    _same_run(tmp_path/'straight', tmp_path/'resumed')
    assert len(list((tmp_path/'resumed'/'samples').iterdir())) == 4
    saved = json.loads((tmp_path/'resumed'/'run.json').read_text()) # the run's own settings, and its device, not --device's default
    assert (saved['epochs'], saved['device'], saved['seed']) == (4, 'cpu', 1)


def test_ctrl_c_in_the_first_epoch_says_there_is_nothing_to_resume(tmp_path, capsys):
    out = tmp_path/'early'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--out', str(out)], cbs=[InterruptAt(epoch=1, step=3)]) == 130
    assert capsys.readouterr().err == f'gan-course: interrupted; no epoch was complete, so nothing was kept; run the same command again\n'
    assert not out.exists() # it removed what it wrote, so the same command can run again


def test_ctrl_c_then_resume_is_the_run_never_stopped(tmp_path, capsys):
    args = ['train', '--data', 'digits', '--model', 'mlp', '--epochs', '3']
    assert main([*args, '--out', str(tmp_path/'straight')]) == 0
    assert main([*args, '--out', str(tmp_path/'stopped')], cbs=[InterruptAt(epoch=3, step=2)]) == 130
    assert main(['train', '--resume', str(tmp_path/'stopped')]) == 0
    assert 'resuming' in capsys.readouterr().out
    _same_run(tmp_path/'straight', tmp_path/'stopped')


def test_conditional_dcgan_rows_are_classes(tmp_path):
    out = tmp_path/'cond'
    assert main(['train', '--data', 'digits', '--conditional', '--epochs', '1', '--out', str(out)]) == 0
    generator = load_generator(out/'generator.safetensors')
    assert generator.config['kind'] == 'conditional' and generator.n_classes == 10
    grid = np.asarray(Image.open(out/'samples'/'epoch_001.png'))
    assert grid.shape == (302, 302, 3) # 10x10 samples: row k asked for class k
    assert json.loads((out/'run.json').read_text())['conditional'] is True


def test_conditional_needs_labels_and_the_dcgan(tmp_path, capsys):
    flat = tmp_path/'flat'; flat.mkdir()
    for i in range(200): Image.fromarray(np.random.default_rng(i).integers(0, 255, (28, 28), dtype=np.uint8)).save(flat/f'{i}.png')
    assert main(['train', '--data', str(flat), '--conditional', '--out', str(tmp_path/'a')]) == 2
    assert '--conditional needs labelled images' in capsys.readouterr().err
    assert main(['train', '--data', 'digits', '--conditional', '--model', 'mlp', '--out', str(tmp_path/'b')]) == 2
    assert 'leave out --model mlp' in capsys.readouterr().err
    for cls in ('x', 'y'):
        (tmp_path/'big'/cls).mkdir(parents=True)
        Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path/'big'/cls/'0.png')
    assert main(['train', '--data', str(tmp_path/'big'), '--size', '64', '--conditional', '--out', str(tmp_path/'c')]) == 2
    err = capsys.readouterr().err
    assert '--model dcgan --conditional makes 28x28 images but the data is 64x64; use --size 28 (see gan-course train --help)' in err and 'mlp' not in err
    assert not any((tmp_path/d).exists() for d in 'abc')


def test_minutes_ends_the_epoch_in_progress_with_its_files_and_resumes(tmp_path):
    out = tmp_path/'timed'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--bs', '32', '--epochs', '3', '--minutes', '0.005', '--out', str(out)]) == 0
    rows = list(csv.DictReader((out/'metrics.csv').open()))
    assert len(rows) == 1 and (out/'samples'/'epoch_001.png').is_file() # stopped within the first of 3 epochs, which was written as complete
    assert all(np.isfinite(float(rows[0][k])) for k in ('g_loss', 'd_loss', 'D(x)', 'D(G(z))')) # with its statistics
    assert read_checkpoint(out/'checkpoint.safetensors')[1]['epoch'] == 1
    assert main(['train', '--resume', str(out), '--minutes', '0.005']) == 0
    assert len(list(csv.DictReader((out/'metrics.csv').open()))) == 2
    assert json.loads((out/'run.json').read_text())['minutes'] == 0.005


def test_the_default_recipe_saves_the_averaged_generator(tmp_path):
    out = tmp_path/'default'
    assert main(['train', '--data', 'digits', '--epochs', '1', '--out', str(out)]) == 0
    settings = json.loads((out/'run.json').read_text())
    assert {k: settings[k] for k in DCGAN_RECIPE} == DCGAN_RECIPE # --model auto's network for the 1,797 digits: the DCGAN
    saved, tensors = load_generator(out/'generator.safetensors').state_dict(), read_checkpoint(out/'checkpoint.safetensors')[0]
    for key, value in saved.items():
        assert torch.equal(value, tensors[f'averaged.generator.{key}'])
    assert not all(torch.equal(value, tensors[f'generator.{key}']) for key, value in saved.items())


def test_each_network_gets_its_raced_recipe(tmp_path):
    from gan_course.cli import _parser, _new_run, OTHER_NETWORKS
    def settings(*argv): return vars(_new_run(_parser().parse_args(['train', '--data', 'digits', '--out', str(tmp_path/'run'), *argv])))
    assert (settings()['model'], settings()['bs']) == ('auto', None) # chosen once the data is loaded
    assert {k: settings('--model', 'dcgan')[k] for k in DCGAN_RECIPE} == DCGAN_RECIPE
    assert {k: settings('--model', 'mlp')[k] for k in DEFAULT_RECIPE} == DEFAULT_RECIPE
    for argv in (['--model', 'dcgan', '--conditional'], ['--model', 'dcgan', '--size', '64'], ['--model', 'mlp', '--size', '64']):
        assert {k: settings(*argv)[k] for k in OTHER_NETWORKS} == OTHER_NETWORKS, argv
    assert (settings('--model', 'mlp', '--bs', '32', '--ema', '0')['bs'], settings('--ema', '0')['ema']) == (32, 0)
    assert not (tmp_path/'run').exists()


@pytest.mark.parametrize('n, shape, argv, recipe', [(4_000, (1, 28, 28), [], DEFAULT_RECIPE), (3_999, (1, 28, 28), [], DCGAN_RECIPE),
                                                    (4_000, (3, 28, 28), [], DCGAN_RECIPE), (4_000, (1, 28, 28), ['--bs', '32'], {**DEFAULT_RECIPE, 'bs': 32})])
def test_model_auto_trains_the_fully_connected_gan_on_many_28x28_grey_images_only(tmp_path, capsys, n, shape, argv, recipe):
    from gan_course.cli import _parser, _new_run, _choose_model, MLP_FROM
    from gan_course.data import ImageSet
    args = _new_run(_parser().parse_args(['train', '--data', 'digits', '--out', str(tmp_path/'run'), *argv]))
    _choose_model(args, ImageSet(torch.zeros((n, *shape), dtype=torch.uint8)))
    assert {k: vars(args)[k] for k in recipe} == recipe and MLP_FROM == 4_000
    assert capsys.readouterr().out.startswith(f"--model auto: {recipe['model']} for ")


def test_model_auto_trains_the_fully_connected_gan_on_mnist(tmp_path, mnist_dir, monkeypatch, capsys):
    monkeypatch.setenv('GAN_COURSE_DATA', str(mnist_dir))
    assert main(['train', '--data', 'mnist', '--epochs', '1', '--out', str(tmp_path/'run')]) == 0
    settings = json.loads((tmp_path/'run'/'run.json').read_text())
    assert {k: settings[k] for k in DEFAULT_RECIPE} == DEFAULT_RECIPE and '--model auto: mlp for 10,000' in capsys.readouterr().out
    assert load_generator(tmp_path/'run'/'generator.safetensors').config['kind'] == 'mlp'


def test_model_auto_trains_a_conditional_dcgan(tmp_path):
    from gan_course.cli import _parser, _new_run, _choose_model, OTHER_NETWORKS
    from gan_course.data import ImageSet
    args = _new_run(_parser().parse_args(['train', '--data', 'digits', '--conditional', '--out', str(tmp_path/'run')]))
    _choose_model(args, ImageSet(torch.zeros((5_000, 1, 28, 28), dtype=torch.uint8)))
    assert args.model == 'dcgan' and {k: vars(args)[k] for k in OTHER_NETWORKS} == OTHER_NETWORKS


def test_a_run_from_before_the_stabilising_options_resumes_with_them_off(tmp_path):
    out = tmp_path/'old'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--bs', '256', '--ema', '0', '--epochs', '1', '--out', str(out)]) == 0
    settings = json.loads((out/'run.json').read_text())
    assert (settings['lr'], settings['n_g']) == (DEFAULT_RECIPE['lr'], DEFAULT_RECIPE['n_g']) # the raced recipe of the 28x28 MLP
    for key in ('d_lr_mult', 'ema', 'spectral_norm', 'r1', 'gp', 'augment', 'minutes', 'd_width'): del settings[key]
    (out/'run.json').write_text(json.dumps(settings))
    assert main(['train', '--resume', str(out), '--epochs', '2']) == 0
    assert json.loads((out/'run.json').read_text())['ema'] == 0


def _modes(run:Path) -> set: return {oct(p.stat().st_mode & 0o777) + ('/' if p.is_dir() else '') for p in [run, *run.rglob('*')]}


def test_every_file_a_run_writes_is_readable_by_others_under_umask_022(tmp_path):
    previous = os.umask(0o022)
    try: assert main(['train', '--data', 'digits', '--model', 'mlp', '--bs', '256', '--epochs', '1', '--out', str(tmp_path/'shared')]) == 0
    finally: os.umask(previous)
    assert _modes(tmp_path/'shared') == {'0o644', '0o755/'}


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path, capsys):
    busy, done = tmp_path/'busy', tmp_path/'done'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--bs', '256', '--epochs', '1', '--out', str(done)]) == 0
    capsys.readouterr()
    with FolderClaim(busy), FolderClaim(done): # as runs in progress hold them
        assert main(['train', '--data', 'digits', '--model', 'mlp', '--out', str(busy)]) == 2
        assert main(['train', '--resume', str(done), '--epochs', '2']) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and f'--out {busy} is in use by another gan-course train' in err[0] and f'--resume {done} is in use' in err[1]
    assert list(busy.iterdir()) == [] and len(list(csv.DictReader((done/'metrics.csv').open()))) == 1


def test_two_runs_started_together_into_one_new_folder_one_trains_one_is_refused(tmp_path):
    out = tmp_path/'race'
    args = ['gan-course', 'train', '--data', 'digits', '--model', 'mlp', '--bs', '256', '--epochs', '2', '--out', str(out)]
    runs = [subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) for _ in range(2)]
    codes = sorted(r.wait(timeout=600) for r in runs)
    errors = [r.stderr.read() for r in runs]
    assert codes == [0, 2], errors
    assert any('in use by another gan-course train' in e or 'already exists' in e for e in errors)
    assert len(list(csv.DictReader((out/'metrics.csv').open()))) == 2


def test_sigterm_stops_like_ctrl_c_and_the_run_resumes(tmp_path):
    out = tmp_path/'term'
    run = subprocess.Popen(['gan-course', 'train', '--data', 'digits', '--model', 'mlp', '--bs', '16', '--epochs', '30', '--out', str(out)],
                           stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    while not (out/'checkpoint.safetensors').exists() and run.poll() is None: time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=120) == 143
    assert run.stderr.read().strip().endswith(f'holds the last complete epoch; continue with: gan-course train --resume {out}')
    assert not [p for p in out.rglob('.*')] # no temporary file, no lock
    assert main(['train', '--resume', str(out), '--epochs', str(read_checkpoint(out/'checkpoint.safetensors')[1]['epoch'] + 1)]) == 0


def _full_disk_at(call:int, calls:list):
    "An `atomic_save` that, at its `call`-th use, writes part of the file and then fails as a full disk does."
    def save(path, write):
        calls.append(path)
        if len(calls) != call: return atomic_save(path, write)
        def half(f): f.write(b'part of it'); raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return atomic_save(path, half)
    return save


def test_a_full_disk_at_every_write_site_is_one_line_and_leaves_a_run_that_goes_on(tmp_path, capsys, monkeypatch):
    args = ['train', '--data', 'digits', '--model', 'mlp', '--bs', '256', '--epochs', '2']
    writers = ('gan_course.cli', 'gan_course.data', 'gan_course.sampling', 'gan_course.reliability') # data: the sample grids (save_png)
    counted = []
    for module in writers: monkeypatch.setattr(f'{module}.atomic_save', _full_disk_at(0, counted))
    assert main([*args, '--out', str(tmp_path/'counted')]) == 0
    sites = len(counted)
    assert sites >= 12, counted # run.json, then per epoch: grid, metrics, losses, generator, gif and checkpoint
    for call in range(1, sites + 1):
        out, calls = tmp_path/f'full{call}', []
        for module in writers: monkeypatch.setattr(f'{module}.atomic_save', _full_disk_at(call, calls))
        assert main([*args, '--out', str(out)]) == 1, call
        err = capsys.readouterr().err
        assert err.count('\n') == 1 and f'cannot write {calls[-1]}: no space left on device; ' in err, err
        assert not (out.exists() and [p for p in out.rglob('.*')]), f"write {call} left a temporary file"
        assert (out/'checkpoint.safetensors').exists() or not out.exists(), f"write {call} left a run with nothing to resume"
        for module in writers: monkeypatch.setattr(f'{module}.atomic_save', atomic_save)
        again = ['train', '--resume', str(out)] if (out/'checkpoint.safetensors').exists() else [*args, '--out', str(out)]
        assert ('--resume' in again) == ('continue with: gan-course train --resume' in err), err
        assert main(again) == 0, call
        capsys.readouterr()


def test_resuming_with_another_models_checkpoint_is_refused_and_changes_nothing(tmp_path, capsys):
    for name, model in (('mlp', 'mlp'), ('dcgan', 'dcgan')):
        assert main(['train', '--data', 'digits', '--model', model, '--bs', '256', '--epochs', '1', '--out', str(tmp_path/name)]) == 0
    (tmp_path/'mlp'/'checkpoint.safetensors').write_bytes((tmp_path/'dcgan'/'checkpoint.safetensors').read_bytes())
    before = {p: p.read_bytes() for p in (tmp_path/'mlp').rglob('*') if p.is_file()}
    capsys.readouterr()
    assert main(['train', '--resume', str(tmp_path/'mlp'), '--epochs', '2']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'come from different runs' in err
    assert {p: p.read_bytes() for p in (tmp_path/'mlp').rglob('*') if p.is_file()} == before


def test_a_run_killed_in_its_first_epoch_can_be_run_again_with_the_same_command(tmp_path):
    out = tmp_path/'killed'
    args = ['gan-course', 'train', '--data', 'digits', '--model', 'mlp', '--bs', '16', '--epochs', '2', '--out', str(out)]
    run = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (out/'run.json').exists() and run.poll() is None: time.sleep(0.01)
    run.send_signal(signal.SIGKILL); run.wait()
    assert not (out/'checkpoint.safetensors').exists()
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert [r['epoch'] for r in csv.DictReader((out/'metrics.csv').open())] == ['1', '2'] and not list(out.rglob('.*'))


def test_fault_injection_resumes_killed_runs_to_the_same_bytes(tmp_path):
    "Three of benchmarks/fault_injection.py's trials, one per signal: SIGKILL and SIGINT during a save, SIGTERM at a random moment."
    sys.path.insert(0, str(Path(__file__).parents[1]/'benchmarks'))
    import fault_injection
    assert fault_injection.main(['--trials', '3', '--epochs', '2', '--out', str(tmp_path/'faults.json')]) == 0


def test_a_resume_removes_what_a_killed_save_left(tmp_path):
    out = tmp_path/'left'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--bs', '256', '--epochs', '1', '--out', str(out)]) == 0
    (out/'.checkpoint.safetensors.k1ll.tmp').write_bytes(b'half a checkpoint') # as kill -9 in the middle of a save leaves
    (out/'samples'/'.epoch_002.png.k1ll.tmp').write_bytes(b'half a grid')
    assert main(['train', '--resume', str(out), '--epochs', '2']) == 0
    assert not list(out.rglob('.*'))


def test_a_run_killed_while_writing_its_first_file_can_be_run_again(tmp_path):
    out = tmp_path/'first_write'
    out.mkdir(); (out/'.run.json.k1ll.tmp').write_text('{"epo') # all that kill -9 in the middle of the first save leaves
    (out/'.gan-course.lock').touch()
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--bs', '256', '--epochs', '1', '--out', str(out)]) == 0
    assert not list(out.rglob('.*'))
