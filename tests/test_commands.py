"The commands after training (`sample`, `interpolate`, `score`), the front door (`--version`, `--help`, `python -m gan_course`), and output in a pipe."
import json, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image

from gan_course.cli import main
from gan_course.sampling import load_generator, generate
from gan_course import __version__


def test_version_and_help_answer_without_importing_torch():
    quick = subprocess.run([sys.executable, '-c', 'import sys; from gan_course.__main__ import main; status = main(["--help"]); '
                            'sys.exit(status or "torch" in sys.modules or "fastai" in sys.modules)'], capture_output=True, text=True)
    assert quick.returncode == 0 and 'sample' in quick.stdout and 'score' in quick.stdout, quick.stderr
    for program in (['gan-course'], [sys.executable, '-m', 'gan_course']):
        result = subprocess.run([*program, '--version'], capture_output=True, text=True)
        assert (result.returncode, result.stdout.strip()) == (0, f'gan-course {__version__}')
    result = subprocess.run([sys.executable, '-m', 'gan_course', 'train', '--help'], capture_output=True, text=True)
    assert result.returncode == 0 and '--eval-every' in result.stdout # a command's help comes from the command line module


def _folder_of_classes(root:Path, classes=('cat', 'dog'), n=24, size=28) -> Path:
    "A labelled folder: one sub-folder of `n` random grey images per class."
    for k, name in enumerate(classes):
        (root/name).mkdir(parents=True)
        for i in range(n): Image.fromarray(np.random.default_rng(100 * k + i).integers(0, 255, (size, size), dtype=np.uint8)).save(root/name/f'{i}.png')
    return root


@pytest.fixture(scope='module')
def conditional_run(tmp_path_factory):
    "A one-epoch conditional run on a folder whose classes are cat and dog."
    root = tmp_path_factory.mktemp('conditional')
    data = _folder_of_classes(root/'pets')
    assert main(['train', '--data', str(data), '--conditional', '--bs', '8', '--epochs', '1', '--out', str(root/'run')]) == 0
    return root/'run'


def test_a_conditional_run_keeps_its_class_names(conditional_run):
    assert json.loads((conditional_run/'run.json').read_text())['classes'] == ['cat', 'dog']
    assert load_generator(conditional_run/'generator.safetensors').classes == ['cat', 'dog']


def test_sample_asks_for_a_class_by_name_or_label(conditional_run, tmp_path):
    assert main(['sample', str(conditional_run), '--class', 'dog', '--n', '4', '--out', str(tmp_path/'dogs.png')]) == 0
    assert main(['sample', str(conditional_run), '--class', '1', '--n', '4', '--out', str(tmp_path/'ones.png')]) == 0
    assert (tmp_path/'dogs.png').read_bytes() == (tmp_path/'ones.png').read_bytes()
    assert main(['sample', str(conditional_run), '--class', 'cat', '--n', '4', '--out', str(tmp_path/'cats.png')]) == 0
    assert (tmp_path/'cats.png').read_bytes() != (tmp_path/'dogs.png').read_bytes()


@pytest.mark.parametrize('wanted, message', [('cow', "--class: this generator has no class 'cow'; it knows cat, dog"),
                                             ('2', '--class: class 2 is out of range: this generator knows 2 classes, labelled 0 to 1'),
                                             ('-1', '--class: class -1 is out of range')])
