"""Which of lesson 07b's stabilising options make a DCGAN better sooner on 2 CPU cores: an equal-time race over training seeds.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/stabilising_race.py [--minutes 2] [--seeds 0 1 2] [--recipes ...] [--out benchmarks/stabilising_race]

Each option alone on top of `CPU_RECIPE` (lesson 06's DCGAN widths, batch 64, lr 2e-3), then combinations that helped
in one-seed screenings (the average of the generator at decay 0.99 with R1 or with two generator steps per batch), and
lesson 03's fully connected GAN with such options (the `mlp_` recipes; `mlp_ema_999_ng2_bs128` is lesson 07b's
`DEFAULT_RECIPE`), against `CPU_RECIPE` itself and the PyTorch DCGAN example's recipe. Data, judge and
fairness as in time_to_quality.py, whose race this script runs: the 6,000-image fit part of lesson 07's split, FID of
2,000 samples against the 2,000 validation images after every pass (or every `--score-every` seconds of training), the recipes taking turns, only training timed. After
each seed's race, every recipe's final generator (its weight average where it keeps one) gets all of lesson 07's scores
against the validation part (precision, recall, density, coverage, confident share). The curves and final scores are
saved as OUT.json (`--tables-from OUT.json` prints the tables again); OUT.png plots them.
"""
import argparse, json, warnings
warnings.filterwarnings('ignore')
import torch
from time_to_quality import race, table, plot, quiet_fit, PyTorchExample, mean_sd
from gan_course.data import mnist, gan_dataloaders
from gan_course.models import CPU_RECIPE
from gan_course.metrics import split_for_scoring, scorer_for
from gan_course.sampling import generate
from gan_course.stabilising import stable_learner, recipe_networks_for

OPTIONS = {
    'cpu_recipe': {},
    'ema_999': dict(ema=0.999),
    'ema_99': dict(ema=0.99),
    'sn_hinge': dict(spectral_norm=True, loss='hinge'),
    'r1': dict(r1=1.),
    'diffaug': dict(augment=('translation', 'cutout')),
    'ttur': dict(lr=CPU_RECIPE['lr'] / 2, d_lr_mult=4.),
    'wgan_gp': dict(loss='wasserstein', gp=10., n_d=5, lr=2e-4, betas=(0.5, 0.9)),
    'ema_99_r1': dict(ema=0.99, r1=1.),
    'ema_99_ng2': dict(ema=0.99, n_g=2), # two generator steps per real batch: DEFAULT_RECIPE since the 5-minute race
    'mlp_ema_99_ng2': dict(model='mlp', ema=0.99, n_g=2, lr=2e-4), # lesson 03's fully connected GAN with the same options
    'mlp_ema_999_ng2': dict(model='mlp', ema=0.999, n_g=2, lr=2e-4),
    'mlp_ema_999_ng2_bs128': dict(model='mlp', ema=0.999, n_g=2, lr=2e-4, bs=128), # DEFAULT_RECIPE since the MLP race
    'mlp_ema_999_ng1': dict(model='mlp', ema=0.999, n_g=1, lr=2e-4),
    'mlp_ema_999_ng2_lr4': dict(model='mlp', ema=0.999, n_g=2, lr=4e-4),
}

class Stabilised:
    "`stable_learner` on `CPU_RECIPE`'s networks (or lesson 03's, `model='mlp'`), batch size and lr, with `options` on top."
    def __init__(self, ds, seed=0, model='dcgan', bs=CPU_RECIPE['bs'], **options):
        options = {'lr': CPU_RECIPE['lr'], **options}
        torch.manual_seed(seed)
        G, D = recipe_networks_for(model)
        self.learn = stable_learner(gan_dataloaders(ds, bs=bs, device='cpu'), G, D, **options)
    @property
    def generator(self): return self.learn.model.sampler
    def turn(self): quiet_fit(self.learn)

def recipe(name, ds, seed):
    return PyTorchExample(ds, seed=seed) if name == 'pytorch' else Stabilised(ds, seed=seed, **OPTIONS[name])

SCORES = ('fid', 'precision', 'recall', 'density', 'coverage', 'confident')

def final_scores(scorer, generator) -> dict:
    "`SCORES` of `scorer.n` images from `generator`."
    scores = scorer(generate(generator, scorer.n, seed=0))
    return {k: float(scores[k]) for k in SCORES}

def final_table(finals) -> str:
    "A markdown table of the final scores ({seed: {recipe: scores}}), mean ± sd over the seeds."
    names = list(next(iter(finals.values())))
    lines = ['| recipe | ' + ' | '.join(SCORES) + ' |', '|---|' + '---|' * len(SCORES)]
    for name in names:
        cells = [mean_sd([finals[seed][name][key] for seed in finals], 1 if key == 'fid' else 2) for key in SCORES]
        lines.append(f"| {name} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)

def report(result, out):
    print('\n' + table(result['runs'], result['threshold'], result['level'], result['minutes'], result['floor']))
    print('\nfinal scores against the validation part (n = 2,000):\n' + final_table(result['finals']))
    plot(result['runs'], result['threshold'], result['floor'], f'{out}.png'); print(f"curves: {out}.json, plot: {out}.png")

def main(minutes=2., seeds=(0, 1, 2), recipes=tuple(OPTIONS) + ('pytorch',), multiple=10., level=200., out='benchmarks/stabilising_race', tables_from=None, score_every=0.):
    if tables_from: return report(json.load(open(tables_from)), out)
    ds = mnist(); fit = split_for_scoring(ds).fit
    scorer = scorer_for(ds, against='validation')
    print(f"{len(fit):,} training images, torch threads {torch.get_num_threads()}, {minutes:g} min per recipe and seed, floor {scorer.floor['fid']:.2f}")
    runs, finals = {}, {}
    for seed in seeds:
        print(f"seed {seed}", flush=True)
        racers = {name: recipe(name, fit, seed) for name in recipes}
        runs[str(seed)] = race(racers, scorer, minutes, score_every)
        finals[str(seed)] = {name: final_scores(scorer, r.generator) for name, r in racers.items()}
        result = dict(minutes=minutes, threshold=multiple * scorer.floor['fid'], level=level, floor=scorer.floor['fid'], runs=runs, finals=finals)
        with open(f'{out}.json', 'w') as f: json.dump(result, f) # after every seed, so an interrupted race keeps what it has
    report(result, out)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--minutes', type=float, default=2.); p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--recipes', nargs='+', default=list(OPTIONS) + ['pytorch'], choices=list(OPTIONS) + ['pytorch'])
    p.add_argument('--multiple', type=float, default=10., help='threshold as a multiple of the floor'); p.add_argument('--level', type=float, default=200.)
    p.add_argument('--score-every', type=float, default=0., help='seconds of training between FID scores (0: after every pass)')
    p.add_argument('--out', default='benchmarks/stabilising_race'); p.add_argument('--tables-from', help='a saved OUT.json: print its tables and plot it again')
    main(**vars(p.parse_args()))
