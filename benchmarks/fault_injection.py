"""Kill `gan-course train` at random moments and in the middle of its saves, then resume it: is every run the run never stopped?

Usage: python benchmarks/fault_injection.py [--trials 24] [--seed 0] [--epochs 4] [--out benchmarks/fault_injection.json]

One uninterrupted run (the MLP GAN on scikit-learn's 1,797 digits, 4 epochs of 56 batches by default) is the reference. Each trial
starts the same command in a fresh folder and stops it with SIGKILL, SIGTERM or SIGINT (taking turns), either at a random
moment of the run, or at the first save in progress after a random moment (a hidden `.tmp` file beside a result; for
these trials the run's disk is made slow, each `fsync` taking 20 ms more, so that a save lasts long enough to be seen on
a fast disk); a run that ends before its signal is drawn again, up to `--redraws` times in all. Then it does what the
command's message says, until the run is complete: `--resume` when the folder holds a checkpoint, else the same command
again. A trial passes when the finished folder holds exactly the reference's files, its checkpoint (networks, optimizers,
random states, history) and generator equal to the reference's bit for bit, and nothing else: no temporary file, no lock.
"""
import argparse, csv, json, random, signal, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from gan_course.reliability import read_checkpoint

SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)

SLOW_DISK = ("import os, sys, time; fsync = os.fsync; os.fsync = lambda fd: (time.sleep(0.02), fsync(fd))[1]; "
             "from gan_course.__main__ import main; sys.exit(main())")

def command(out:Path, epochs:int, slow_disk=False) -> list:
    "The run every trial repeats (with `slow_disk`, through a Python whose `os.fsync` takes 20 ms longer)."
    program = [sys.executable, '-c', SLOW_DISK] if slow_disk else ['gan-course']
    return program + ['train', '--data', 'digits', '--model', 'mlp', '--bs', '32', '--epochs', str(epochs), '--seed', '0', '--out', str(out)]

def files_of(run:Path) -> list: return sorted(str(p.relative_to(run)) for p in run.rglob('*'))

def differences(a:Path, b:Path) -> list:
    "What differs between two finished run folders: their files, checkpoints, generators, sample grids, metrics (the seconds column aside)."
    (ta, ma), (tb, mb) = read_checkpoint(a/'checkpoint.safetensors'), read_checkpoint(b/'checkpoint.safetensors')
    rows = lambda run: [r[:-1] for r in csv.reader((run/'metrics.csv').open())]
    found = [f'file {f}' for f in sorted(set(files_of(a)) ^ set(files_of(b)))]
    found += [f'checkpoint header {k}' for k in ma if ma[k] != mb.get(k)] + [f'checkpoint tensor {k}' for k in ta if k not in tb or not torch.equal(ta[k], tb[k])]
    found += ['generator.safetensors'] * ((a/'generator.safetensors').read_bytes() != (b/'generator.safetensors').read_bytes())
    found += ['metrics.csv'] * (rows(a) != rows(b))
    return found + [f'samples/{p.name}' for p in (b/'samples').iterdir() if (a/'samples'/p.name).read_bytes() != p.read_bytes()]

def saving(run:Path) -> bool: return run.exists() and any(p.name.endswith('.tmp') for p in run.rglob('.*'))

def stop(run:Path, epochs:int, signum:int, at:float, during_save:bool) -> tuple:
    "Start the command in `run` and send it `signum` after `at` seconds (with `during_save`, at the first save in progress after that); its exit code, when, and its last line."
    process, start = subprocess.Popen(command(run, epochs, slow_disk=during_save), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), time.perf_counter()
    while process.poll() is None:
        if time.perf_counter() - start >= at and (not during_save or saving(run)): process.send_signal(signum); break
        time.sleep(0.0005)
    when = time.perf_counter() - start
    _, err = process.communicate()
    return process.returncode, round(when, 2), err.strip().splitlines()[-1:] 

def finish(run:Path, epochs:int) -> int:
    "Do what the stopped command advised until the run is complete (its checkpoint at the last epoch); how many commands that took."
    for commands in range(4):
        checkpoint = run/'checkpoint.safetensors'
        if checkpoint.is_file() and read_checkpoint(checkpoint)[1]['epoch'] == epochs: return commands
        subprocess.run(['gan-course', 'train', '--resume', str(run)] if checkpoint.is_file() else command(run, epochs), capture_output=True)
    raise RuntimeError(f"{run} did not finish in 3 commands")

def trial(run:Path, reference:Path, epochs:int, signum:int, at:float, during_save:bool) -> dict:
    "Stop one run in `run`, finish it, and compare it with the reference."
    code, when, said = stop(run, epochs, signum, at, during_save)
    commands = finish(run, epochs)
    return dict(signal=signal.Signals(signum).name, when='during a save' if during_save else 'random', stopped_at_s=when, exit=code,
                said=[line.replace(str(run), 'RUN') for line in said], commands_to_finish=commands, differences=differences(reference, run)[:5])

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--trials', type=int, default=24); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--epochs', type=int, default=4, help='the length of the run')
    p.add_argument('--redraws', type=int, default=20, help='how many runs may end before their signal, in all')
    p.add_argument('--out', default='benchmarks/fault_injection.json')
    args = p.parse_args(argv)
    folder = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    assert subprocess.run(command(folder/'reference', args.epochs), capture_output=True).returncode == 0
    duration = time.perf_counter() - start
    rng, results, finished_first = random.Random(args.seed), [], 0
    while len(results) < args.trials: # a run that ends before its signal tested nothing: it is drawn again
        i = len(results)
        result = trial(folder/f'run{i + finished_first:02d}', folder/'reference', args.epochs, SIGNALS[i % 3], rng.uniform(0, duration), i % 2 == 0)
        if result['exit'] == 0: finished_first += 1
        if finished_first > args.redraws: sys.exit(f"{finished_first} runs ended before their signal: the signals came too late (raise --redraws, or look at how saves are detected)")
        else: results.append({'trial': i, **result})
    for r in results: print(r)
    passed = sum(not r['differences'] for r in results)
    summary = dict(trials=len(results), passed=passed, reference_seconds=round(duration, 1), finished_before_the_signal=finished_first, results=results)
    Path(args.out).write_text(json.dumps(summary, indent=1))
    print(f"{passed} of {len(results)} stopped runs finished identical to the uninterrupted one, with no stray file (reference run {duration:.1f} s)")
    return 0 if passed == len(results) else 1

if __name__ == '__main__': sys.exit(main())
