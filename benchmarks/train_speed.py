"""Training speed: a bare PyTorch loop vs gan_course's learner vs fastai's GANLearner, one DCGAN, one batch size, one process.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/train_speed.py [--bs 128] [--repeats 3] [--steps 20] [--device cpu|cuda] [--peak-tflops P] [--images N]

(a) bare: a loop written here in plain PyTorch doing the same algorithm as gan_course (per real batch: one D step on
    real + detached fakes, one G step on fresh noise through a D with requires_grad off; two torch.optim.Adam).
(b) gan_course: `gan_learner(...).fit`, so fastai's whole event loop, recorder and callbacks are included.
(c) fastai: `GANLearner` with `FixedGANSwitcher(1, 1)`: each batch is *either* a critic or a generator step, so one
    (D step + G step) pair costs two batches, and one pass of the real images through D costs two epochs of the loader.
All three get their real images from the same one-tensor batcher and Adam(2e-4, betas (0.5, 0.999)), so the
comparison is of the training loops. Each variant is timed over whole passes of the real images through D (one
loader epoch for (a) and (b), two for (c)), batching included, `--repeats` times in a rotating order, medians reported; the
time per (D step + G step) pair is a pass over the number of pairs in it, so the learners' once-per-epoch work (sample
grid, checks) is spread over the pass as it is in training. Ratios are against (a) measured in this same process. Peak memory is each variant in a fresh process (RSS on CPU,
torch.cuda.max_memory_allocated on CUDA). Achieved TFLOP/s: the FLOPs of one (a) pair, counted by
torch.utils.flop_counter (convolutions and matrix products, forward and backward), over each variant's time per pair.
Seconds per 60,000 images: the pass time scaled to full MNIST's size (measured directly when full MNIST is loaded, or
with `--images 60000`, which repeats the offline 10,000 test images six times: the same work as a full-MNIST epoch).
"""
import argparse, multiprocessing as mp, resource, statistics, time, warnings
from contextlib import nullcontext
warnings.filterwarnings('ignore')
import torch
from torch.utils.flop_counter import FlopCounterMode
from fastai.vision.gan import GANLearner, FixedGANSwitcher
from fastai.optimizer import Adam
from gan_course.data import ImageSet, mnist, gan_dataloaders
from gan_course.losses import discriminator_loss, generator_loss
from gan_course.models import dcgan_generator, dcgan_discriminator, dcgan_init
from gan_course.learner import gan_learner

NZ = 100


def networks(device):
    torch.manual_seed(0)
    return dcgan_generator().apply(dcgan_init).to(device), dcgan_discriminator().apply(dcgan_init).to(device)


