"The benchmark scripts still run: their pieces on a few random images (the full runs and their figures are in benchmarks/RESULTS.md)."
import sys
import pytest
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parents[1]/'benchmarks'))
import train_speed, train_options, step_profile, time_to_quality, host_overhead, stabilising_race, distributed_scaling, colour_screen, cli_default
from gan_course.data import ImageSet

CPU = torch.device('cpu')


def random_digits(n):
    return ImageSet(torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8))


def test_pair_flops_grow_with_the_batch():
    assert train_speed.pair_flops(8, CPU) == 8 * train_speed.pair_flops(1, CPU) > 0


def test_train_speed_times_a_pass_of_all_three_loops():
    passes = train_speed.pass_seconds(random_digits(64), bs=8, device=CPU, repeats=1)
    assert set(passes) == {'a', 'b', 'c'} and all(t > 0 for t in passes.values())


def test_train_options_times_every_variant_and_tabulates(capsys):
    reports = []
    passes, mem = train_options.measure(random_digits(32), bs=8, repeats=1, device=CPU, backend='eager', report=lambda *r: reports.append(r))
    on_cpu = {name for name, options in (train_options.BARE | train_options.LEARNER).items() if not options.get('graphed')}
    assert set(passes) == on_cpu and all(t > 0 for t in passes.values()) and len(reports) == 1
    assert '(a) CUDA graph' not in on_cpu and 'left out' not in capsys.readouterr().out # skipped on a CPU, not tried and failed
    table = train_options.table(passes, mem, gflop=1., n_images=32, bs=8)
    assert all(f'| {name} |' in table for name in passes) and '| 1.000 |' in table


def test_train_options_leaves_out_a_variant_that_fails(monkeypatch, capsys):
    monkeypatch.setattr(train_options, 'BARE', {'(a) fp32': {}, '(a) broken': dict(no_such_option=True)})
    monkeypatch.setattr(train_options, 'LEARNER', {})
    passes, _ = train_options.measure(random_digits(32), bs=8, repeats=1, device=CPU)
    assert set(passes) == {'(a) fp32'} and '(a) broken: left out, it failed' in capsys.readouterr().out


def test_train_options_stops_when_its_baseline_fails(monkeypatch):
    monkeypatch.setattr(train_options, 'BARE', {'(a) fp32': dict(no_such_option=True)}); monkeypatch.setattr(train_options, 'LEARNER', {})
    with pytest.raises(TypeError): train_options.measure(random_digits(32), bs=8, repeats=1, device=CPU)


def test_a_cuda_graph_needs_cuda():
    with pytest.raises(ValueError, match='needs a CUDA device'): train_options.graphed_timer(None, None, random_digits(32), 8, CPU)


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
    table = time_to_quality.table({'0': curves}, threshold=100., level=200., minutes=1e-4, floor=50.)
    assert all(f'| {name} |' in table for name in recipes) and 'not within' in table and '2x the floor' in table
    other_seed = {name: [(s, fid + 20) for s, fid in curve] for name, curve in curves.items()}
    two_seeds = time_to_quality.table({'0': curves, '1': other_seed}, threshold=100., level=200., minutes=1e-4, floor=50.)
    assert '| 160 ± 14 |' in two_seeds and 'seeds 0, 1' in two_seeds # best FID: 150 and 170


def test_stabilising_race_races_every_recipe_once_and_tabulates():
    racers = {name: stabilising_race.recipe(name, random_digits(128), seed=0) for name in [*stabilising_race.OPTIONS, 'pytorch']}
    curves = time_to_quality.race(racers, ConstantScorer(), minutes=1e-4) # one turn each
    assert set(curves) == set(racers) and all(len(curve) == 1 for curve in curves.values())
    assert racers['ema_99'].generator is racers['ema_99'].learn.model.averaged.generator # the average is what is scored
    finals = {seed: {name: dict.fromkeys(stabilising_race.SCORES, value) for name in racers} for seed, value in (('0', 1.), ('1', 3.))}
    table = stabilising_race.final_table(finals)
    assert all(f'| {name} |' in table for name in racers) and '| 2.0 ± 1.4 | 2.00 ± 1.41 |' in table


class FakeClock:
    "A `time` module stand-in whose clock moves only when a recipe turns."
    def __init__(self): self.now = 0.
    def perf_counter(self): return self.now

class TickingRecipe:
    "A stand-in recipe whose every turn takes 20 ms on `clock`."
    generator = None
    def __init__(self, clock): self.clock = clock
    def turn(self): self.clock.now += 0.02

