"""Optional speed-ups, measured before any becomes a default: bf16 autocast, channels-last, torch.compile and PyTorch's Adam, for the bare loop and gan_learner.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/train_options.py [--device cuda] [--bs 128] [--steps 50] [--repeats 3] [--images 60000] [--no-compile] [--compile-backend inductor]

The same DCGAN, batch size and algorithm as train_speed.py. Each variant changes one or two things:
- bf16: both steps under torch.autocast(dtype=torch.bfloat16) (gan_learner's `bf16=True`);
- channels-last: both networks' weights in torch.channels_last memory format;
- compiled: torch.compile on both networks (their warm-up, which compiles every graph, is not timed);
- torch Adam: gan_learner with PyTorch's torch.optim.Adam (through fastai's OptimWrapper) in place of its own
  ForeachAdam (the bare loop always uses torch.optim.Adam).
Per-pair times are medians of `--repeats` interleaved repeats of `--steps` pairs; epochs are medians of one pass over
the images (`--images 60000` repeats the 10,000 offline test images to a full-MNIST-sized epoch). Ratios are against
the plain bare loop, (a) fp32, measured in this same process; peak memory is torch.cuda.max_memory_allocated during
each variant's build and first timing, above what was allocated before it.
"""
import argparse, statistics, time, warnings
from contextlib import nullcontext
warnings.filterwarnings('ignore')
import torch, torch._dynamo
from fastai.optimizer import OptimWrapper
from gan_course.data import gan_dataloaders
from gan_course.learner import gan_learner
from train_speed import networks, sync, bare_optimizers, bare_pair, pair_flops, fit_seconds, mnist_images

BARE = {'(a) fp32': {}, '(a) channels-last': dict(channels_last=True), '(a) bf16': dict(bf16=True),
        '(a) bf16 + channels-last': dict(bf16=True, channels_last=True), '(a) compiled': dict(compiled=True),
        '(a) compiled + bf16': dict(compiled=True, bf16=True)}
LEARNER = {'(b) gan_learner': {}, '(b) torch Adam': dict(torch_adam=True), '(b) bf16': dict(bf16=True),
           '(b) bf16 + torch Adam': dict(bf16=True, torch_adam=True), '(b) compiled + bf16 + torch Adam': dict(compiled=True, bf16=True, torch_adam=True)}


def variant_networks(device, channels_last=False, compiled=False, backend='inductor'):
    "The benchmark's G and D, optionally in channels-last memory format and compiled."
    G, D = networks(device)
    if channels_last: G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    if compiled: G, D = torch.compile(G, backend=backend), torch.compile(D, backend=backend)
    return G, D


def bare_runner(ds, bs, device, bf16=False, channels_last=False, compiled=False, backend='inductor'):
    "Build the bare loop with the given options, warm it up (compiling, when compiled), and return a timer of `steps` pairs."
    G, D = variant_networks(device, channels_last, compiled, backend); g_opt, d_opt = bare_optimizers(G, D)
    def seconds_per_pair(steps):
        batches = [b[0] for _, b in zip(range(steps), gan_dataloaders(ds, bs=bs, device=device).train)]
        with torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext():
            sync(device); start = time.perf_counter()
            for real in batches: bare_pair(G, D, g_opt, d_opt, real)
            sync(device)
        return (time.perf_counter() - start) / steps
    seconds_per_pair(5)
    return seconds_per_pair


def torch_adam(params, lr):
    "PyTorch's Adam with gan_learner's default betas, wrapped for fastai (so schedules and set_hyper reach it)."
    return OptimWrapper(params, torch.optim.Adam, lr=lr, betas=(0.5, 0.999), eps=1e-8)


def learner_runner(ds, bs, device, bf16=False, torch_adam_=False, compiled=False, backend='inductor'):
    "Build a gan_learner with the given options, warm it up by one short fit (compiling, when compiled), and return a timer of one pass over some images."
    G, D = variant_networks(device, compiled=compiled, backend=backend)
    learn = gan_learner(gan_dataloaders(ds[:bs * 5], bs=bs, device=device), G, D, bf16=bf16)
    if torch_adam_: learn.opt_func = torch_adam
    fit_seconds(learn)
    def seconds(images):
        learn.dls = gan_dataloaders(images, bs=bs, device=device)
        return fit_seconds(learn)
    return seconds


