"""Which of lesson 07b's stabilising options help lesson 09's 64x64 colour DCGAN on the emoji soonest: a one-seed, equal-time screen on 2 CPU cores.

Usage: python benchmarks/colour_screen.py [--minutes 2.5] [--seed 0] [--recipes plain ema_ng2 ...] [--out benchmarks/colour_screen]

Data: the 1,400 emoji that lesson 09 renders from Noto Color Emoji, 64x64 colour, split by lesson 09's
`unlabelled_split` (200 validation and 200 held-out images, the GAN trains on the other 1,000). Judge: lesson 09's
`random_feature_scorer` against the validation part (a screen is a choice), whose FIDs are reported as multiples of its
floor (the held-out images against the same reference, n = 200). Each recipe is `stable_learner` on `dcgan64_pair()`
(width 32, batch 64) with the options named below; they take turns, one pass over the 1,000 images each, as in
time_to_quality.py's race, and only training is timed. OUT.json keeps the curves and final scores, OUT.png shows every
recipe's final samples (from the same noise) above the curves.
"""
import argparse, json, warnings
warnings.filterwarnings('ignore')
import torch
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from time_to_quality import race, table, quiet_fit
from gan_course.data import load_image_folder, gan_dataloaders, image_grid
from gan_course.colour import render_emoji, dcgan64_pair, unlabelled_split, random_feature_scorer
from gan_course.stabilising import stable_learner
from gan_course.sampling import generate

RECIPES = {
    'plain': {}, # lesson 04's learner, as lesson 09's first two runs
    'aug_all': dict(augment=('translation', 'cutout', 'colour')),
    'ema_ng2': dict(ema=0.99, n_g=2), # lesson 07b's DCGAN_RECIPE options at lesson 09's lr
    'ema_ng2_aug_tc': dict(ema=0.99, n_g=2, augment=('translation', 'cutout')),
    'ema_ng2_aug_all': dict(ema=0.99, n_g=2, augment=('translation', 'cutout', 'colour')),
    'ema_ng2_lr1e3': dict(ema=0.99, n_g=2, lr=1e-3),
}
SCORES = ('fid', 'precision', 'recall', 'density', 'coverage')

class Colour:
    "`stable_learner` on lesson 09's 64x64 DCGAN pair with `options`."
    def __init__(self, ds, seed=0, **options):
        torch.manual_seed(seed)
        self.learn = stable_learner(gan_dataloaders(ds, bs=64, device='cpu'), *dcgan64_pair(), **options)
    @property
    def generator(self): return self.learn.model.sampler
    def turn(self): quiet_fit(self.learn)

class InFloors:
    "A scorer whose `fid` is a multiple of its floor, so that small random-feature FIDs read as ratios."
    def __init__(self, scorer): self.scorer, self.n = scorer, scorer.n
    def fid(self, images) -> float: return self.scorer.fid(images) / self.scorer.floor['fid']

def final_scores(scorer, generator) -> dict:
    "`SCORES` of the generator's samples, FID as a multiple of the floor."
    scores = scorer.score_generator(generator)
    return {k: float(scores[k]) / (scorer.floor['fid'] if k == 'fid' else 1) for k in SCORES}

def figure(racers, curves, path):
    "Each recipe's final samples in a row of grids, its FID curve below."
    fig = plt.figure(figsize=(2.4 * len(racers), 6))
    top, bottom = fig.subfigures(2, 1)
    for ax, (name, r) in zip(top.subplots(1, len(racers), squeeze=False)[0], racers.items()):
        ax.imshow(image_grid(generate(r.generator, 36, seed=0))); ax.set_title(name, fontsize=9); ax.axis('off')
    ax = bottom.subplots()
    for name, curve in curves.items(): ax.plot([s / 60 for s, _ in curve], [f for _, f in curve], '.-', label=name)
    ax.axhline(1, ls=':', c='gray', label='floor')
    ax.set(yscale='log', xlabel='training minutes (2 CPU cores)', ylabel='FID / floor (random features, n = 200)')
    ax.legend(fontsize=8); fig.savefig(path, dpi=100)

def main(minutes=2.5, seed=0, recipes=tuple(RECIPES), out='benchmarks/colour_screen'):
    split = unlabelled_split(load_image_folder(render_emoji(), size=64, channels=3))
    scorer = random_feature_scorer(split, against='validation')
    print(f"{len(split.fit):,} training emoji, floor FID {scorer.floor['fid']:.4f} (n = {scorer.n}), {minutes:g} min per recipe")
    racers = {name: Colour(split.fit, seed, **RECIPES[name]) for name in recipes}
    curves = race(racers, InFloors(scorer), minutes)
    finals = {name: final_scores(scorer, r.generator) for name, r in racers.items()}
    with open(f'{out}.json', 'w') as f: json.dump(dict(minutes=minutes, seed=seed, floor=scorer.floor['fid'], curves=curves, finals=finals), f)
    print('\n' + table({str(seed): curves}, 5., 10., minutes, 1.))
    print('\nfinal scores against the validation part (FID as a multiple of the floor):')
    for name, scores in finals.items(): print(f"| {name} | " + ' | '.join(f"{scores[k]:.2f}" for k in SCORES) + ' |')
    figure(racers, curves, f'{out}.png'); print(f"curves and scores: {out}.json, figure: {out}.png")

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--minutes', type=float, default=2.5); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--recipes', nargs='+', default=list(RECIPES), choices=list(RECIPES))
    p.add_argument('--out', default='benchmarks/colour_screen')
    main(**vars(p.parse_args()))
