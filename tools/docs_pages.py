"""The docs pages without Quarto, as DESIGN.md section 6 says: nbdev processes the notebooks (the step before `quarto
render`), nbconvert writes each page, and headless Chromium (Debian's `chromium`) lays it out at 1280 px with Quarto's
800 px body column and wrapped code, measures it and photographs it.

    python tools/docs_pages.py OUT [NOTEBOOK ...]

writes OUT/<page>.html, OUT/<page>-01.png, -02.png ... (the page in 1280 x 1600 px screens) and OUT/measures.json: for
each page its height, every figure's natural and shown width, the shown code lines too long for the column (they wrap)
and the tables wider than it (with their header and whether their box scrolls).
MathJax comes from the internet, so offline the math shows as its TeX source."""
import json, os, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREEN = (1280, 1600) # Chromium's window, and each screenshot's size
COLUMN_PX = 800 # Quarto's body column: a wider figure is shrunk to fit, and its text with it
LINE_CHARS = 90 # code characters that fit the column: Quarto's code is 14 px monospace, about 8.4 px a character
QUARTO_LIKE = """<style>
.jp-Notebook { max-width: COLUMN_PXpx; margin: 0 auto; padding: 0; } /* Quarto's body column */
.jp-InputPrompt, .jp-OutputPrompt { display: none; } /* Quarto shows no prompts */
.jp-Cell img { max-width: 100%; height: auto; } /* Quarto shrinks a wider figure to the column */
.jp-InputArea pre { white-space: pre-wrap; } /* code-overflow: wrap, as _quarto.yml asks */
.jp-OutputArea-output { overflow-x: auto; } /* .cell-output-display in styles.css */
</style>""".replace('COLUMN_PX', str(COLUMN_PX))
MEASURE = """<script>
window.addEventListener('load', () => {
  const column = document.querySelector('.jp-Notebook').clientWidth;
  const wide = sel => [...document.querySelectorAll(sel)].filter(e => e.scrollWidth > column + 1);
  const code = [...document.querySelectorAll('.jp-InputArea pre')].flatMap(e => e.textContent.split('\\n'));
  const figures = [...document.querySelectorAll('.jp-OutputArea img')].map(i => [i.naturalWidth, i.clientWidth]);
  const out = document.createElement('pre'); out.id = 'measures';
  out.textContent = JSON.stringify({height: document.documentElement.scrollHeight, column, figures,
                                    long_code_lines: code.filter(l => l.length > LINE_CHARS),
                                    wide_tables: wide('.jp-OutputArea table').map(t => [t.scrollWidth, t.rows[0].textContent.trim().slice(0, 60),
                                      getComputedStyle(t.closest('.jp-OutputArea-output')).overflowX])});
  document.body.appendChild(out);
});
</script>""".replace('LINE_CHARS', str(LINE_CHARS))


def clean(nb:dict):
    "Drop what nbdev leaves that nbconvert's validator rejects (extra cell keys, float timings); hide the code Quarto hides."
    import nbformat
    for cell in nb['cells']:
        for key in [k for k in cell if k not in ('id', 'cell_type', 'metadata', 'source', 'outputs', 'execution_count', 'attachments')]: del cell[key]
        cell.get('metadata', {}).pop('execution', None)
        if '#| echo: false' in ''.join(cell.get('source', '')): cell['metadata']['transient'] = {'remove_source': True} # as Quarto hides it
    return nbformat.reads(json.dumps(nb), as_version=4)


def processed_notebooks(site:Path, names:list|None=None) -> list:
    "Copy the notebooks (all, or those `names`) and the package into `site` and process them as nbdev does for the docs: their paths."
    from nbdev.quarto import refresh_quarto_yml
    from nbdev.serve import proc_nbs
    keep = set(names or [p.name for p in (ROOT/'nbs').glob('*.ipynb')])
    skip = lambda folder, files: [f for f in files if f in ('_proc', '.ipynb_checkpoints') or (f.endswith('.ipynb') and f not in keep)]
    shutil.copytree(ROOT/'nbs', site/'nbs', ignore=skip)
    shutil.copytree(ROOT/'gan_course', site/'gan_course', ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(ROOT/'pyproject.toml', site)
    cwd = os.getcwd(); os.chdir(site)
    try: refresh_quarto_yml(); return sorted(Path(proc_nbs(n_workers=0)).glob('*.ipynb'))
    finally: os.chdir(cwd)


def html_pages(site:Path, names:list|None=None) -> dict:
    "Every notebook (or those `names`), processed for docs by nbdev and rendered to HTML by nbconvert: {name: html}."
    from nbconvert import HTMLExporter
    exporter = HTMLExporter()
    return {p.name: exporter.from_notebook_node(clean(json.loads(p.read_text())))[0] for p in processed_notebooks(site, names)}


def chromium(*args:str) -> str:
    "Run headless Chromium with `args`: its standard output."
    found = shutil.which('chromium') or shutil.which('chromium-browser')
    if not found: sys.exit("tools/docs_pages.py: no chromium here; install Debian's: sudo apt-get install chromium")
    command = [found, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--virtual-time-budget=10000', *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=300).stdout


def measure(page:Path) -> dict:
    "The page's layout at 1280 px: its height, figures' natural and shown widths, code lines that wrap, tables wider than the column."
    dom = chromium(f'--window-size={SCREEN[0]},{SCREEN[1]}', '--dump-dom', page.as_uri())
    return json.loads(dom.split('<pre id="measures">', 1)[1].split('</pre>', 1)[0].replace('&quot;', '"'))


def screenshots(page:Path, height:int, out:Path) -> list:
    "Photograph the whole page at 1280 px and cut it into 1600 px screens: their paths."
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None
    whole = out/f'{page.stem}-whole.png'
    chromium(f'--window-size={SCREEN[0]},{height}', f'--screenshot={whole}', page.as_uri())
    image, paths = Image.open(whole), []
    for i, top in enumerate(range(0, image.height, SCREEN[1]), 1):
        paths.append(out/f'{page.stem}-{i:02d}.png')
        image.crop((0, top, SCREEN[0], min(top + SCREEN[1], image.height))).save(paths[-1])
    whole.unlink()
    return paths


def main(out:str, *names:str):
    "Write the pages, their screenshots and their measures into `out`."
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as site:
        pages = html_pages(Path(site), list(names) or None)
    measures = {}
    for name, html in pages.items():
        page = out/name.replace('.ipynb', '.html')
        page.write_text(html.replace('</head>', QUARTO_LIKE + MEASURE + '</head>', 1))
        measures[name] = measure(page)
        measures[name]['screens'] = len(screenshots(page, measures[name]['height'], out))
        shown = {k: len(v) if k == 'long_code_lines' else v for k, v in measures[name].items() if k != 'figures'}
        print(name, json.dumps(shown), flush=True)
    (out/'measures.json').write_text(json.dumps(measures, indent=1))


if __name__ == '__main__': main(*sys.argv[1:])
