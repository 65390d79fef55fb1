"""Optional speed-ups, measured before any becomes a default: bf16 autocast, channels-last, torch.compile, the optimizer and a CUDA graph, for the bare loop and gan_learner.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/train_options.py [--device cuda] [--bs 128] [--repeats 3] [--images 60000] [--no-compile] [--compile-backend inductor]

The same DCGAN, batch size and algorithm as train_speed.py. Each variant changes one or two things:
- bf16: each step under its own torch.autocast(dtype=torch.bfloat16) (gan_learner's `bf16=True`);
- channels-last: both networks' weights in torch.channels_last memory format;
- compiled: both networks compiled in place (`net.compile()`); the warm-up, which compiles every graph, is not timed;
- fastai Adam / torch Adam / torch fused Adam: gan_learner with fastai's per-tensor `Adam`, or PyTorch's
  torch.optim.Adam (through fastai's OptimWrapper; `fused=True`: one kernel per step for all of a network's tensors),
  in place of its `ForeachAdam` (the bare loop always uses torch.optim.Adam, foreach unless fused);
- CUDA graph (on CUDA only): the bare loop's whole (D step + G step) captured once as one CUDA graph (with
  `capturable=True` Adam) and replayed for each batch after copying the batch into the graph's input, so a pair is one
  launch instead of about two hundred.
Every variant is timed over whole passes of the images (batching included; `--images 60000` repeats the 10,000 offline
test images to a full-MNIST-sized epoch), interleaved `--repeats` times, medians reported; ms per pair is a pass over
its number of pairs. Ratios are against the plain bare loop, (a) fp32, measured in this same process. Peak MB is
torch.cuda.max_memory_allocated during a variant's build, warm-up and first pass, above what was allocated before it
(on a GPU it includes the variant's copy of the images and the first variant's library workspaces).
"""
import argparse, statistics, time, warnings
from contextlib import nullcontext
from functools import partial
warnings.filterwarnings('ignore')
import torch, torch._dynamo
from fastai.optimizer import Adam, OptimWrapper
from gan_course.data import gan_dataloaders
from gan_course.learner import gan_learner
from train_speed import networks, bare_pair, bare_optimizers, bare_timer, pass_timer, learner_timer, pair_flops, mnist_images

BARE = {'(a) fp32': {}, '(a) channels-last': dict(channels_last=True), '(a) bf16': dict(bf16=True),
        '(a) bf16 + channels-last': dict(bf16=True, channels_last=True), '(a) compiled': dict(compiled=True),
        '(a) compiled + bf16': dict(compiled=True, bf16=True), '(a) fused Adam': dict(fused=True), '(a) CUDA graph': dict(graphed=True)}
LEARNER = {'(b) gan_learner (ForeachAdam)': {}, "(b) fastai's Adam": dict(optimizer='fastai'), '(b) torch Adam': dict(optimizer='torch'),
           '(b) torch fused Adam': dict(optimizer='fused'),
           '(b) bf16': dict(bf16=True), '(b) compiled': dict(compiled=True), '(b) compiled + bf16': dict(compiled=True, bf16=True)}
OPTIMIZERS = {'fastai': lambda params, lr: Adam(params, lr=lr, mom=0.5, sqr_mom=0.999, eps=1e-8, wd=0.),
              'torch': lambda params, lr: OptimWrapper(params, torch.optim.Adam, lr=lr, betas=(0.5, 0.999), eps=1e-8),
              'fused': lambda params, lr: OptimWrapper(params, torch.optim.Adam, lr=lr, betas=(0.5, 0.999), eps=1e-8, fused=True)}


def variant_networks(device, channels_last=False, compiled=False, backend='inductor'):
    "The benchmark's G and D, optionally in channels-last memory format and compiled in place."
    G, D = networks(device)
    if channels_last: G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    if compiled: G.compile(backend=backend); D.compile(backend=backend)
    return G, D


def bare_runner(ds, bs, device, bf16=False, channels_last=False, compiled=False, backend='inductor', fused=False, graphed=False):
    "The bare loop with the given options, warmed up (compiling, when compiled): a timer of one pass over `ds`."
    if graphed: return graphed_timer(*variant_networks(device), ds, bs, device)
    precision = partial(torch.autocast, device.type, dtype=torch.bfloat16) if bf16 else nullcontext
    return bare_timer(*variant_networks(device, channels_last, compiled, backend), ds, bs, device, precision, **(dict(fused=True) if fused else {}))


def graphed_timer(G, D, ds, bs, device, warmup=3):
    "The bare loop's (D step + G step) captured as one CUDA graph, checked to train, and replayed per batch: a timer of one pass over `ds`."
    if device.type != 'cuda': raise ValueError(f"a CUDA graph needs a CUDA device, got {device}")
    g_opt, d_opt = bare_optimizers(G, D, capturable=True, foreach=True)
    dl = gan_dataloaders(ds, bs=bs, device=device).train # drops the last short batch: every batch fits the graph's input
    real = next(iter(dl))[0].clone()
    with torch.cuda.device(device): # streams and graphs belong to the current GPU: make it `device`
        side = torch.cuda.Stream(); side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side): # PyTorch's recipe: warm up on a side stream, so the capture sees allocated state
            for _ in range(warmup): bare_pair(G, D, g_opt, d_opt, real)
        torch.cuda.current_stream().wait_stream(side)
        pair = torch.cuda.CUDAGraph()
        with torch.cuda.graph(pair): bare_pair(G, D, g_opt, d_opt, real)
        weights = [*G.parameters(), *D.parameters()]
        before = [w.detach().clone() for w in weights]
        pair.replay()
        if any(torch.equal(b, w) for b, w in zip(before, weights)):
            raise RuntimeError("a replay of the captured pair left some of G's or D's weights unchanged: the graph does not train")
    timer = pass_timer(dl, device, lambda batch: (real.copy_(batch), pair.replay()))
    def seconds():
        with torch.cuda.device(device): return timer()
    return seconds