def test_a_race_can_score_every_few_seconds_of_training(monkeypatch):
    monkeypatch.setattr(time_to_quality, 'generate', lambda *args, **kwargs: None) # ConstantScorer looks at nothing
    monkeypatch.setattr(time_to_quality, 'time', clock := FakeClock())
    every_turn = time_to_quality.race({'a': TickingRecipe(clock)}, ConstantScorer(), minutes=0.3 / 60)['a']
    sparse = time_to_quality.race({'a': TickingRecipe(clock)}, ConstantScorer(), minutes=0.3 / 60, score_every=0.1)['a']
    assert len(every_turn) in (15, 16) and len(sparse) in (3, 4) # every 20 ms; about 0.1, 0.2 and 0.3 s, the last at the end
    assert sparse[-1][0] >= 0.3 - 1e-9 and all(b - a >= 0.1 - 1e-9 for (a, _), (b, _) in zip(sparse, sparse[1:-1]))


def random_emoji(n):
    return ImageSet(torch.randint(0, 256, (n, 3, 64, 64), dtype=torch.uint8))

def test_colour_screen_races_every_recipe_once_and_scores_in_floors():
    racers = {name: colour_screen.Colour(random_emoji(64), **options) for name, options in colour_screen.RECIPES.items()}
    curves = time_to_quality.race(racers, ConstantScorer(), minutes=1e-4) # one turn each
    assert set(curves) == set(colour_screen.RECIPES) and all(len(curve) == 1 for curve in curves.values())
    assert racers['ema_ng2'].generator is racers['ema_ng2'].learn.model.averaged.generator
    from gan_course.colour import unlabelled_split, random_feature_scorer
    scorer = random_feature_scorer(unlabelled_split(random_emoji(150), n_unseen=70), against="validation") # more images than its 64 features
    in_floors = colour_screen.InFloors(scorer)
    images = torch.rand(70, 3, 64, 64) * 2 - 1
    assert in_floors.fid(images) == pytest.approx(scorer.fid(images) / scorer.floor['fid'])
    assert colour_screen.final_scores(scorer, racers['plain'].generator)['fid'] > 0


def test_the_default_recipe_is_the_race_winner_it_names():
    from gan_course.stabilising import DEFAULT_RECIPE
    winner = stabilising_race.recipe('mlp_ema_999_ng2_bs128', random_digits(128), seed=0)
    assert winner.learn.model.generator.config['kind'] == DEFAULT_RECIPE['model'] and winner.learn.dls.train.bs == DEFAULT_RECIPE['bs']
    assert {k: stabilising_race.OPTIONS['mlp_ema_999_ng2_bs128'][k] for k in ('lr', 'ema', 'n_g')} == {k: DEFAULT_RECIPE[k] for k in ('lr', 'ema', 'n_g')}


def test_host_overhead_times_and_counts_both_loops():
    times, ops = host_overhead.measure(random_digits(256), bs=8, hidden=8, device=CPU, repeats=2)
    assert all(len(t) == 2 and min(t) > 0 for t in times.values())
    assert ops['a']['aten.mm'] > 0 and ops['b']['aten.lerp'] == 1 # the learner's smoothed loss, once per pair
    # the learner's extra operations per pair: 5.6 per batch plus its once-per-epoch work spread over 32 pairs (8.6 in all;
    # 29 when the statistics, smoothed loss and divergence check ran per batch)
    assert sum(ops['b'].values()) - sum(ops['a'].values()) < 12
    table = host_overhead.table(times, ops, n_pairs=8)
    assert '| (b) gan_course `gan_learner` |' in table and '| 1.000 |' in table


def test_distributed_scaling_tabulates_against_one_process():
    reports = [dict(processes=1, images_per_s=600., epoch_s=[3., 2., 2.]), dict(processes=2, images_per_s=900., epoch_s=[3., 1.5, 1.5])]
    table = distributed_scaling.table(reports).splitlines()
    assert table[2] == '| 1 | 600 | 1.00 | 1.00 | 2.00 |' and table[3] == '| 2 | 900 | 1.50 | 0.75 | 1.50 |'


def test_cli_default_tables_each_model_over_its_seeds_in_floors():
    run = lambda model, seed, fid: dict(model=model, seed=seed, wall_s=100., epochs=10, training_s=90., n=359,
                                        scores=dict(fid=fid, precision=.9, recall=.8, coverage=.7, confident=.5), floor=dict(fid=5.))
    rows = cli_default.table([run('mlp', 0, 20.), run('dcgan', 0, 10.), run('mlp', 1, 30.), run('dcgan', 1, 14.)]).splitlines()
    assert len(rows) == 4 and all(row.count('|') == rows[0].count('|') for row in rows)
    assert rows[2].startswith('| mlp | 25.0 ± 7.1 | 5.0 ± 1.4 | 0.90 ± 0.00 |') and rows[3].startswith('| dcgan | 12.0 ± 2.8 | 2.4 ± 0.6 |')


def test_cli_default_stops_on_a_failed_command():
    with pytest.raises(RuntimeError, match='exited 2.*--epochs must be at least 1'): cli_default.gan_course('train', '--data', 'digits', '--epochs', '0', '--out', 'never')
