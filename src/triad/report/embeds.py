"""Figures embedded in the page (with links to their files) and the methods section as HTML."""

import base64
import io
import re
from pathlib import Path

from triad.report.reading import relative_link
from triad.report.texts import CAPTIONS


def _embed(path: Path) -> str:
    """Return a data URI of a 256-colour copy of a PNG (about a third of the 300 dpi file)."""
    data = path.read_bytes()
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            im.load()
            flat = Image.new("RGB", im.size, (255, 255, 255))  # transparency onto white
            flat.paste(im, mask=im.getchannel("A") if im.mode in ("RGBA", "LA") else None)
            buf = io.BytesIO()
            # figures use a handful of palette colours and anti-aliasing: 256 colours
            # keep them indistinguishable at screen size
            flat.quantize(256, method=Image.Quantize.FASTOCTREE).save(buf, "PNG")
        if buf.tell() < len(data):
            data = buf.getvalue()
    except (ImportError, OSError, ValueError):
        pass  # an unreadable or odd PNG is embedded as it is
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _caption(stem: str, lang: str) -> str:
    for prefix, text in CAPTIONS.items():
        if stem.startswith(prefix):
            if prefix == "ppc":
                return f"{text}: {stem.removeprefix('ppc_')}."
            return text
    return stem.replace("_", " ").capitalize() + "."


def figure(path: Path, base: Path, lang: str) -> dict:
    """Return one embedded figure with links to its full-resolution files and its data CSV."""
    links = []
    for ext, label in ((".png", "PNG"), (".pdf", "PDF"), (".svg", "SVG"), (".csv", "CSV")):
        other = path.with_suffix(ext)
        if other.is_file():
            links.append({"href": relative_link(other, base), "label": label})
    return {"id": "fig-" + re.sub(r"[^A-Za-z0-9_-]", "-", path.stem), "name": path.stem,
            "src": _embed(path), "caption": _caption(path.stem, lang), "links": links}


# ------------------------------------------------------------------ methods
def methods_html(path: Path) -> str | None:
    """Render the generated ``methods.md`` as HTML, headings one level below the report's."""
    if not path.is_file():
        return None
    from markdown_it import MarkdownIt

    # html off: spec descriptions and prior justifications are text, never markup
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(path.read_text(encoding="utf-8"))
    # the file's own '# Methods' is the report's section heading already
    if tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        tokens = tokens[3:]
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(int(tok.tag[1]) + 1, 6)}"
    return md.renderer.render(tokens, md.options, {})