def learner_runner(ds, bs, device, bf16=False, optimizer=None, compiled=False, backend='inductor'):
    "A gan_learner with the given options, warmed up by a 5-batch fit (compiling, when compiled): a timer of one pass over `ds`."
    learn = gan_learner(gan_dataloaders(ds[:bs * 5], bs=bs, device=device), *variant_networks(device, compiled=compiled, backend=backend), bf16=bf16)
    if optimizer: learn.opt_func = OPTIMIZERS[optimizer]
    return learner_timer(learn, gan_dataloaders(ds, bs=bs, device=device))


def cuda_allocated_mb(device):
    return torch.cuda.memory_allocated() / 2**20 if device.type == 'cuda' else float('nan')


def cuda_peak_mb(device):
    return torch.cuda.max_memory_allocated() / 2**20 if device.type == 'cuda' else float('nan')


def measure(ds, bs, repeats, device, compile_=True, backend='inductor', report=lambda *results: None):
    """Median seconds per pass over `ds` for every bare and learner variant, interleaved; peak MB of each variant's
    build, warm-up and first pass, above what was allocated before it. `report(title, passes, mem)` is called after
    each repeat, so a run cut short still shows its figures; a variant other than the baseline that fails to build is reported and left out."""
    variants = {k: v for k, v in (BARE | LEARNER).items() if (compile_ or not v.get('compiled')) and (device.type == 'cuda' or not v.get('graphed'))}
    runners, mem = {}, {}
    for name, options in variants.items():
        if device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
        base, built = cuda_allocated_mb(device), time.perf_counter()
        try: runner = (bare_runner if name in BARE else learner_runner)(ds, bs, device, backend=backend, **options); runner()
        except Exception as e: # one variant that cannot run on this machine (e.g. a failed CUDA graph capture) must not cost the others' figures
            if name == '(a) fp32': raise # the baseline every ratio needs
            print(f'{name}: left out, it failed: {type(e).__name__}: {e}', flush=True); continue
        runners[name] = runner
        mem[name] = cuda_peak_mb(device) - base
        print(f'{name}: built, warmed up and timed once in {time.perf_counter() - built:.1f} s', flush=True)
    passes = {k: [] for k in runners}
    for i in range(repeats):
        for name, run in runners.items(): passes[name].append(run())
        report(f'after repeat {i + 1} of {repeats}:', {k: statistics.median(v) for k, v in passes.items()}, mem)
    return {k: statistics.median(v) for k, v in passes.items()}, mem


def table(passes, mem, gflop, n_images, bs):
    "The results as a markdown table, ratios against (a) fp32."
    pairs = n_images // bs
    rows = ['| variant | ms per (D+G) pair | vs (a) fp32 | achieved TFLOP/s | s per pass of the images | peak MB |', '|---|---|---|---|---|---|']
    for name, t in passes.items():
        ms = 1000 * t / pairs
        rows.append(f"| {name} | {ms:.2f} | {t / passes['(a) fp32']:.3f} | {gflop / ms:.2f} | {t:.2f} | {'-' if mem[name] != mem[name] else f'{mem[name]:,.0f}'} |")
    return '\n'.join(rows) + f"\n\n{n_images:,} images per pass ({pairs} pairs); {gflop:.1f} GFLOP per pair"


torch._dynamo.config.cache_size_limit = 64 # every variant's graphs stay compiled


def main(bs=128, repeats=3, device=None, images=None, no_compile=False, compile_backend='inductor'):
    device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    ds = mnist_images(images)
    name = torch.cuda.get_device_name() if device.type == 'cuda' else f'cpu, {torch.get_num_threads()} threads'
    print(f"{name}; torch {torch.__version__}; cudnn TF32 {torch.backends.cudnn.allow_tf32}, matmul TF32 {torch.backends.cuda.matmul.allow_tf32}; bs={bs}")
    gflop = pair_flops(bs, device) / 1e9
    measure(ds, bs, repeats, device, not no_compile, compile_backend,
            report=lambda title, passes, mem: print(f'\n{title}\n' + table(passes, mem, gflop, len(ds), bs), flush=True))


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bs', type=int, default=128); p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--device', default=None)
    p.add_argument('--images', type=int, default=None, help="repeat the MNIST images to this many, e.g. 60000 for a full-MNIST-sized epoch")
    p.add_argument('--no-compile', action='store_true', help='skip the compiled variants (their compilation takes a minute or more)')
    p.add_argument('--compile-backend', default='inductor', help="torch.compile's backend; 'eager' checks the wiring without compiling")
    main(**vars(p.parse_args()))
