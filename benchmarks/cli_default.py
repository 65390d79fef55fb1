"""Which network pair `gan-course train` should train by default: each one run as a user runs it, scored on images it never saw.

Usage: python benchmarks/cli_default.py [--data digits] [--minutes 1.5] [--seeds 0 1 2] [--models mlp dcgan] [--out benchmarks/cli_default_digits]

Each (model, seed) is one `gan-course train --data D --model M --minutes T` in its own process, timed from the command's
start to its end, so that everything a user waits for counts: start-up, training and the files written after each
epoch. `--eval-every` is set beyond the run's length, so the GAN trains on the fit part of D (60%, seeded random; 1,078
of the 1,797 scikit-learn digits, 6,000 of the 10,000 offline MNIST digits) and no score is taken during training;
`gan-course score` then scores each run against D's held-out part (359 digits, or 2,000 MNIST digits), beside the floor
of as many unseen validation images. OUT.json keeps every run's scores, epochs and times (written after each run); the
table is mean ± sd over seeds. The first run also trains the scoring classifier, which is cached for the rest.
"""
import argparse, csv, json, subprocess, sys, tempfile, time
from pathlib import Path
from gan_course.files import atomic_save
from time_to_quality import mean_sd

NEVER = 1_000_000 # an --eval-every no run reaches: train on the fit part, score nothing while training
SCORES = ('fid', 'precision', 'recall', 'coverage', 'confident')

def gan_course(*args) -> float:
    "Run `python -m gan_course ARGS` as a user would, fail loudly if it fails, and return its wall time in seconds."
    start = time.perf_counter()
    done = subprocess.run([sys.executable, '-m', 'gan_course', *args], capture_output=True, text=True)
    if done.returncode: raise RuntimeError(f"gan-course {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return time.perf_counter() - start

def one_run(model:str, seed:int, minutes:float, folder:Path, data='digits') -> dict:
    "Train `model` for `minutes` on the fit part of `data`, then score it against its held-out part."
    out = folder/f'{model}_{seed}'
    wall = gan_course('train', '--data', data, '--model', model, '--seed', str(seed), '--minutes', str(minutes),
                      '--eval-every', str(NEVER), '--out', str(out))
    gan_course('score', str(out), '--json', str(out/'score.json'))
    scored = json.loads((out/'score.json').read_text())
    rows = list(csv.DictReader((out/'metrics.csv').open()))
    return dict(data=data, model=model, seed=seed, wall_s=round(wall, 1), epochs=len(rows), training_s=round(sum(float(r['seconds']) for r in rows), 1),
                n=scored['n'], scores={k: scored['scores'][k] for k in SCORES}, floor={k: scored['floor'][k] for k in SCORES})

def table(runs:list) -> str:
    "A markdown table: per model, mean ± sd over seeds of FID (and as a multiple of the floor), the other scores, epochs and times."
    lines = ['| model | FID | FID / floor | ' + ' | '.join(SCORES[1:]) + ' | epochs | training s | wall s |', '|---' * (len(SCORES) + 5) + '|']
    for model in dict.fromkeys(r['model'] for r in runs):
        mine = [r for r in runs if r['model'] == model]
        cells = [mean_sd([r['scores']['fid'] for r in mine], 1), mean_sd([r['scores']['fid'] / r['floor']['fid'] for r in mine], 1),
                 *(mean_sd([r['scores'][k] for r in mine], 2) for k in SCORES[1:]), *(mean_sd([r[k] for r in mine]) for k in ('epochs', 'training_s', 'wall_s'))]
        lines.append(f"| {model} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)

def main(minutes=1.5, seeds=(0, 1, 2), models=('mlp', 'dcgan'), out='benchmarks/cli_default_digits', data='digits'):
    "Run every model with every seed, taking turns, write OUT.json and print the table."
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            for model in models:
                runs.append(one_run(model, seed, minutes, Path(folder), data))
                print(f"{model} seed {seed}: FID {runs[-1]['scores']['fid']:.1f} (floor {runs[-1]['floor']['fid']:.1f}), "
                      f"{runs[-1]['epochs']} epochs, {runs[-1]['wall_s']} s", flush=True)
                record = json.dumps(dict(minutes=minutes, runs=runs), indent=1).encode()
                atomic_save(Path(f'{out}.json'), lambda f: f.write(record)) # after every run: nothing lost to a stop
    print(table(runs))
    return runs

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--minutes', type=float, default=1.5)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--models', nargs='+', default=['mlp', 'dcgan'], choices=['mlp', 'dcgan'])
    p.add_argument('--data', default='digits', help='a labelled dataset gan-course knows: digits, mnist (offline: GAN_COURSE_DATA), fashion')
    p.add_argument('--out', default='benchmarks/cli_default_digits')
    a = p.parse_args()
    main(a.minutes, tuple(a.seeds), tuple(a.models), a.out, a.data)
