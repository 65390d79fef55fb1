"`gan-course train`: the files a run writes, and bad arguments that exit 2 and write nothing."
import csv, gzip, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image

from gan_course.cli import main
from fastai.callback.core import Callback
from gan_course.reliability import InjectNaN
from gan_course.sampling import load_generator, generate


def run_cli(*args):
    "Run the installed console script, as a user would."
    return subprocess.run(['gan-course', *args], capture_output=True, text=True, timeout=600)


def test_train_offline_writes_every_file(tmp_path):
    out = tmp_path/'x'
    result = run_cli('train', '--data', 'digits', '--epochs', '2', '--out', str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ['generator.safetensors', 'losses.png', 'metrics.csv', 'run.json', 'samples', 'training.gif']
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


def test_same_seed_same_generator(tmp_path):
    args = ['train', '--data', 'digits', '--model', 'mlp', '--epochs', '1', '--bs', '256', '--seed', '3']
    for name in ('a', 'b'): assert main([*args, '--out', str(tmp_path/name)]) == 0
    a, b = (load_generator(tmp_path/n/'generator.safetensors') for n in 'ab')
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


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
])
def test_bad_arguments_exit_2_on_one_line_and_write_nothing(tmp_path, capsys, bad, message):
    out = tmp_path/'never'
    assert main(['train', '--data', 'digits', '--out', str(out), *bad]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith('gan-course: error:') and err.count('\n') == 1
    assert not out.exists()


def test_missing_out_and_command(capsys):
    assert main(['train', '--data', 'digits']) == 2 and 'the following arguments are required: --out' in capsys.readouterr().err
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


def test_dcgan_needs_28_pixels(tmp_path, capsys):
    data = tmp_path/'big'; data.mkdir()
    for i in range(4): Image.fromarray(np.zeros((64, 64), np.uint8)).save(data/f'{i}.png')
    assert main(['train', '--data', str(data), '--size', '64', '--bs', '2', '--out', str(tmp_path/'run')]) == 2
    assert 'makes 28x28 images but the data is 64x64' in capsys.readouterr().err and not (tmp_path/'run').exists()


def test_eval_every_adds_scores_to_the_metrics_file(tmp_path, capsys):
    out = tmp_path/'scored'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--epochs', '2', '--eval-every', '2', '--out', str(out)]) == 0
    err = capsys.readouterr().err # digits hold out 360 images: a one-line small-sample warning, no source path
    assert 'gan-course: warning: FID from 360 samples' in err and 'metrics.py' not in err
    rows = list(csv.DictReader((out/'metrics.csv').open()))
    assert list(rows[0])[-5:] == ['fid', 'classifier_score', 'confident', 'coverage', 'seconds']
    assert rows[0]['fid'] == '' and float(rows[1]['fid']) > 0 and 1 <= float(rows[1]['classifier_score']) <= 10
    assert 0 <= int(float(rows[1]['coverage'])) <= 10


def test_eval_every_needs_labels(tmp_path, capsys):
    data = tmp_path/'flat'; data.mkdir()
    for i in range(300): Image.fromarray(np.random.default_rng(i).integers(0, 255, (28, 28), dtype=np.uint8)).save(data/f'{i}.png')
    assert main(['train', '--data', str(data), '--eval-every', '1', '--out', str(tmp_path/'run')]) == 2
    assert 'unlabelled images' in capsys.readouterr().err and not (tmp_path/'run').exists()


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


class Interrupt(Callback):
    "Raise KeyboardInterrupt (as Ctrl-C does) before step 5 of epoch 2."
    def before_batch(self):
        if self.training and (self.epoch, self.iter) == (1, 4): raise KeyboardInterrupt()


def test_ctrl_c_keeps_the_last_complete_epoch(tmp_path, capsys):
    out = tmp_path/'stopped'
    assert main(['train', '--data', 'digits', '--model', 'mlp', '--epochs', '3', '--out', str(out)], cbs=[Interrupt()]) == 130
    assert capsys.readouterr().err == 'gan-course: interrupted; the files in --out are those of the last complete epoch.\n'
    _kept_one_good_epoch(out)
