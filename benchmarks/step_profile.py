"""Where the time of a training step goes: Python's profiler over one pass of gan_learner (or the bare loop) through the images.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/step_profile.py [--device cuda] [--bs 128] [--batches 200] [--bare] [--top 25]

On a GPU a small DCGAN is launch-bound: the host queues kernels faster than the GPU runs them only if the Python
between them is short, so the functions with the most own time here are the step's real cost. The profiler slows
Python down, so read the shares, not the absolute times. The last line is the number of CUDA kernels launched per
(D step + G step) pair, counted by torch.profiler (CUDA only; copies and fills count as kernels too).
"""
import argparse, cProfile, io, pstats, warnings
warnings.filterwarnings('ignore')
import torch
from gan_course.data import gan_dataloaders
from train_speed import networks, bare_timer, learner_timer, ours, mnist_images


def kernels_per_pair(run, n_pairs):
    "CUDA kernels launched by `run`, per pair."
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof: run()
    return sum(e.count for e in prof.key_averages() if e.device_type == torch.autograd.DeviceType.CUDA) / n_pairs


def main(device=None, bs=128, batches=200, bare=False, top=25):
    device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    ds = mnist_images(bs * batches)
    run = (bare_timer(*networks(device), ds, bs, device) if bare else # each a warmed-up pass over ds, batching included
           learner_timer(ours(ds[:bs * 3], bs, device), gan_dataloaders(ds, bs=bs, device=device)))
    profile = cProfile.Profile(); profile.enable(); run(); profile.disable()
    out = io.StringIO(); pstats.Stats(profile, stream=out).sort_stats('tottime').print_stats(top)
    print(f"{'bare loop' if bare else 'gan_learner'}, {batches} batches of {bs} on {device}\n" + out.getvalue())
    if device.type == 'cuda': print(f'CUDA kernels per (D+G) pair: {kernels_per_pair(run, batches):.0f}')


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default=None); p.add_argument('--bs', type=int, default=128)
    p.add_argument('--batches', type=int, default=200); p.add_argument('--bare', action='store_true')
    p.add_argument('--top', type=int, default=25)
    main(**vars(p.parse_args()))
