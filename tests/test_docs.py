"""The docs, checked without Quarto: nbdev processes the notebooks (the step before `quarto render`), nbconvert
renders each to HTML, and every page is checked for its title, figures, math, clean outputs and API docs."""
import json, re, sys
from pathlib import Path
import nbformat, pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
from docs_pages import COLUMN_PX, LINE_CHARS, html_pages # the pages as tools/docs_pages.py renders and photographs them
NOTEBOOKS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))
LESSONS_WITH_FIGURES = [n for n in NOTEBOOKS if n[:2].isdigit() and n not in ('11a_cli_internals.ipynb', '11b_commands.ipynb', '13_files.ipynb', '14_fast_training.ipynb')] # the appendices show code, text and tables
LESSONS_WITH_MATH = ['02_minimax.ipynb', '07b_stabilising.ipynb']
LOCAL_PATHS = re.compile(r'(/work/|/root/|/home/\w+|/tmp/|/Users/\w+|C:\\\\Users)')


@pytest.fixture(scope='module')
def pages(tmp_path_factory):
    "Every notebook, processed by nbdev for docs and rendered to HTML by nbconvert: {name: html}."
    return html_pages(tmp_path_factory.mktemp('site'))


def _title(name):
    first = json.loads((ROOT/'nbs'/name).read_text())['cells'][0]
    return ''.join(first['source']).splitlines()[0].lstrip('# ').strip()


def test_every_notebook_has_a_page(pages):
    assert sorted(pages) == NOTEBOOKS


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_page_has_its_title(pages, name):
    plain = lambda text: re.sub(r'</?code>|`', '', text)
    assert plain(_title(name)) in plain(pages[name]), _title(name)


@pytest.mark.parametrize('name', LESSONS_WITH_FIGURES)
def test_lesson_pages_show_figures(pages, name):
    assert 'data:image/png;base64,' in pages[name]


@pytest.mark.parametrize('name', LESSONS_WITH_MATH)
def test_math_pages_have_math(pages, name):
    assert '$$' in pages[name] and 'mathjax' in pages[name].lower()


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_committed_outputs_are_clean(name):
    "No errors, tracebacks or local absolute paths in the outputs the docs show."
    for cell in json.loads((ROOT/'nbs'/name).read_text())['cells']:
        for out in cell.get('outputs', []):
            assert out['output_type'] != 'error', f"{name}: an error output"
            text = ''.join(out.get('text', '')) + ''.join(''.join(v) for k, v in out.get('data', {}).items() if k.startswith('text/'))
            assert 'Traceback' not in text, f"{name}: a traceback in an output"
            assert not LOCAL_PATHS.search(text), f"{name}: a local path in an output: {LOCAL_PATHS.search(text).group(0)}"


def test_every_exported_function_is_documented(pages):
    "nbdev's show_doc renders every exported function and class as a heading on the page of the notebook that defines it."
    import importlib, inspect
    headings = set(re.findall(r'<h[2-4][^>]*>\s*(?:<code>)?([\w.]+)', ''.join(pages.values())))
    missing = []
    for module in ('data', 'losses', 'models', 'learner', 'sampling', 'cli', 'files'):
        mod = importlib.import_module(f'gan_course.{module}')
        for name in mod.__all__:
            obj = getattr(mod, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, '__module__', '') == mod.__name__ and name not in headings:
                missing.append(f'{module}.{name}')
    assert not missing, f"exported but not documented on any page: {missing}"


QUARTO_IMAGES = ('image/png', 'image/jpeg', 'image/svg+xml') # the image outputs Quarto shows; others fall back to their text


def image_outputs_quarto_cannot_show(nb:dict) -> list:
    "The image types of each output that has images but none Quarto shows (an `image/gif` alone renders as its text)."
    outputs = [out for cell in nb['cells'] for out in cell.get('outputs', [])]
    kinds = [[k for k in out.get('data', {}) if k.startswith('image/')] for out in outputs]
    return [k for k in kinds if k and not any(q in k for q in QUARTO_IMAGES)]


def test_the_image_check_can_fail():
    gif = {'cells': [{'outputs': [{'data': {'image/gif': 'R0lG', 'text/plain': '<IPython.core.display.Image object>'}}]}]}
    assert image_outputs_quarto_cannot_show(gif) == [['image/gif']]


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_every_image_is_one_quarto_shows(name):
    assert image_outputs_quarto_cannot_show(json.loads((ROOT/'nbs'/name).read_text())) == [], f"{name}: show GIFs as HTML <img> with a data URI"


