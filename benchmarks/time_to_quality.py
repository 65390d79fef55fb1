"""Time to quality: training time until the FID first drops below a threshold, for several recipes trained in turns in one process.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/time_to_quality.py [--minutes 10] [--multiple 10] [--threshold F] [--level 200] [--out benchmarks/time_to_quality]

Data and judge: MNIST through `mnist()`; with the offline 10,000 test images (GAN_COURSE_DATA as above), lesson 07's
`split_for_scoring` gives a seeded, class-stratified 6,000 to train on, 2,000 to validate and 2,000 held out (with full
MNIST: 50,000, 10,000 and the 10,000 test images). The race reads the first time a curve crosses a level, a choice made
over many scores, so it scores against the validation part (lesson 07's `scorer_for(ds, against='validation')`: FID in
the digit classifier's feature space, 2,000 samples against 2,000 validation images); the floor is 2,000 held-out real
images against the same reference. The default threshold is `--multiple` (10) times the floor; `--level` is a second,
easier FID level, so that the table also compares recipes that do not reach the threshold in time.

Recipes (each on a CPU with the same data and judge):
  ours      `gan_learner` with `gan_course.models.CPU_RECIPE` (lesson 06): DCGAN widths, batch size and lr tuned for a CPU.
  fastai    fastai `GANLearner` defaults on lesson 06's DCGAN: `FixedGANSwitcher()` (a critic batch, then a
            generator batch), fastai's Adam (betas 0.9/0.99, eps 1e-5, wd 0.01), `fit`'s default lr 1e-3,
            `switch_eval=True`; the same non-saturating BCE losses (GANLearner has no default loss), batch size 64.
  pytorch   the PyTorch DCGAN example's hyperparameters (pytorch/examples dcgan/main.py) on lesson 06's DCGAN:
            batch size 64, Adam(2e-4, betas (0.5, 0.999)), BCE, the generator step reusing the D step's fakes,
            written as the example's plain loop.
Fairness on a noisy machine: the recipes take turns, one pass over the 6,000 images each, so a busy spell slows them
alike; only training counts towards a recipe's time (scoring after each turn is not counted; a turn of the fastai-based
recipes includes their callbacks, e.g. our per-epoch sample grid, and times are known to a turn's length, 8-18 s). Every recipe trains
for the same `--minutes` from each of the `--seeds`; the table reports, as mean ± sd over the seeds, the first time each
is below the threshold and the level, and its FID at fixed times. The curves are saved as OUT.json (`--tables-from OUT.json` prints the tables again) and plotted as OUT.png.
"""
import argparse, json, time, warnings
warnings.filterwarnings('ignore')
import torch
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from fastai.vision.gan import GANLearner
from gan_course.data import mnist, gan_dataloaders
from gan_course.losses import discriminator_loss, generator_loss
from gan_course.models import CPU_RECIPE, recipe_networks
from gan_course.learner import gan_learner
from gan_course.metrics import split_for_scoring, scorer_for
from gan_course.sampling import generate


def lesson06_dcgan(seed=0):
    "Lesson 06's DCGAN at Radford's widths, DCGAN-initialised from `seed`."
    torch.manual_seed(seed)
    return recipe_networks(dict(g_width=128, d_width=64))


def quiet_fit(learn, n_epochs=1):
    with learn.no_bar(), learn.no_logging(): learn.fit(n_epochs)


class Ours:
    "`gan_learner` with the package's CPU recipe."
    def __init__(self, ds, seed=0, recipe=CPU_RECIPE):
        torch.manual_seed(seed)
        self.generator, D = recipe_networks(recipe)
        self.learn = gan_learner(gan_dataloaders(ds, bs=recipe['bs'], device='cpu'), self.generator, D, lr=recipe['lr'])
    def turn(self): quiet_fit(self.learn)


class FastaiDefaults:
    "fastai `GANLearner` with its defaults on lesson 06's DCGAN."
    def __init__(self, ds, seed=0, bs=64):
        G, D = lesson06_dcgan(seed)
        dls = gan_dataloaders(ds, bs=bs, device='cpu')
        for dl in dls.loaders: dl.after_batch = lambda b: (torch.randn(len(b[0]), G.nz), b[0]) # GANLearner's (noise, real) batches
        self.learn = GANLearner(dls, G, D, gen_loss_func=lambda fake_pred, output, target: generator_loss(fake_pred),
                                crit_loss_func=lambda real_pred, fake_pred: discriminator_loss(real_pred, fake_pred), show_img=False)
        self.generator = G
    def turn(self): quiet_fit(self.learn)


