"""The learner's own cost per (D step + G step) where Python, not arithmetic, is the bottleneck: bare loop vs gan_learner on a tiny GAN.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/host_overhead.py [--device cpu|cuda] [--bs 16] [--hidden 32] [--images 3200] [--repeats 15] [--threads 1]

On a GPU a small DCGAN is launch-bound: the GPU waits for Python to queue each kernel, so what a training loop adds
around its two steps (fastai's events, metrics, checks) costs as much as the convolutions. On this project's 2-core
CPU the DCGAN's convolutions take the time and hide that (train_speed.py), but a network small enough for its
arithmetic not to matter shows it: MLPs with one hidden layer of `--hidden` units, batch size `--bs`, one thread.
Two figures, both in one process:
- ms per pair for (a) train_speed.py's bare loop, with foreach Adam as PyTorch picks on a GPU, and (b) gan_learner:
  whole passes over the images, batching included, `--repeats` times in alternating order; medians and minima.
- tensor operations per pair, counted at PyTorch's dispatcher over one pass (views, which launch nothing, and
  `.item()` reads of torch Adam's step counters, which stay on the CPU, left out). On a GPU each is a kernel launch
  or more, so this count does not depend on the machine.
"""
import argparse, collections, statistics, warnings
warnings.filterwarnings('ignore')
import torch
from gan_course.data import gan_dataloaders
from gan_course.learner import gan_learner
from gan_course.fast import CountingOps
from gan_course.models import mlp_generator, mlp_discriminator
from train_speed import bare_timer, learner_timer, mnist_images

NOT_LAUNCHES = {'aten._local_scalar_dense', # a value read into Python: torch Adam reads its step counters, which live on the CPU
                'profiler._record_function_enter_new', 'profiler._record_function_exit'} # torch.optim's profiler labels


def tiny_networks(hidden, device):
    "A generator and a discriminator with one hidden layer of `hidden` units each, seeded."
    torch.manual_seed(0)
    return mlp_generator(hidden=(hidden,)).to(device), mlp_discriminator(hidden=(hidden,)).to(device)


def timers(ds, bs, hidden, device) -> dict:
    "Functions timing one pass of `ds` through (a) the bare loop and (b) gan_learner, each warmed up."
    return {'a': bare_timer(*tiny_networks(hidden, device), ds, bs, device, foreach=True),
            'b': learner_timer(gan_learner(gan_dataloaders(ds[:bs * 3], bs=bs, device=device), *tiny_networks(hidden, device)),
                               gan_dataloaders(ds, bs=bs, device=device))}


def ops_per_pair(run, n_pairs) -> collections.Counter:
    "Tensor operations that launch work (by name) in one pass `run()`, per pair."
    with CountingOps() as counter: run()
    return collections.Counter({k: v / n_pairs for k, v in counter.work.items() if k not in NOT_LAUNCHES})


def measure(ds, bs, hidden, device, repeats) -> tuple:
    "Seconds per pass of (a) and (b), `repeats` times in alternating order, and their operations per pair."
    run, times = timers(ds, bs, hidden, device), {'a': [], 'b': []}
    for i in range(repeats):
        for k in ('ab' if i % 2 == 0 else 'ba'): times[k].append(run[k]())
    return times, {k: ops_per_pair(f, len(ds) // bs) for k, f in run.items()}


def table(times, ops, n_pairs) -> str:
    "The markdown table of ms per pair (median, min) and operations per pair, against (a)."
    med, low = ({k: 1e3 * f(t) / n_pairs for k, t in times.items()} for f in (statistics.median, min))
    names = {'a': '(a) bare PyTorch loop', 'b': '(b) gan_course `gan_learner`'}
    rows = ['| variant | ms per (D+G) pair, median | vs (a) | ms per pair, fastest pass | vs (a) | tensor operations per pair | vs (a) |', '|---|---|---|---|---|---|---|']
    for k in 'ab':
        n_ops = sum(ops[k].values())
        rows.append(f"| {names[k]} | {med[k]:.3f} | {med[k] / med['a']:.3f} | {low[k]:.3f} | {low[k] / low['a']:.3f} | {n_ops:.1f} | {n_ops - sum(ops['a'].values()):+.1f} |")
    return '\n'.join(rows)


def main(device='cpu', bs=16, hidden=32, images=3200, repeats=15, threads=1):
    device = torch.device(device)
    if device.type == 'cpu': torch.set_num_threads(threads)
    ds = mnist_images()[:images]
    times, ops = measure(ds, bs, hidden, device, repeats)
    print(f"MLP GAN, hidden width {hidden}, bs={bs}, {len(ds):,} real images ({len(ds) // bs} pairs per pass), device={device}"
          f"{'' if device.type == 'cuda' else f', torch threads={torch.get_num_threads()}'}; {repeats} passes each, alternating\n")
    print(table(times, ops, len(ds) // bs))
    extra = sorted(((ops['b'][k] - ops['a'].get(k, 0), k) for k in ops['b']), reverse=True)
    print('\noperations per pair that (b) runs and (a) does not: ' + ', '.join(f'{k} {n:+.2f}' for n, k in extra if abs(n) >= 0.5))
    print('and the other way round: ' + ', '.join(f'{k} {ops["a"][k] - ops["b"].get(k, 0):+.2f}' for k in ops['a'] if ops['a'][k] - ops['b'].get(k, 0) >= 0.5))


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu'); p.add_argument('--bs', type=int, default=16)
    p.add_argument('--hidden', type=int, default=32); p.add_argument('--images', type=int, default=3200)
    p.add_argument('--repeats', type=int, default=15); p.add_argument('--threads', type=int, default=1, help='torch threads on a CPU')
    main(**vars(p.parse_args()))
