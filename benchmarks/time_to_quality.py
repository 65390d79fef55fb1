"""Time to quality: training time until the FID first drops below a threshold, for several recipes trained in turns in one process.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/time_to_quality.py [--minutes 10] [--threshold F] [--level 200] [--out benchmarks/time_to_quality]

Data and judge: MNIST through `mnist()`; with the offline 10,000 test images (GAN_COURSE_DATA as above), lesson 07's
`split_for_scoring` gives 8,000 to train on and 2,000 held out (with full MNIST: 60,000 and 10,000); lesson 07's scorer (`scorer_for`: FID in the digit classifier's feature space, 2,000 samples
against the 2,000 held-out images). The default threshold is 2x the real-vs-real FID (the issue's target); `--level`
is a second, easier FID level, so that the table also compares recipes that do not reach the threshold in time.

Recipes (each on a CPU with the same data and judge):
  ours      `gan_learner` with `gan_course.models.CPU_RECIPE` (lesson 06): DCGAN widths, batch size and lr tuned for a CPU.
  fastai    fastai `GANLearner` defaults on lesson 06's DCGAN: `FixedGANSwitcher()` (a critic batch, then a
            generator batch), fastai's Adam (betas 0.9/0.99, eps 1e-5, wd 0.01), `fit`'s default lr 1e-3,
            `switch_eval=True`; the same non-saturating BCE losses (GANLearner has no default loss), batch size 64.
  pytorch   the PyTorch DCGAN example's hyperparameters (pytorch/examples dcgan/main.py) on lesson 06's DCGAN:
            batch size 64, Adam(2e-4, betas (0.5, 0.999)), BCE, the generator step reusing the D step's fakes,
            written as the example's plain loop.
Fairness on a noisy machine: the recipes take turns, one pass over the 8,000 images each, so a busy spell slows them
alike; only training counts towards a recipe's time (scoring after each turn is not counted; a turn of the fastai-based
recipes includes their callbacks, e.g. our per-epoch sample grid, and times are known to a turn's length, 8-18 s). Every recipe trains
for the same `--minutes`; the table reports the first time each is below the threshold and the level, and its FID at
fixed times. The curves are saved as OUT.json (`--tables-from OUT.json` prints the tables again) and plotted as OUT.png.
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


def lesson06_dcgan():
    "Lesson 06's DCGAN at Radford's widths, DCGAN-initialised from seed 0."
    torch.manual_seed(0)
    return recipe_networks(dict(g_width=128, d_width=64))


def quiet_fit(learn, n_epochs=1):
    with learn.no_bar(), learn.no_logging(): learn.fit(n_epochs)


class Ours:
    "`gan_learner` with the package's CPU recipe."
    def __init__(self, ds, recipe=CPU_RECIPE):
        torch.manual_seed(0)
        self.generator, D = recipe_networks(recipe)
        self.learn = gan_learner(gan_dataloaders(ds, bs=recipe['bs'], device='cpu'), self.generator, D, lr=recipe['lr'])
    def turn(self): quiet_fit(self.learn)


class FastaiDefaults:
    "fastai `GANLearner` with its defaults on lesson 06's DCGAN."
    def __init__(self, ds, bs=64):
        G, D = lesson06_dcgan()
        dls = gan_dataloaders(ds, bs=bs, device='cpu')
        for dl in dls.loaders: dl.after_batch = lambda b: (torch.randn(len(b[0]), G.nz), b[0]) # GANLearner's (noise, real) batches
        self.learn = GANLearner(dls, G, D, gen_loss_func=lambda fake_pred, output, target: generator_loss(fake_pred),
                                crit_loss_func=lambda real_pred, fake_pred: discriminator_loss(real_pred, fake_pred), show_img=False)
        self.generator = G
    def turn(self): quiet_fit(self.learn)


class PyTorchExample:
    "The PyTorch DCGAN example's loop and hyperparameters on lesson 06's DCGAN."
    def __init__(self, ds, bs=64):
        self.generator, self.D = lesson06_dcgan()
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


def race(recipes:dict, scorer, minutes:float) -> dict:
    "Train the recipes in turns until each has trained `minutes`; return (training seconds, FID) after every turn."
    curves = {name: [] for name in recipes}
    trained = dict.fromkeys(recipes, 0.)
    while any(t < minutes * 60 for t in trained.values()):
        for name, recipe in recipes.items():
            if trained[name] >= minutes * 60: continue
            start = time.perf_counter(); recipe.turn(); trained[name] += time.perf_counter() - start
            curves[name].append((trained[name], scorer.fid(generate(recipe.generator, scorer.n, seed=0))))
            print(f"{name:>8}: {trained[name]:6.0f} s trained, FID {curves[name][-1][1]:7.1f}", flush=True)
    return curves


def first_below(curve, threshold):
    return next((s for s, fid in curve if fid < threshold), None)


def fid_at(curve, seconds):
    "The FID of the last score at or before `seconds` of training."
    before = [fid for s, fid in curve if s <= seconds]
    return before[-1] if before else None


def _time_cell(curve, level, base, minutes):
    "Seconds to FID < `level`, and the ratio to `base` (ours)."
    hit = first_below(curve, level)
    if hit is None: return f'not within {minutes:g} min | -'
    return f"{hit:.0f} | {f'{hit / base:.2f}' if base else '-'}"

def table(curves, threshold, level, minutes, floor):
    "A markdown table: seconds to the threshold and the level (with ratios to ours), FID at fixed times, best FID."
    marks = [m for m in (2.5, 5, minutes) if m <= minutes]
    bases = {v: first_below(curves['ours'], v) for v in (threshold, level)}
    lines = [f"| recipe | s to FID < {threshold:.1f} | vs ours | s to FID < {level:g} | vs ours | " + ' | '.join(f'FID at {m:g} min' for m in marks) + ' | best FID |',
             '|---|---|---|---|---|' + '---|' * len(marks) + '---|']
    for name, curve in curves.items():
        fids = ' | '.join(f'{fid_at(curve, m * 60):.1f}' if fid_at(curve, m * 60) else '-' for m in marks)
        lines.append(f"| {name} | {_time_cell(curve, threshold, bases[threshold], minutes)} | {_time_cell(curve, level, bases[level], minutes)} | "
                     f"{fids} | {min(f for _, f in curve):.1f} |")
    return '\n'.join(lines) + f"\n\nreal-vs-real FID (the floor) {floor:.1f}; threshold {threshold:.1f} (2x the floor unless given); level {level:g}"


def plot(curves, threshold, floor, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, curve in curves.items(): ax.plot([s / 60 for s, _ in curve], [f for _, f in curve], marker='.', label=name)
    ax.axhline(threshold, color='k', ls='--', lw=1, label=f'threshold {threshold:.0f}')
    ax.axhline(floor, color='grey', ls=':', lw=1, label=f'real-vs-real {floor:.0f}')
    ax.set(yscale='log', xlabel='training minutes (2 CPU cores)', ylabel='FID (2,000 samples)', title='Time to quality, 8,000 MNIST images')
    ax.legend(); fig.tight_layout(); fig.savefig(path, dpi=100)


def report(result:dict, out:str):
    "Print the table of a race's `result` and plot its curves to OUT.png."
    print('\n' + table(result['curves'], result['threshold'], result['level'], result['minutes'], result['floor']))
    plot(result['curves'], result['threshold'], result['floor'], f'{out}.png'); print(f"curves: {out}.json, plot: {out}.png")


def main(minutes=10., threshold=None, level=200., out='benchmarks/time_to_quality', recipes=tuple(RECIPES), tables_from=None):
    if tables_from: return report(json.load(open(tables_from)), out)
    ds = mnist(); fit, _ = split_for_scoring(ds)
    scorer = scorer_for(ds)
    threshold = threshold or 2 * scorer.real_vs_real
    print(f"{len(fit):,} training images, torch threads {torch.get_num_threads()}, {minutes:g} min per recipe, threshold {threshold:.1f}")
    curves = race({name: RECIPES[name](fit) for name in recipes}, scorer, minutes)
    result = dict(minutes=minutes, threshold=threshold, level=level, floor=scorer.real_vs_real, curves=curves)
    with open(f'{out}.json', 'w') as f: json.dump(result, f)
    report(result, out)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--minutes', type=float, default=10.); p.add_argument('--threshold', type=float, default=None)
    p.add_argument('--level', type=float, default=200.); p.add_argument('--out', default='benchmarks/time_to_quality')
    p.add_argument('--recipes', nargs='+', default=list(RECIPES), choices=list(RECIPES))
    p.add_argument('--tables-from', help='a saved OUT.json: print its tables and plot it again, without training')
    main(**vars(p.parse_args()))