class PyTorchExample:
    "The PyTorch DCGAN example's loop and hyperparameters on lesson 06's DCGAN."
    def __init__(self, ds, seed=0, bs=64):
        self.generator, self.D = lesson06_dcgan(seed)
        self.dl = gan_dataloaders(ds, bs=bs, device='cpu').train
        self.g_opt = torch.optim.Adam(self.generator.parameters(), 2e-4, betas=(0.5, 0.999))
        self.d_opt = torch.optim.Adam(self.D.parameters(), 2e-4, betas=(0.5, 0.999))
        self.bce = torch.nn.BCEWithLogitsLoss()
    def turn(self):
        G, D, bce = self.generator, self.D, self.bce
        for real, _ in self.dl:
            ones, zeros = torch.ones(len(real)), torch.zeros(len(real))
            fake = G(torch.randn(len(real), G.nz))
            self.d_opt.zero_grad()
            (bce(D(real).view(-1), ones) + bce(D(fake.detach()).view(-1), zeros)).backward(); self.d_opt.step()
            self.g_opt.zero_grad(); bce(D(fake).view(-1), ones).backward(); self.g_opt.step()


RECIPES = {'ours': Ours, 'fastai': FastaiDefaults, 'pytorch': PyTorchExample}


def race(recipes:dict, scorer, minutes:float, score_every:float=0.) -> dict:
    "Train the recipes in turns until each has trained `minutes`; return (training seconds, FID) after every turn (or every `score_every` seconds of training)."
    curves = {name: [] for name in recipes}
    trained, scored = dict.fromkeys(recipes, 0.), dict.fromkeys(recipes, 0.)
    while any(t < minutes * 60 for t in trained.values()):
        for name, recipe in recipes.items():
            if trained[name] >= minutes * 60: continue
            start = time.perf_counter(); recipe.turn(); trained[name] += time.perf_counter() - start
            if trained[name] - scored[name] < score_every and trained[name] < minutes * 60: continue
            scored[name] = trained[name]
            curves[name].append((trained[name], scorer.fid(generate(recipe.generator, scorer.n, seed=0))))
            print(f"{name:>8}: {trained[name]:6.0f} s trained, FID {curves[name][-1][1]:7.1f}", flush=True)
    return curves


def first_below(curve, threshold):
    return next((s for s, fid in curve if fid < threshold), None)


def fid_at(curve, seconds):
    "The FID of the last score at or before `seconds` of training."
    before = [fid for s, fid in curve if s <= seconds]
    return before[-1] if before else None


def mean_sd(values, digits=0) -> str:
    "`values` as 'mean ± sd' (the sample sd) with `digits` decimals; just the mean for one value."
    values = torch.tensor(values, dtype=torch.float64)
    mean = f"{values.mean():.{digits}f}"
    return mean if len(values) == 1 else f"{mean} ± {values.std():.{digits}f}"

def _time_cell(curves, level, minutes) -> str:
    "Seconds to FID < `level` over the seeds' `curves`, with how many seeds got there."
    hits = [t for t in (first_below(c, level) for c in curves) if t is not None]
    if not hits: return f'not within {minutes:g} min'
    return mean_sd(hits) + (f' ({len(hits)} of {len(curves)} seeds)' if len(hits) < len(curves) else '')

def _fid_cell(curves, seconds) -> str:
    "The FID at `seconds` of training, mean ± sd over the seeds' `curves`."
    fids = [fid_at(c, seconds) for c in curves]
    return '-' if None in fids else mean_sd(fids)

