"The benchmark scripts still run: their pieces on a few random images (the full runs and their figures are in benchmarks/RESULTS.md)."
import sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parents[1]/'benchmarks'))
import train_speed, time_to_quality
from gan_course.data import ImageSet

CPU = torch.device('cpu')


def random_digits(n):
    return ImageSet(torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8))


def test_pair_flops_grow_with_the_batch():
    assert train_speed.pair_flops(8, CPU) == 8 * train_speed.pair_flops(1, CPU) > 0


def test_train_speed_times_all_three_loops():
    ms = train_speed.pair_ms(random_digits(64), bs=8, steps=2, device=CPU, repeats=1)
    assert set(ms) == {'a', 'b', 'c'} and all(v > 0 for v in ms.values())
    ours_epoch, fastai_epoch = train_speed.epoch_seconds(random_digits(32), bs=8, device=CPU, repeats=1)
    assert ours_epoch > 0 and fastai_epoch > 0


class ConstantScorer:
    "A stand-in for lesson 07's scorer: every generator scores FID 150."
    n = 4
    def fid(self, images): return 150.


def test_time_to_quality_races_every_recipe_once_and_tabulates():
    recipes = {name: recipe(random_digits(128)) for name, recipe in time_to_quality.RECIPES.items()}
    curves = time_to_quality.race(recipes, ConstantScorer(), minutes=1e-4) # one turn each
    assert {name: [fid for _, fid in curve] for name, curve in curves.items()} == dict.fromkeys(recipes, [150.])
    table = time_to_quality.table(curves, threshold=100., level=200., minutes=1e-4, floor=50.)
    assert all(f'| {name} |' in table for name in recipes) and 'not within' in table
