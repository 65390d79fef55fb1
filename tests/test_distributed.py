"`gan-course train` on two CPU processes under torchrun (gloo): one run folder, a generator that loads anywhere, a resume bit for bit, and a killed process."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file

from gan_course.cli import main
from gan_course.reliability import read_checkpoint
from gan_course.sampling import load_generator, generate

TORCHRUN = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node']
pytestmark = pytest.mark.skipif(not Path('/proc/self/environ').exists(), reason="finds torchrun's processes through /proc (Linux)")


def torchrun(n, *args, cwd, command=('-m', 'gan_course'), **kwargs):
    "Start `gan-course` (as `python -m gan_course`, or another `command`) on `n` processes with torchrun, in `cwd`."
    return subprocess.Popen([*TORCHRUN, str(n), *command, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def finished(process, timeout=300):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def messages(err:str) -> list:
    "The lines gan-course itself wrote to stderr (torchrun's own logging left out)."
    return [line for line in err.splitlines() if line.startswith(('gan-course:', 'gan-course (process'))]


def networks(path:Path) -> dict:
    return {k: v for k, v in load_file(str(path)).items() if k.split('.')[0] in ('generator', 'discriminator', 'averaged')}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "Two 2-process runs on the digits: `straight` trains 2 epochs; `resumed` trains 1, stops, and resumes to 2."
    folder = tmp_path_factory.mktemp('runs')
    straight = finished(torchrun(2, 'train', '--data', 'digits', '--epochs', '2', '--out', 'straight', cwd=folder))
    listing = sorted(p.name for p in folder.iterdir())
    first = finished(torchrun(2, 'train', '--data', 'digits', '--epochs', '1', '--out', 'resumed', cwd=folder))
    second = finished(torchrun(2, 'train', '--resume', 'resumed', '--epochs', '2', cwd=folder))
    return folder, listing, straight, first, second


def test_two_processes_write_one_run_folder(runs):
    folder, listing, (rc, out, err), *_ = runs
    assert rc == 0, err
    assert listing == ['straight'] # nothing else written by the other process
    run = folder/'straight'
    assert sorted(p.name for p in run.iterdir()) == ['checkpoint.safetensors', 'generator.safetensors', 'losses.png', 'metrics.csv', 'run.json', 'samples', 'training.gif']
    assert json.loads((run/'run.json').read_text())['processes'] == 2
    assert out.count('training --model dcgan') == 1 and '2 processes on cpu (batch 64 each, 128 in all)' in out # process 0 alone prints
    assert out.count('g_loss') == 1 # one epoch table
    assert len((run/'metrics.csv').read_text().splitlines()) == 3
    generator = load_generator(run/'generator.safetensors') # in this one process
    assert generator.config['kind'] == 'dcgan' and generate(generator, 4).shape == (4, 1, 28, 28)
    assert not list(run.rglob('*.tmp'))


def test_a_two_process_resume_continues_bit_for_bit(runs):
    folder, _, straight, first, second = runs
    for rc, _, err in (first, second): assert rc == 0, err
    assert 'resuming' in second[1]
    unbroken, resumed = networks(folder/'straight'/'checkpoint.safetensors'), networks(folder/'resumed'/'checkpoint.safetensors')
    assert unbroken.keys() == resumed.keys() and len(unbroken) > 20
    assert all(torch.equal(unbroken[k], resumed[k]) for k in unbroken)
    tensors, meta = read_checkpoint(folder/'resumed'/'checkpoint.safetensors')
    assert meta['epoch'] == 2 and 'process1.rng.torch' in tensors and len(meta['rng']['processes']) == 1


def test_a_resume_on_another_number_of_processes_is_refused_once(runs, capsys):
    folder = runs[0]
    rc, _, err = finished(torchrun(3, 'train', '--resume', 'resumed', '--epochs', '3', cwd=folder))
    assert rc != 0
    said = messages(err)
    assert len(said) == 1 and 'trained on 2 process(es) and this is 3' in said[0] and 'torchrun --nproc_per_node 2' in said[0], err
    assert main(['train', '--resume', str(folder/'resumed'), '--epochs', '3']) == 2 # one process, without torchrun
    assert 'trained on 2 process(es) and this is 1' in capsys.readouterr().err


def test_sync_batch_norm_needs_several_processes(tmp_path, capsys):
    assert main(['train', '--data', 'digits', '--epochs', '1', '--sync-batch-norm', '--out', str(tmp_path/'x')]) == 2
    assert '--sync-batch-norm applies to runs on several processes' in capsys.readouterr().err
    assert not (tmp_path/'x').exists()


def test_a_batch_must_fit_each_process_s_share(monkeypatch):
    import gan_course.cli as cli
    monkeypatch.setattr(cli, 'process_count', lambda: 2)
    with pytest.raises(cli.UsageError, match=r'--bs 1024 is larger than the dataset \(1797 images, 898 for each of the 2 processes\)'): cli._check_batch_fits(1024, 1797, False)
    cli._check_batch_fits(898, 1797, False)
    with pytest.raises(cli.UsageError): cli._check_batch_fits(899, 1797, False)


def _rank_of(pid:int):
    try: environment = Path(f'/proc/{pid}/environ').read_bytes().split(b'\0')
    except OSError: return None
    return next((int(v[5:]) for v in environment if v.startswith(b'RANK=')), None)


def _workers(marker:str) -> dict:
    "The processes of the run started with `marker` in their environment, by rank."
    found = {}
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit(): continue
        try: environment = (entry/'environ').read_bytes()
        except OSError: continue
        if f'GAN_COURSE_TEST_RUN={marker}'.encode() in environment.split(b'\0') and _rank_of(int(entry.name)) is not None:
            found[_rank_of(int(entry.name))] = int(entry.name)
    return found


def test_a_killed_process_ends_the_other_with_a_message(tmp_path):
    marker = f'{os.getpid()}-{time.time()}'
    process = torchrun(2, 'gan-course', 'train', '--data', 'digits', '--epochs', '100', '--out', 'run', cwd=tmp_path, command=('--no-python',),
                       env={**os.environ, 'GAN_COURSE_TEST_RUN': marker})
    checkpoint = tmp_path/'run'/'checkpoint.safetensors'
    deadline = time.time() + 240
    while not checkpoint.exists() and time.time() < deadline and process.poll() is None: time.sleep(0.5)
    assert checkpoint.exists(), process.communicate()[1]
    workers = _workers(marker)
    assert sorted(workers) == [0, 1]
    os.kill(workers[1], signal.SIGKILL)
    killed = time.time()
    rc, _, err = finished(process, timeout=120)
    assert time.time() - killed < 60 # bounded: not the collective's timeout
    assert rc != 0
    said = messages(err)
    assert len(said) == 1 and ('lost contact with the others' in said[0] or 'stopped by SIGTERM' in said[0]), err
    assert 'continue with: torchrun --nproc_per_node 2 -m gan_course train --resume run' in said[0]
    assert read_checkpoint(checkpoint)[1]['epoch'] >= 1 # the last complete epoch is whole
    assert not _workers(marker) # no process left behind