def allocated_mb(device):
    return torch.cuda.memory_allocated() / 2**20 if device.type == 'cuda' else float('nan')


def peak_mb(device):
    return torch.cuda.max_memory_allocated() / 2**20 if device.type == 'cuda' else float('nan')


def measure(ds, bs, steps, repeats, device, compile_=True, backend='inductor', report=lambda *results: None):
    """ms per pair for every bare and learner variant and seconds per pass over `ds` for the learner variants, medians of
    interleaved repeats; peak MB of each variant's first timing, above what was allocated before the variant was built.
    `report(title, ms, epoch, mem)` is called after each repeat, so a run cut short still shows its figures."""
    bare = {k: v for k, v in BARE.items() if compile_ or not v.get('compiled')}
    learner = {k: v for k, v in LEARNER.items() if compile_ or not v.get('compiled')}
    runners, mem = {}, {}
    for name, options in (bare | learner).items():
        if device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
        base, built = allocated_mb(device), time.perf_counter()
        runners[name] = (bare_runner(ds, bs, device, backend=backend, **options) if name in bare else
                         learner_runner(ds, bs, device, options.get('bf16', False), options.get('torch_adam', False), options.get('compiled', False), backend))
        runners[name](steps) if name in bare else runners[name](ds[:bs * steps])
        mem[name] = peak_mb(device) - base
        print(f'{name}: built, warmed up and timed once in {time.perf_counter() - built:.1f} s', flush=True)
    ms, epoch = {k: [] for k in runners}, {k: [] for k in learner}
    for _ in range(repeats):
        for name, run in runners.items():
            if name in bare: ms[name].append(1000 * run(steps)); continue
            ms[name].append(1000 * run(ds[:bs * steps]) / steps); epoch[name].append(run(ds))
        report(f'after repeat {len(ms[name])} of {repeats}:', *medians(ms, epoch), mem)
    return *medians(ms, epoch), mem


def medians(*timings):
    return [{k: statistics.median(v) for k, v in t.items()} for t in timings]


def table(ms, epoch, mem, gflop, n_images):
    "The results as a markdown table, ratios against (a) fp32."
    rows = ['| variant | ms per (D+G) pair | vs (a) fp32 | achieved TFLOP/s | s per pass of the images | peak MB |', '|---|---|---|---|---|---|']
    for name, t in ms.items():
        rows.append(f"| {name} | {t:.2f} | {t / ms['(a) fp32']:.3f} | {gflop / t:.2f} | {f'{epoch[name]:.2f}' if name in epoch else '-'} | {'-' if mem[name] != mem[name] else f'{mem[name]:,.0f}'} |")
    return '\n'.join(rows) + f"\n\n{n_images:,} images per pass; {gflop:.1f} GFLOP per pair"


torch._dynamo.config.cache_size_limit = 64 # every variant's graphs stay compiled


def main(bs=128, steps=50, repeats=3, device=None, images=None, no_compile=False, compile_backend='inductor'):
    device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    ds = mnist_images(images)
    name = torch.cuda.get_device_name() if device.type == 'cuda' else f'cpu, {torch.get_num_threads()} threads'
    print(f"{name}; torch {torch.__version__}; cudnn TF32 {torch.backends.cudnn.allow_tf32}, matmul TF32 {torch.backends.cuda.matmul.allow_tf32}; bs={bs}")
    gflop = pair_flops(bs, device) / 1e9
    measure(ds, bs, steps, repeats, device, not no_compile, compile_backend,
            report=lambda title, ms, epoch, mem: print(f'\n{title}\n' + table(ms, epoch, mem, gflop, len(ds)), flush=True))


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bs', type=int, default=128); p.add_argument('--steps', type=int, default=50)
    p.add_argument('--repeats', type=int, default=3); p.add_argument('--device', default=None)
    p.add_argument('--images', type=int, default=None, help="repeat the MNIST images to this many, e.g. 60000 for a full-MNIST-sized epoch")
    p.add_argument('--no-compile', action='store_true', help='skip the torch.compile variants (their compilation takes a minute or more)')
    p.add_argument('--compile-backend', default='inductor', help="torch.compile's backend; 'eager' checks the wiring without compiling")
    main(**vars(p.parse_args()))