def figures_shrunk_below(nb:dict, scale:float=0.8) -> list:
    "The pixel widths of the PNG figures that the body column would shrink below `scale` of their size."
    import base64, io
    from PIL import Image
    widths = [Image.open(io.BytesIO(base64.b64decode(out['data']['image/png']))).width
              for cell in nb['cells'] for out in cell.get('outputs', []) if 'image/png' in out.get('data', {})]
    return [w for w in widths if COLUMN_PX / w < scale]


def test_the_figure_width_check_can_fail():
    import base64, io
    from PIL import Image
    def figure(width):
        buffer = io.BytesIO(); Image.new('RGB', (width, 10)).save(buffer, 'PNG')
        return {'data': {'image/png': base64.b64encode(buffer.getvalue()).decode()}}
    assert figures_shrunk_below({'cells': [{'outputs': [figure(1590), figure(990)]}]}) == [1590]


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_figures_fit_the_column(name):
    "A figure over 1,000 px wide reaches the reader below 0.8 of its size: 10-point labels under 11 px (lesson 03's strip was 0.5)."
    assert figures_shrunk_below(json.loads((ROOT/'nbs'/name).read_text())) == [], f"{name}: make the figure at most 10 inches wide"


def docs_runs(path:Path) -> list:
    "The code cells nbdev's docs processing runs in the notebook at `path` (by nbdev's own rule: exports, imports, show_doc)."
    import warnings
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return [cell for cell in NBProcessor(path, procs=[]).nb.cells if _do_eval(cell)]


def _is_setup(cell) -> bool:
    "A cell marked `#| exec_doc` that installs the package in Colab or sets up warnings, and does nothing else."
    import ast
    colab = 'COURSE_VERSION =' in cell.source and 'google.colab' in cell.source
    warnings_only = all(ast.unparse(s) == 'import warnings' or ast.unparse(s).startswith('warnings.') for s in ast.parse(cell.source).body)
    return 'exec_doc' in cell.directives_ and (colab or warnings_only)


def lesson_code_run_by_docs(path:Path) -> list:
    "The cells docs processing would run that are neither exports, show_doc calls, imports alone nor setup: tests, training, plots."
    import ast
    from nbdev.processors import _show_docs
    exported = lambda cell: cell.directives_.keys() & {'export', 'exports', 'exporti'}
    only_imports = lambda cell: all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in ast.parse(cell.source).body)
    return [cell.idx_ for cell in docs_runs(path) if not (exported(cell) or only_imports(cell) or _is_setup(cell) or _show_docs(cell.parsed_()))]


