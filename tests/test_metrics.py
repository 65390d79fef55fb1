"The Fréchet distance of `gan_course.metrics` against an independent implementation (SciPy's general matrix square root)."
import numpy as np, pytest, scipy.linalg, torch
from gan_course.metrics import frechet_distance, feature_stats


def scipy_frechet(mu1, sigma1, mu2, sigma2):
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    return float(((mu1 - mu2)**2).sum() + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


@pytest.mark.parametrize('d', [1, 8, 64, 128])
def test_frechet_distance_matches_scipy(d):
    rng = np.random.default_rng(d)
    x = rng.normal(size=(2000, d)) @ rng.normal(size=(d, d))
    y = rng.normal(size=(2000, d)) * rng.uniform(0.5, 2, size=d) + rng.normal(size=d)
    args = (x.mean(0), np.cov(x, rowvar=False).reshape(d, d), y.mean(0), np.cov(y, rowvar=False).reshape(d, d))
    ours, reference = frechet_distance(*map(torch.from_numpy, args)), scipy_frechet(*args)
    assert abs(ours - reference) <= 1e-3 * abs(reference), (ours, reference)


def test_feature_stats_match_numpy_and_refuse_too_few_samples():
    x = torch.randn(500, 16, dtype=torch.float64)
    mu, sigma = feature_stats(x)
    assert np.allclose(mu.numpy(), x.numpy().mean(0)) and np.allclose(sigma.numpy(), np.cov(x.numpy(), rowvar=False))
    with pytest.raises(ValueError, match='at least 17'): feature_stats(torch.randn(16, 16))