def table(runs, threshold, level, minutes, floor):
    "A markdown table over the seeds in `runs` ({seed: {recipe: curve}}): seconds to the threshold and to the level, FID at fixed times, best FID, as mean ± sd."
    marks = sorted({m for m in (2.5, 5, minutes) if m <= minutes})
    by_recipe = {name: [curves[name] for curves in runs.values()] for name in next(iter(runs.values()))}
    lines = [f"| recipe | s to FID < {threshold:.1f} | s to FID < {level:g} | " + ' | '.join(f'FID at {m:g} min' for m in marks) + ' | best FID |',
             '|---|---|---|' + '---|' * len(marks) + '---|']
    for name, curves in by_recipe.items():
        fids = ' | '.join(_fid_cell(curves, m * 60) for m in marks)
        lines.append(f"| {name} | {_time_cell(curves, threshold, minutes)} | {_time_cell(curves, level, minutes)} | {fids} | "
                     f"{mean_sd([min(f for _, f in c) for c in curves])} |")
    return '\n'.join(lines) + (f"\n\nmean ± sd over seeds {', '.join(map(str, runs))}; the floor (real images vs the validation reference, same n) "
                                f"FID {floor:.1f}; threshold {threshold:.1f} ({threshold / floor:.3g}x the floor); level {level:g}")


def plot(runs, threshold, floor, path):
    "FID against training minutes, a line per recipe and seed (one colour per recipe), with the threshold and the floor."
    fig, ax = plt.subplots(figsize=(7, 4))
    colours = {}
    for seed, curves in runs.items():
        for name, curve in curves.items():
            line, = ax.plot([s / 60 for s, _ in curve], [f for _, f in curve], marker='.', lw=1, color=colours.get(name),
                            label=None if name in colours else name)
            colours[name] = line.get_color()
    ax.axhline(threshold, color='k', ls='--', lw=1, label=f'threshold {threshold:.0f}')
    ax.axhline(floor, color='grey', ls=':', lw=1, label=f'floor (real images) {floor:.1f}')
    ax.set(yscale='log', xlabel='training minutes (2 CPU cores)', ylabel='FID (2,000 samples)',
           title=f'Time to quality, 6,000 MNIST images, seeds {", ".join(map(str, runs))}')
    ax.legend(); fig.tight_layout(); fig.savefig(path, dpi=100)


def report(result:dict, out:str):
    "Print the table of a race's `result` and plot its curves to OUT.png."
    runs = result.get('runs') or {'0': result['curves']} # files from before --seeds hold one race's curves
    print('\n' + table(runs, result['threshold'], result['level'], result['minutes'], result['floor']))
    plot(runs, result['threshold'], result['floor'], f'{out}.png'); print(f"curves: {out}.json, plot: {out}.png")


def main(minutes=10., multiple=10., threshold=None, level=200., out='benchmarks/time_to_quality', recipes=tuple(RECIPES), seeds=(0,), tables_from=None):
    if tables_from: return report(json.load(open(tables_from)), out)
    ds = mnist(); fit = split_for_scoring(ds).fit
    scorer = scorer_for(ds, against='validation')
    threshold = threshold or multiple * scorer.floor['fid']
    print(f"{len(fit):,} training images, torch threads {torch.get_num_threads()}, {minutes:g} min per recipe and seed, "
          f"floor {scorer.floor['fid']:.2f}, threshold {threshold:.1f}")
    runs = {}
    for seed in seeds:
        print(f"seed {seed}", flush=True)
        runs[str(seed)] = race({name: RECIPES[name](fit, seed=seed) for name in recipes}, scorer, minutes)
    result = dict(minutes=minutes, threshold=threshold, level=level, floor=scorer.floor['fid'], runs=runs)
    with open(f'{out}.json', 'w') as f: json.dump(result, f)
    report(result, out)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--minutes', type=float, default=10.); p.add_argument('--multiple', type=float, default=10., help='threshold as a multiple of the floor')
    p.add_argument('--threshold', type=float, default=None, help='an absolute FID threshold instead')
    p.add_argument('--level', type=float, default=200.); p.add_argument('--out', default='benchmarks/time_to_quality')
    p.add_argument('--recipes', nargs='+', default=list(RECIPES), choices=list(RECIPES))
    p.add_argument('--seeds', nargs='+', type=int, default=[0], help='training seeds; the table gives mean ± sd over them')
    p.add_argument('--tables-from', help='a saved OUT.json: print its tables and plot it again, without training')
    main(**vars(p.parse_args()))
