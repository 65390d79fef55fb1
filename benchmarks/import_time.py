"""Start-up times: `gan-course --help`, `--version`, `train --help` and the package's imports, each in fresh Python processes,
for this tree and for a baseline commit checked out beside it, in the same command (median of --repeats runs; ratios
are this tree's time over the baseline's). Also says whether each import pulls in ipywidgets, torch and fastai.

Usage: python benchmarks/import_time.py [--baseline COMMIT] [--repeats 5] [--json FILE]"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {'gan-course --help': ['--help'], 'gan-course --version': ['--version'], 'gan-course train --help': ['train', '--help'],
         'import gan_course.sampling': 'gan_course.sampling', 'import gan_course.learner': 'gan_course.learner', 'import gan_course.cli': 'gan_course.cli'}
HEAVY = ('torch', 'fastai', 'ipywidgets', 'matplotlib')


def console_script(tree:Path) -> tuple:
    "The module and function that tree's `gan-course` console script runs, from its pyproject.toml."
    module, function = re.search(r'^gan-course = "([\w.]+):(\w+)"', (tree/'pyproject.toml').read_text(), re.M).groups()
    return module, function


def program(tree:Path, case) -> str:
    "Python code doing `case` with the package of `tree`, then printing which heavy packages it imported."
    if isinstance(case, str): work = f"import {case}"
    else:
        module, function = console_script(tree)
        work = f"from {module} import {function}\ntry: status = {function}({case!r})\nexcept SystemExit as e: status = e.code"
    status = '' if isinstance(case, str) else '\nsys.exit(status or 0)' # an option the baseline lacks exits 2: n/a
    return f"import sys\n{work}\nprint('IMPORTED', ','.join(m for m in {HEAVY!r} if m in sys.modules)){status}"


def timed(tree:Path, case) -> tuple:
    "Seconds to run `case` in a fresh process with `tree`'s package first on the path, and the heavy packages it imported."
    env = {**os.environ, 'PYTHONPATH': str(tree)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, '-c', program(tree, case)], env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    seconds = time.perf_counter() - start
    imported = [line[len('IMPORTED '):] for line in result.stdout.splitlines() if line.startswith('IMPORTED ')]
    if result.returncode != 0 or not imported: return None, [] # e.g. an option the baseline lacks
    return seconds, [m for m in imported[-1].split(',') if m]


def measure(tree:Path, repeats:int) -> dict:
    "For each case: the median seconds over `repeats` runs (None if it fails there) and the heavy packages imported."
    results = {}
    for name, case in CASES.items():
        runs = [timed(tree, case) for _ in range(repeats)]
        ok = [s for s, _ in runs if s is not None]
        results[name] = dict(seconds=statistics.median(ok) if len(ok) == repeats else None, imports=runs[-1][1])
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--baseline', default='5486da7', help='the commit to compare with (default: the last before the front door)')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--json', help='write the figures to this file')
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)/'baseline'
        subprocess.run(['git', '-C', str(ROOT), 'worktree', 'add', '--detach', str(base), args.baseline], check=True, capture_output=True)
        try: figures = {'this tree': measure(ROOT, args.repeats), f'baseline {args.baseline}': measure(base, args.repeats)}
        finally: subprocess.run(['git', '-C', str(ROOT), 'worktree', 'remove', '--force', str(base)], check=True)
    now, before = figures.values()
    print(f"{'':28}{'baseline':>10}{'this tree':>11}{'ratio':>8}   imports (this tree; baseline)")
    for name in CASES:
        b, t = before[name]['seconds'], now[name]['seconds']
        cell = lambda s: f"{s:9.2f}s" if s is not None else f"{'n/a':>10}"
        ratio = f"{t / b:8.2f}" if b and t else f"{'':8}"
        print(f"{name:28}{cell(b)}{cell(t):>11}{ratio}   {'+'.join(now[name]['imports']) or 'none'}; {'+'.join(before[name]['imports']) or 'none'}")
    if args.json: Path(args.json).write_text(json.dumps(dict(figures, repeats=args.repeats, python=sys.version.split()[0]), indent=2) + '\n')


if __name__ == '__main__': main()
