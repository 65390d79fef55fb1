"The package is what the notebooks export, and it imports cleanly piece by piece."
import io, shutil, subprocess, sys, filecmp
from pathlib import Path
import pytest
from pyflakes.api import check
from pyflakes.reporter import Reporter
from pyflakes.messages import UndefinedName

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_and_package_in_sync(tmp_path):
    "nbdev-export on a copy of the notebooks reproduces gan_course/ exactly."
    for name in ('nbs', 'gan_course'): shutil.copytree(ROOT/name, tmp_path/name, ignore=shutil.ignore_patterns('__pycache__', '_proc'))
    shutil.copy(ROOT/'pyproject.toml', tmp_path)
    subprocess.run(['nbdev-export'], cwd=tmp_path, check=True, capture_output=True)
    committed = sorted(p.name for p in (ROOT/'gan_course').glob('*.py'))
    exported = sorted(p.name for p in (tmp_path/'gan_course').glob('*.py'))
    assert exported == committed
    stale = [n for n in committed if not filecmp.cmp(ROOT/'gan_course'/n, tmp_path/'gan_course'/n, shallow=False)]
    assert not stale, f"run nbdev-export and commit: {stale} differ from what the notebooks export"


@pytest.mark.parametrize('module', ['data', 'losses', 'models', 'learner', 'stabilising'])
def test_each_module_imports_alone(module):
    subprocess.run([sys.executable, '-c', f'import gan_course.{module}'], check=True)


def test_no_undefined_names():
    "Every name a module uses is defined there: a name the notebook's hidden cells imported, but the exported cells did not, fails here."
    undefined = []
    class Collect(Reporter):
        def flake(self, message):
            if isinstance(message, UndefinedName): undefined.append(str(message))
    reporter = Collect(io.StringIO(), io.StringIO())
    for path in sorted((ROOT/'gan_course').glob('*.py')): check(path.read_text(), str(path.relative_to(ROOT)), reporter)
    assert not undefined, undefined