def test_the_docs_run_check_can_fail(tmp_path):
    cells = ["#| exec_doc\nimport warnings; warnings.filterwarnings('ignore')", "import torch\nlearn.fit(5)",
             "#| exec_doc\nimport warnings; warnings.filterwarnings('ignore')\nlearn.fit(5)", "from math import pi", "learn.fit(5)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, tmp_path/'lesson.ipynb')
    assert lesson_code_run_by_docs(tmp_path/'lesson.ipynb') == [1, 2]


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_docs_processing_runs_no_lesson_code(name):
    "nbdev's docs build runs every cell with an import: one that also trains or tests would run at every deploy (lesson 14's op count did)."
    assert lesson_code_run_by_docs(ROOT/'nbs'/name) == [], f"{name}: move these cells' imports into the lesson's imports cell"


def placeholders_read_as_tags(text:str) -> list:
    "The `<name>` placeholders in `text` outside backticks: Quarto's markdown takes them for HTML tags and drops them."
    outside = re.sub(r'`[^`]*`', '', text)
    return re.findall(r'<[a-z_]+>', outside)


def test_the_placeholder_check_can_fail():
    assert placeholders_read_as_tags("Write into `folder`/<class>/<index>.png") == ['<class>', '<index>']
    assert placeholders_read_as_tags("Write into `folder/<class>/<index>.png`") == []


def test_docstrings_keep_their_placeholders():
    "A placeholder such as <digit> in an exported docstring sits inside backticks, so the API block shows it."
    import importlib, inspect
    found = []
    for path in sorted((ROOT/'gan_course').glob('*.py')):
        if path.stem.startswith('_'): continue
        mod = importlib.import_module(f'gan_course.{path.stem}')
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            docs = [obj.__doc__ or ''] + [m.__doc__ or '' for _, m in inspect.getmembers(obj, inspect.isfunction)] if inspect.isclass(obj) else [getattr(obj, '__doc__', '') or '']
            found += [f'{path.stem}.{name}: {p}' for doc in docs if callable(obj) for p in placeholders_read_as_tags(doc)]
    assert not found, found


def test_the_training_gif_is_on_its_page(pages):
    assert 'src="data:image/gif;base64,' in pages['08_sampling.ipynb']


def test_the_site_links_lessons_and_the_repository():
    "Quarto leaves previous/next links off unless asked, and shows no repository link in the navbar unless given one."
    import yaml
    website = yaml.safe_load((ROOT/'nbs'/'_quarto.yml').read_text())['website']
    assert website.get('page-navigation') is True
    assert any(item.get('icon') == 'github' and item.get('href', '').startswith('https://github.com/') for item in website['navbar'].get('right', []))


HIDDEN_CODE = re.compile(r'^#\|\s*(hide|echo:\s*false|exports?|exporti)\b', re.M) # nbdev shows an export as its API block
FENCED = re.compile(r'^```[^\n]*\n(.*?)^```', re.M | re.S) # a code block in markdown


def code_lines_too_long(nb:dict, limit:int=LINE_CHARS) -> list:
    "The lines over `limit` characters of the code a docs page shows: its code cells' and its markdown's code blocks."
    shown = []
    for cell in nb['cells']:
        source = ''.join(cell['source'])
        if cell['cell_type'] == 'code' and not HIDDEN_CODE.search(source): shown += source.splitlines()
        if cell['cell_type'] == 'markdown': shown += [l for block in FENCED.findall(source) for l in block.splitlines()]
    return [line for line in shown if len(line) > limit]


def test_the_code_line_check_can_fail():
    nb = {'cells': [{'cell_type': 'code', 'source': [f"print({'x' * 85!r})"]},
                    {'cell_type': 'code', 'source': ['#| hide\n', 'x' * 120]},
                    {'cell_type': 'markdown', 'source': ['Run\n', '```sh\n', 'y' * 95 + '\n', '```\n', 'z' * 120]}]}
    test_lines = code_lines_too_long(nb)
    assert test_lines == [f"print({'x' * 85!r})", 'y' * 95], test_lines


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_shown_code_lines_fit_the_column(name):
    long = code_lines_too_long(json.loads((ROOT/'nbs'/name).read_text()))
    assert long == [], f"{name}: {len(long)} code lines over {LINE_CHARS} characters wrap in the column, e.g. {long[0]!r}"


# LeanLearner: fastai's `Learner` parameters and comments, as fastai writes them; ImageSet: a dataclass defined in
# the notebook, whose fields' comments nbdev cannot read when it builds the docs, so it puts the fields on one line
UNFIXABLE_SIGNATURES = {'LeanLearner', 'ImageSet'}


def signature_lines_too_long(page:str, limit:int=LINE_CHARS) -> list:
    "The lines over `limit` characters of a page's API signatures (nbdev lays them out a parameter a line, with comments)."
    import html
    blocks = [html.unescape(re.sub('<[^>]+>', '', b)) for b in re.findall(r'<div class="highlight"><pre>(.*?)</pre>', page, re.S)]
    names = [re.match(r'\s*(?:async def|def|class) (\w+)', b) for b in blocks]
    signatures = [b for b, name in zip(blocks, names) if name and name[1] not in UNFIXABLE_SIGNATURES]
    return [line for b in signatures for line in b.splitlines() if len(line) > limit]


def test_the_signature_check_can_fail():
    block = lambda name, param: f'<div class="highlight"><pre><span>def</span> {name}(\n    {param}\n)</pre></div>'
    page = block('fits', 'x:int=1, # short') + block('wraps', 'x:int=1, # ' + 'long ' * 20) + block('LeanLearner', 'y ' * 60)
    assert signature_lines_too_long(page) == ['    x:int=1, # ' + 'long ' * 20]


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_api_signatures_fit_the_column(pages, name):
    long = signature_lines_too_long(pages[name])
    assert long == [], f"{name}: shorten the docments comments of {len(long)} signature lines, e.g. {long[0]!r}"


def test_long_code_lines_wrap():
    "Quarto scrolls a code line wider than the column unless told to wrap it; a longer line (an output's) still reads."
    import yaml
    assert yaml.safe_load((ROOT/'nbs'/'_quarto.yml').read_text())['format']['html'].get('code-overflow') == 'wrap'


def test_wide_tables_scroll_in_the_column():
    "A live epoch table with a dozen score columns is wider than the column: it scrolls in its own box, not over the margin."
    assert re.search(r'\.cell-output-display\s*\{[^}]*overflow-x:\s*auto', (ROOT/'nbs'/'styles.css').read_text())


def _workflow_commands(name:str) -> list:
    "The `run:` commands of a GitHub workflow's one job, in order."
    import yaml
    jobs = yaml.safe_load((ROOT/'.github'/'workflows'/name).read_text())['jobs']
    return [step['run'] for job in jobs.values() for step in job['steps'] if 'run' in step]


def test_the_workflows_install_what_ci_tests_and_deploy_only_after_the_tests():
    "The site is built with the torch CI pins (an unpinned one changed under the lessons) and only after the README's tests pass."
    pins = re.search(r'torch==\S+ torchvision==\S+', (ROOT/'.ci'/'run').read_text()).group()
    for name in ('test.yaml', 'deploy.yaml'): assert any(pins in run for run in _workflow_commands(name)), name
    deploy = _workflow_commands('deploy.yaml')
    tested = [i for i, run in enumerate(deploy) if 'tools/test' in run]
    built = [i for i, run in enumerate(deploy) if 'nbdev-docs' in run]
    assert tested and built and tested[0] < built[0]


def colab_versions() -> dict:
    "The version each lesson's Colab cell installs (its `COURSE_VERSION`), by notebook; None where a cell installs unpinned."
    found = {}
    for name in NOTEBOOKS:
        for cell in json.loads((ROOT/'nbs'/name).read_text())['cells']:
            source = ''.join(cell['source'])
            if 'google.colab' in source and 'gan-course/gan_course' in source:
                pinned = re.search(r"COURSE_VERSION = '([^']+)'", source)
                found[name] = pinned.group(1) if pinned and '@{ref}' in source else None
    return found


def test_every_colab_cell_installs_the_lesson_s_own_version():
    "An unpinned install gave a lesson from an older commit whatever main held; each cell pins the package version it was written with."
    import gan_course
    versions = colab_versions()
    assert len(versions) >= 16 and set(versions.values()) == {gan_course.__version__}, versions


def api_noise() -> list:
    "What nbdev's API blocks would show wrongly: `NoneType` for an unannotated `x=None`, fastai's event arguments as a callback's, a `**kwargs` comment as the return's."
    import importlib, inspect, pkgutil, gan_course
    from fastcore.docments import docments
    from fastai.callback.core import _events
    found = []
    for info in pkgutil.iter_modules(gan_course.__path__):
        if info.name.startswith('_'): continue
        module = importlib.import_module(f'gan_course.{info.name}')
        for name in getattr(module, '__all__', []):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != module.__name__: continue
            try: params = inspect.signature(obj).parameters.values()
            except ValueError: continue
            found += [f'{info.name}.{name}({p.name}=None) shows NoneType' for p in params if p.default is None and p.annotation is inspect.Parameter.empty and p.name not in _events]
            found += [f'{info.name}.{name} shows fastai event arguments' for p in list(params)[:1] if p.name in _events]
            if any(p.kind is p.VAR_KEYWORD for p in params) and inspect.isfunction(obj) and docments(obj, full=True).get('return', {}).get('docment'):
                found.append(f"{info.name}.{name}: the **kwargs comment shows as the return's")
    return found


def test_api_blocks_show_no_noise():
    assert not api_noise()


def test_the_sidebar_numbers_every_lesson():
    "nbdev's own sidebar lists the pages by title alone; ours (kept by custom_sidebar) gives each lesson its number, and holds every page once."
    import tomllib, yaml
    assert tomllib.loads((ROOT/'pyproject.toml').read_text())['tool']['nbdev']['custom_sidebar'] is True
    contents = yaml.safe_load((ROOT/'nbs'/'sidebar.yml').read_text())['website']['sidebar']['contents']
    hrefs = [item if isinstance(item, str) else item['href'] for item in contents]
    assert sorted(hrefs) == NOTEBOOKS
    for item in contents:
        if isinstance(item, dict): assert item['text'].startswith(item['href'].split('_')[0] + ' · '), item
