"""Peak memory of `gan-course train` on MNIST, beside a process that only imports the package and loads the data.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/cli_memory.py [--model dcgan] [--epochs 1] [--bs 128]

Each runs in a fresh child process (the console script's own `main`, then the baseline) and reports its own peak
resident memory (`ru_maxrss`) when it ends, so both figures come from the same machine and moment.
"""
import argparse, subprocess, sys, tempfile, time

REPORT = "; import resource, sys; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"


def peak_mb(code:str) -> tuple:
    "Run Python `code` in a fresh process; return (its peak RSS in MB, seconds)."
    start = time.perf_counter()
    done = subprocess.run([sys.executable, '-c', code + REPORT], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(done.stderr.split()[-1]) / 1024, time.perf_counter() - start


def main(model='dcgan', epochs=1, bs=128):
    with tempfile.TemporaryDirectory() as out:
        args = ['train', '--data', 'mnist', '--model', model, '--epochs', str(epochs), '--bs', str(bs), '--out', f'{out}/run']
        train_mb, train_s = peak_mb(f"from gan_course.cli import main; assert main({args!r}) == 0")
    base_mb, base_s = peak_mb("import gan_course.cli; from gan_course.data import mnist; mnist()")
    print(f"gan-course {' '.join(args[:-2])} (CPU)\n")
    print('| process | seconds | peak RSS (MB) | vs baseline |\n|---|---|---|---|')
    print(f"| baseline: import gan_course.cli, load MNIST | {base_s:.0f} | {base_mb:,.0f} | 1.00 |")
    print(f"| gan-course train | {train_s:.0f} | {train_mb:,.0f} | {train_mb / base_mb:.2f} |")


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', default='dcgan'); p.add_argument('--epochs', type=int, default=1); p.add_argument('--bs', type=int, default=128)
    main(**vars(p.parse_args()))
