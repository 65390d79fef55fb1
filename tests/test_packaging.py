"""The wheel: small, only the package, and usable on its own: `gan-course --help`, imports, and a lesson notebook
executed from an empty folder outside the repository (as in Colab, short mode)."""
import json, os, shutil, site, subprocess, sys, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('dist')
    subprocess.run([sys.executable, '-m', 'build', '--no-isolation', '--wheel', '--sdist', '--outdir', str(out), str(ROOT)],
                   check=True, capture_output=True)
    return next(out.glob('*.whl'))


@pytest.fixture(scope='module')
def venv(wheel, tmp_path_factory):
    "A fresh virtual environment with the wheel installed, then this interpreter's packages (torch, fastai) behind it."
    env_dir = tmp_path_factory.mktemp('venv')/'env'
    subprocess.run([sys.executable, '-m', 'venv', str(env_dir)], check=True)
    subprocess.run([str(env_dir/'bin'/'python'), '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', str(wheel)], check=True)
    # A venv made from a venv inherits only the base interpreter's site-packages, so add this interpreter's (system
    # Python, venv or conda env alike), after the install and after the venv's own: the wheel wins over an editable install.
    outer = site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])
    (next((env_dir/'lib').glob('python*/site-packages'))/'outer_site.pth').write_text(f'import site; list(map(site.addsitedir, {outer!r}))\n')
    return env_dir


def test_sdist_and_wheel_are_built(wheel):
    assert wheel.name.startswith('gan_course-') and list(wheel.parent.glob('gan_course-*.tar.gz'))


def test_wheel_holds_the_package_only_and_is_small(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert wheel.stat().st_size < 1_000_000, wheel.stat().st_size
    assert not [n for n in names if n.endswith(('.ipynb', '.gz', '.npz', '.png', '.safetensors'))]
    assert {n.split('/')[0] for n in names} == {'gan_course', wheel.name.split('-')[0] + '-' + wheel.name.split('-')[1] + '.dist-info'}
    for module in ('data', 'losses', 'models', 'learner', 'metrics', 'sampling', 'colour', 'conditional', 'reliability', 'cli'): assert f'gan_course/{module}.py' in names


def test_version_is_in_one_place(wheel):
    import gan_course
    assert f'gan_course-{gan_course.__version__}-' in wheel.name
    assert 'version' not in (ROOT/'pyproject.toml').read_text().split('[project]')[1].split('[')[0].replace('dynamic = ["version"]', '')


def test_installed_wheel_runs_outside_the_repository(venv, tmp_path):
    clean_env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH',)}
    where = subprocess.run([str(venv/'bin'/'python'), '-c', 'import gan_course, gan_course.learner; print(gan_course.__file__)'],
                           cwd=tmp_path, env=clean_env, capture_output=True, text=True, check=True).stdout
    assert str(venv) in where, where
    result = subprocess.run([str(venv/'bin'/'gan-course'), 'train', '--help'], cwd=tmp_path, env=clean_env, capture_output=True, text=True)
    assert result.returncode == 0 and '--data' in result.stdout


@pytest.mark.parametrize('lesson', ['01_data.ipynb', '08_sampling.ipynb']) # 08: saving and loading files, where torch warned
def test_a_lesson_runs_from_an_empty_folder_with_the_installed_wheel(venv, tmp_path, lesson):
    "Like a learner in Colab: one notebook, no repository, the package from the wheel; short mode; no error and no warning shown."
    shutil.copy(ROOT/'nbs'/lesson, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'MPLBACKEND')} | {'IN_TEST': '1', 'PATH': f"{venv/'bin'}:{os.environ['PATH']}"}
    subprocess.run([str(venv/'bin'/'python'), '-m', 'nbconvert', '--to', 'notebook', '--execute', '--output', 'ran.ipynb', lesson],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    outputs = [o for c in json.loads((tmp_path/'ran.ipynb').read_text())['cells'] for o in c.get('outputs', [])]
    assert not [o for o in outputs if o['output_type'] == 'error']
    assert not [''.join(o['text']) for o in outputs if o.get('name') == 'stderr' and 'Warning' in ''.join(o['text'])]
    assert any('image/png' in o.get('data', {}) for o in outputs)
