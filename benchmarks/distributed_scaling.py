"""Data-parallel scaling: images per second of `gan_learner` under `data_parallel` on 1, 2, ... processes, and the efficiency against one.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/distributed_scaling.py [--processes 1 2] [--device cpu|cuda] [--bs 64] [--epochs 3]

Each count N is one `torchrun --standalone --nproc_per_node N` of this script in worker mode: the 28x28 DCGAN of
`recipe_networks()` trains `--epochs` epochs on the offline MNIST images (or full MNIST when found), batch `--bs` per
process, so the effective batch is N times it. The first epoch is warm-up (process start, first kernels); the
throughput is the images of the other epochs over their time, read by process 0, in images of every process per second.
Efficiency at N is that throughput over N times the one-process one; "vs the first row" is the plain ratio of
throughputs. On a CPU, N processes share the same cores (torchrun gives each of several processes one thread, and one
process all the cores), so a 2-core machine measures the cost of the communication, not a speed-up: read the plain
ratio there. On a machine with N GPUs (`--device cuda`, one per process) the efficiency is the scaling a practitioner gets.
"""
import argparse, json, os, subprocess, sys, time, warnings
warnings.filterwarnings('ignore')


def worker(args):
    "One process of a torchrun: train, and print process 0's throughput as JSON."
    import torch
    from fastai.callback.core import Callback
    from gan_course.data import mnist, gan_dataloaders
    from gan_course.models import recipe_networks
    from gan_course.learner import gan_learner
    from gan_course.distributed import processes, data_parallel, is_main_process, process_count
    from contextlib import nullcontext

    class EpochTimes(Callback):
        order = 99
        def before_epoch(self): self.start = time.perf_counter()
        def after_epoch(self): self.times.append(time.perf_counter() - self.start)
        def before_fit(self): self.times = []

    with processes(args.device) as device:
        torch.manual_seed(0)
        ds = mnist()
        learn = gan_learner(gan_dataloaders(ds, bs=args.bs, device=device), *(net.to(device) for net in recipe_networks()), cbs=[timer := EpochTimes()])
        with learn.no_bar(), learn.no_logging(), data_parallel(learn) if process_count() > 1 else nullcontext(): learn.fit(args.epochs)
        steps = len(ds) // process_count() // args.bs
        images = steps * args.bs * process_count() * (args.epochs - 1)
        if is_main_process():
            print(json.dumps(dict(processes=process_count(), device=str(device.type), images_per_s=images / sum(timer.times[1:]),
                                  epoch_s=timer.times, steps_per_epoch=steps)), flush=True)


def measure(n:int, args) -> dict:
    "Run the worker on `n` processes; process 0's report."
    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(n), __file__, '--worker',
               '--device', args.device, '--bs', str(args.bs), '--epochs', str(args.epochs)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode: raise RuntimeError(f"{n} processes failed:\n{result.stderr[-3000:]}")
    return json.loads([line for line in result.stdout.splitlines() if line.startswith('{')][-1])


def table(reports:list) -> str:
    "The Markdown table of `reports`, efficiency against the first (one process)."
    base = reports[0]['images_per_s'] / reports[0]['processes']
    rows = ['| processes | images/s | vs the first row | efficiency (per process) | seconds per epoch (after the first) |', '|---|---|---|---|---|']
    for r in reports:
        later = r['epoch_s'][1:]
        rows.append(f"| {r['processes']} | {r['images_per_s']:,.0f} | {r['images_per_s'] / reports[0]['images_per_s']:.2f} | "
                    f"{r['images_per_s'] / (base * r['processes']):.2f} | {sum(later) / len(later):.2f} |")
    return '\n'.join(rows)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--processes', type=int, nargs='+', default=[1, 2])
    p.add_argument('--device', default='cpu')
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker: worker(args); sys.exit(0)
    reports = [measure(n, args) for n in args.processes]
    print(table(reports))
    print(json.dumps(reports))
