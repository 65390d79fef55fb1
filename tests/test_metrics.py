"The Fréchet distance of `gan_course.metrics` against an independent implementation (SciPy's general matrix square root)."
import numpy as np, pytest, scipy.linalg, torch
from gan_course.metrics import frechet_distance, feature_stats, kernel_distance, mmd2_unbiased


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


class FeaturesAsImages(torch.nn.Module):
    "A stand-in feature extractor for torchmetrics: the 'images' are already features."
    def __init__(self, d): super().__init__(); self.num_features = d
    def forward(self, x): return x


def _two_feature_sets(d=16, n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(n, d, generator=g, dtype=torch.float64) * 1.2 + 0.3


def test_kid_matches_torchmetrics():
    "With one subset holding every feature, KID is one unbiased MMD², whatever the order: torchmetrics must agree with ours."
    from torchmetrics.image.kid import KernelInceptionDistance
    real, fake = _two_feature_sets()
    kid = KernelInceptionDistance(feature=FeaturesAsImages(real.shape[1]), subsets=1, subset_size=len(real))
    kid.update(real, real=True); kid.update(fake, real=False)
    reference = kid.compute()[0].item()
    ours, _ = kernel_distance(real, fake, subset_size=len(real), subsets=1)
    assert abs(ours - reference) <= 1e-9 * max(1., abs(reference)), (ours, reference)
    assert abs(mmd2_unbiased(real, fake) - reference) <= 1e-9 * max(1., abs(reference))


def test_fid_matches_torchmetrics():
    "torchmetrics' FrechetInceptionDistance given the same features (float64) gives our FID."
    from torchmetrics.image.fid import FrechetInceptionDistance
    real, fake = _two_feature_sets()
    fid = FrechetInceptionDistance(feature=FeaturesAsImages(real.shape[1])).double()
    fid.update(real, real=True); fid.update(fake, real=False)
    reference = fid.compute().item()
    ours = frechet_distance(*feature_stats(fake), *feature_stats(real))
    assert abs(ours - reference) <= 1e-6 * abs(reference), (ours, reference)