def test_an_unknown_class_is_one_line_and_writes_nothing(conditional_run, tmp_path, capsys, wanted, message):
    assert main(['sample', str(conditional_run), '--class', wanted, '--out', str(tmp_path/'x.png')]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count('\n') == 1 and not (tmp_path/'x.png').exists()


def test_a_folder_of_samples_of_a_conditional_run_has_a_folder_per_class(conditional_run, tmp_path):
    assert main(['sample', str(conditional_run), '--n', '6', '--out', f'{tmp_path/"pngs"}/']) == 0
    assert sorted(p.name for p in (tmp_path/'pngs').iterdir()) == ['cat', 'dog']
    assert [len(list((tmp_path/'pngs'/c).iterdir())) for c in ('cat', 'dog')] == [3, 3]
    assert np.asarray(Image.open(tmp_path/'pngs'/'cat'/'00000.png')).shape == (28, 28) # grey, at the generator's size


def test_a_conditional_grid_without_class_has_one_row_per_class(conditional_run, tmp_path, capsys):
    assert main(['sample', str(conditional_run), '--out', str(tmp_path/'rows.png')]) == 0
    assert 'row k is class k' in capsys.readouterr().out
    assert np.asarray(Image.open(tmp_path/'rows.png')).shape[:2] == (3 * (2 * 30 + 2), 3 * (8 * 30 + 2)) # 2 rows of 8, enlarged 3 times


def test_interpolate_a_conditional_run_holds_the_class(conditional_run, tmp_path):
    assert main(['interpolate', str(conditional_run), '--class', 'dog', '--steps', '4', '--out', str(tmp_path/'walk.png')]) == 0
    assert main(['interpolate', str(conditional_run), '--steps', '4', '--out', str(tmp_path/'cat-walk.png')]) == 0 # the first class
    assert (tmp_path/'walk.png').read_bytes() != (tmp_path/'cat-walk.png').read_bytes()
    assert main(['interpolate', str(conditional_run), '--class', 'cat', '--steps', '4', '--out', str(tmp_path/'cats.png')]) == 0
    assert (tmp_path/'cats.png').read_bytes() == (tmp_path/'cat-walk.png').read_bytes() # every image of the default walk is a cat


@pytest.fixture(scope='module')
def digit_runs(tmp_path_factory):
    "Two one-epoch MLP runs on the digits: one on all of them, one on the fit part (--eval-every)."
    root = tmp_path_factory.mktemp('digits')
    for name, extra in (('all', []), ('fit', ['--eval-every', '1'])):
        assert main(['train', '--data', 'digits', '--model', 'mlp', '--epochs', '1', *extra, '--out', str(root/name)]) == 0
    (root/'flat').mkdir()
    for i in range(4): Image.fromarray(np.full((28, 28), 60 * i, np.uint8)).save(root/'flat'/f'{i}.png') # images without classes
    return root


def test_score_writes_the_scores_and_the_floor_and_cautions_about_training_data(digit_runs, tmp_path, capsys):
    assert main(['score', str(digit_runs/'all'), '--n', '300', '--json', str(tmp_path/'all.json')]) == 0
    out = capsys.readouterr().out
    assert 'FID' in out and 'x the floor' in out and 'caution: this run trained on all of digits' in out
    saved = json.loads((tmp_path/'all.json').read_text())
    assert (saved['data'], saved['n'], saved['seed']) == ('digits', 300, 0)
    assert saved['scores']['fid'] > saved['floor']['fid'] > 0 and set(saved['scores']) == set(saved['floor'])
    assert main(['score', str(digit_runs/'fit'/'generator.safetensors'), '--data', 'digits', '--n', '300']) == 0
    assert 'caution' not in capsys.readouterr().out # it trained on the fit part only


def test_score_a_folder_of_images_like_the_generator_it_came_from(digit_runs, tmp_path):
    assert main(['sample', str(digit_runs/'all'), '--n', '300', '--out', f'{tmp_path/"pngs"}/']) == 0
    assert main(['score', str(digit_runs/'all'), '--n', '300', '--json', str(tmp_path/'gen.json')]) == 0
    assert main(['score', str(tmp_path/'pngs'), '--data', 'digits', '--n', '300', '--json', str(tmp_path/'files.json')]) == 0
    fid = lambda name: json.loads((tmp_path/name).read_text())['scores']['fid']
    assert abs(fid('gen.json') - fid('files.json')) < 0.05 * fid('gen.json') # the same images, rounded to 256 levels


@pytest.mark.parametrize('args, message', [
    (['score', 'RUN', '--data', 'FLAT'], 'has unlabelled images'),
    (['score', 'RUN', '--data', 'digits', '--n', '100'], 'scoring needs more than 128 images on each side'),
    (['score', 'NOWHERE'], 'does not exist'),
    (['sample', 'RUN', '--out', 'grid.jpg'], 'name a .png file for a grid, or a folder ending in /'),
    (['sample', 'RUN', '--n', '0', '--out', 'grid.png'], '--n must be at least 1'),
    (['sample', 'RUN', '--class', '3', '--out', 'grid.png'], '--class needs a conditional generator'),
    (['sample', 'NOWHERE', '--out', 'grid.png'], 'does not exist; pass a run folder'),
    (['interpolate', 'RUN', '--steps', '1', '--out', 'walk.gif'], '--steps must be at least 2'),
    (['interpolate', 'RUN', '--out', 'walk.mp4'], 'name a .png file for a strip, or a .gif file'),
])
def test_bad_arguments_of_the_commands_after_training(digit_runs, tmp_path, capsys, args, message):
    args = [a.replace('RUN', str(digit_runs/'all')).replace('FLAT', str(digit_runs/'flat')).replace('NOWHERE', str(tmp_path/'nowhere')) for a in args]
    assert main([a if a not in ('grid.jpg', 'grid.png', 'walk.gif', 'walk.mp4') else str(tmp_path/a) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith('gan-course: error:') and err.count('\n') == 1, err
    assert [p.name for p in tmp_path.iterdir() if p.name != 'cache'] == [] # cache: the test's dataset cache (conftest)


def test_an_image_folder_in_colour_is_read_in_colour_unless_told(tmp_path, capsys):
    photos = tmp_path/'photos'; photos.mkdir()
    for i in range(16): Image.fromarray(np.random.default_rng(i).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(photos/f'{i}.png')
    assert main(['train', '--data', str(photos), '--model', 'mlp', '--bs', '8', '--epochs', '1', '--out', str(tmp_path/'colour')]) == 0
    assert 'holds colour images: reading them in colour' in capsys.readouterr().out
    assert json.loads((tmp_path/'colour'/'run.json').read_text())['channels'] == 3
    assert main(['train', '--data', str(photos), '--model', 'mlp', '--channels', '1', '--bs', '8', '--epochs', '1', '--out', str(tmp_path/'grey')]) == 0
    assert json.loads((tmp_path/'grey'/'run.json').read_text())['channels'] == 1


def test_progress_in_a_pipe_is_plain_lines(tmp_path):
    result = subprocess.run(['gan-course', 'train', '--data', 'digits', '--model', 'mlp', '--epochs', '3', '--out', str(tmp_path/'run')],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert '\r' not in result.stdout and '█' not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[1].split() == ['epoch', 'g_loss', 'd_loss', 'D(x)', 'D(G(z))', 'time']
    assert [line.split()[0] for line in lines[2:5]] == ['0', '1', '2'] and lines[5].startswith('wrote ')
    scored = subprocess.run(['gan-course', 'score', str(tmp_path/'run'), '--n', '300'], capture_output=True, text=True, timeout=600)
    assert scored.returncode == 0, scored.stderr # its scoring classifier trains first (the cache is new): no bar in a pipe either
    assert '\r' not in scored.stdout + scored.stderr and '█' not in scored.stdout + scored.stderr
    assert scored.stdout.splitlines()[0].startswith('samples (seed 0) from ')
