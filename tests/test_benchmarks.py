"The benchmark scripts still run: their pieces on a few random images (the full runs and their figures are in benchmarks/RESULTS.md)."
import sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parents[1]/'benchmarks'))
import train_speed, train_options, step_profile, time_to_quality
from gan_course.data import ImageSet

CPU = torch.device('cpu')


def random_digits(n):
    return ImageSet(torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8))


def test_pair_flops_grow_with_the_batch():
    assert train_speed.pair_flops(8, CPU) == 8 * train_speed.pair_flops(1, CPU) > 0


def test_train_speed_times_all_three_loops():
    ms = train_speed.pair_ms(random_digits(128), bs=8, steps=4, device=CPU, repeats=1)
    assert set(ms) == {'a', 'b', 'c'} and all(v > 0 for v in ms.values())
    ours_epoch, fastai_epoch = train_speed.epoch_seconds(random_digits(32), bs=8, device=CPU, repeats=1)
    assert ours_epoch > 0 and fastai_epoch > 0


def test_train_options_times_every_variant_and_tabulates():
    reports = []
    ms, epoch, mem = train_options.measure(random_digits(32), bs=8, steps=2, repeats=1, device=CPU, backend='eager', report=lambda *r: reports.append(r))
    assert set(ms) == set(train_options.BARE) | set(train_options.LEARNER) and set(epoch) == set(train_options.LEARNER)
    assert all(v > 0 for v in [*ms.values(), *epoch.values()]) and len(reports) == 1
    table = train_options.table(ms, epoch, mem, gflop=1., n_images=32)
    assert all(f'| {name} |' in table for name in ms) and '| 1.000 |' in table


def test_step_profile_runs_both_loops(capsys, monkeypatch):
    monkeypatch.setattr(step_profile, 'mnist_images', lambda n: random_digits(n))
    step_profile.main(device='cpu', bs=8, batches=2, top=3); step_profile.main(device='cpu', bs=8, batches=2, bare=True, top=3)
    out = capsys.readouterr().out
    assert 'gan_learner, 2 batches of 8 on cpu' in out and 'bare loop, 2 batches of 8 on cpu' in out


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