def mnist_images(n=None):
    "The MNIST images the loader finds, repeated (or cut) to `n` images when given: a full-MNIST-sized epoch from the 10k test set."
    ds = mnist()
    if n is None or n == len(ds): return ds
    return ImageSet(ds.images.repeat(-(-n // len(ds)), 1, 1, 1)[:n], ds.labels.repeat(-(-n // len(ds)))[:n], ds.classes, ds.source)


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def bare_optimizers(G, D, **adam):
    "(a)'s two Adam optimizers, the settings every variant uses; `adam`: torch.optim.Adam's `foreach`, `fused` or `capturable` (by default PyTorch chooses: foreach on a GPU, per tensor on a CPU)."
    return tuple(torch.optim.Adam(net.parameters(), 2e-4, betas=(0.5, 0.999), **adam) for net in (G, D))


def bare_pair(G, D, g_opt, d_opt, real, precision=nullcontext):
    "(a)'s (D step + G step) on one real batch; `precision()` (e.g. an autocast) is entered once per step."
    with precision():
        with torch.no_grad(): fake = G(torch.randn(len(real), NZ, device=real.device))
        d_loss = discriminator_loss(D(real), D(fake))
        d_opt.zero_grad(); d_loss.backward(); d_opt.step()
    for p in D.parameters(): p.requires_grad_(False)
    with precision():
        g_loss = generator_loss(D(G(torch.randn(len(real), NZ, device=real.device))))
        g_opt.zero_grad(); g_loss.backward(); g_opt.step()
    for p in D.parameters(): p.requires_grad_(True)


def bare_timer(G, D, ds, bs, device, precision=nullcontext, **adam):
    "Warm the bare loop on `G`, `D` up with 3 pairs; return a function timing one pass of `ds` through it, batching included."
    g_opt, d_opt = bare_optimizers(G, D, **adam)
    dl = gan_dataloaders(ds, bs=bs, device=device).train
    for _, (real, _) in zip(range(3), dl): bare_pair(G, D, g_opt, d_opt, real, precision)
    return pass_timer(dl, device, lambda real: bare_pair(G, D, g_opt, d_opt, real, precision))


def pass_timer(dl, device, pair):
    "A function timing one pass of `dl` with `pair(real)` on each batch, batching included, the device synchronised at both ends."
    def seconds():
        sync(device); start = time.perf_counter()
        for real, _ in dl: pair(real)
        sync(device); return time.perf_counter() - start
    return seconds


def pair_flops(bs, device):
    "Floating-point operations of one (D step + G step) pair at batch size `bs` (convolutions and matrix products, forward and backward)."
    G, D = networks(device); g_opt, d_opt = bare_optimizers(G, D)
    with FlopCounterMode(display=False) as counter: bare_pair(G, D, g_opt, d_opt, torch.rand(bs, 1, 28, 28, device=device) * 2 - 1)
    return counter.get_total_flops()


def ours(ds, bs, device):
    G, D = networks(device)
    return gan_learner(gan_dataloaders(ds, bs=bs, device=device), G, D)


def fastais(ds, bs, device):
    G, D = networks(device)
    dls = gan_dataloaders(ds, bs=bs, device=device)
    for dl in dls.loaders: dl.after_batch = lambda b: (torch.randn(len(b[0]), NZ, device=b[0].device), b[0])
    return GANLearner(dls, G, D, gen_loss_func=lambda fake_pred, output, target: generator_loss(fake_pred),
                      crit_loss_func=lambda real_pred, fake_pred: discriminator_loss(real_pred, fake_pred),
                      switcher=FixedGANSwitcher(1, 1), opt_func=lambda p, lr: Adam(p, lr, mom=0.5, sqr_mom=0.999, eps=1e-8, wd=0.),
                      lr=2e-4, show_img=False)


def fit_seconds(learn, n_epochs=1):
    "Seconds for `learn.fit(n_epochs)` with no progress bar or logging, after a warm-up fit."
    with learn.no_bar(), learn.no_logging():
        sync(learn.dls.device); start = time.perf_counter(); learn.fit(n_epochs); sync(learn.dls.device)
    return time.perf_counter() - start


def learner_timer(learn, dls, n_epochs=1):
    "Warm `learn` up with a fit on its own (small) loaders; return a function timing `fit(n_epochs)` on `dls`."
    fit_seconds(learn); learn.dls = dls
    return lambda: fit_seconds(learn, n_epochs)


def _pass(variant, ds, bs, device):
    "Seconds for one pass of every real image through D with `variant` 'a', 'b' or 'c', each freshly built and warmed up."
    if variant == 'a': return bare_timer(*networks(device), ds, bs, device)()
    make = ours if variant == 'b' else fastais
    return learner_timer(make(ds[:bs * 3], bs, device), make(ds, bs, device).dls, 1 if variant == 'b' else 2)() # GANLearner: two loader epochs per pass


def pass_seconds(ds, bs, device, repeats):
    "Median seconds for one pass of every real image through D, for (a), (b), (c) in a rotating order (abc, bca, cab, ...)."
    times = {'a': [], 'b': [], 'c': []}
    for i in range(repeats):
        for k in 'abcabc'[i % 3:i % 3 + 3]: times[k].append(_pass(k, ds, bs, device))
        print(f"pass {i + 1} of {repeats}: " + ', '.join(f'({k}) {v[-1]:.2f} s' for k, v in times.items()), flush=True)
    return {k: statistics.median(v) for k, v in times.items()}


def _peak(variant, bs, steps, device, queue):
    "Child process: run `variant` for `steps` pairs and report its peak memory in MB."
    torch.set_num_threads(torch.get_num_threads())
    ds, device = mnist(), torch.device(device)
    if variant == 'a': bare_timer(*networks(device), ds[:bs * steps], bs, device)()
    else: fit_seconds((ours if variant == 'b' else fastais)(ds[:bs * steps * (1 if variant == 'b' else 2)], bs, device))
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == 'cuda' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(peak)


def peak_mb(variant, bs, steps, device):
    ctx = mp.get_context('spawn'); queue = ctx.Queue()
    p = ctx.Process(target=_peak, args=(variant, bs, steps, str(device), queue)); p.start(); peak = queue.get(); p.join()
    return peak


def main(bs=128, steps=20, repeats=3, device=None, peak_tflops=None, images=None):
    device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    ds = mnist_images(images)
    passes, pairs = pass_seconds(ds, bs, device, repeats), len(ds) // bs
    ms = {k: 1000 * t / pairs for k, t in passes.items()}
    mem = {k: peak_mb(k, bs, steps, device) for k in 'abc'}
    tflop = pair_flops(bs, device) / 1e12
    names = {'a': '(a) bare PyTorch loop', 'b': '(b) gan_course gan_learner', 'c': '(c) fastai GANLearner, FixedGANSwitcher(1, 1)'}
    print(f"DCGAN (G {sum(p.numel() for p in networks('cpu')[0].parameters()):,} params), bs={bs}, {len(ds):,} real images ({pairs} pairs per pass), "
          f"device={device}{'' if device.type == 'cuda' else f', torch threads={torch.get_num_threads()}'}; median of {repeats} interleaved passes; "
          f"{tflop * 1e3:.1f} GFLOP per pair\n")
    print('| variant | ms per (D+G) pair | vs (a) | achieved TFLOP/s | s per pass of the real images through D | s per 60,000 images (projected) | peak memory (MB) |\n|---|---|---|---|---|---|---|')
    for k in 'abc':
        print(f"| {names[k]} | {ms[k]:.1f} | {ms[k]/ms['a']:.3f} | {tflop / (ms[k] / 1e3):.3f} | {passes[k]:.1f} | {passes[k] * 60_000 / len(ds):.1f} | {mem[k]:,.0f} |")
    print(f"\n(b)/(a) per pair = {ms['b']/ms['a']:.3f} (target <= 1.10); (b) epoch / (c) epoch = {passes['b']/passes['c']:.3f} (target < 1)")
    if peak_tflops: print(f"(b) achieves {tflop / (ms['b'] / 1e3) / peak_tflops:.1%} of the stated peak, {peak_tflops:g} TFLOP/s")


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bs', type=int, default=128); p.add_argument('--steps', type=int, default=20, help='pairs in each peak-memory run')
    p.add_argument('--repeats', type=int, default=3); p.add_argument('--device', default=None)
    p.add_argument('--peak-tflops', type=float, default=None, help="the card's peak for the dtype in use, e.g. 67 for an H100 SXM's FP32")
    p.add_argument('--images', type=int, default=None, help="repeat the MNIST images to this many, e.g. 60000 for a full-MNIST-sized epoch")
    main(**vars(p.parse_args()))
