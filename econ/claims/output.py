"""Writing a claim's outputs: tables as Markdown, LaTeX and CSV; figures as PNG; JSON with plain types.

Kept dependency-free (no tabulate / jinja2) so ``econ replicate`` needs only the core install.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["to_markdown", "to_latex", "write_table", "write_regressions", "write_figure", "jsonable", "flatten",
           "dump_json"]

_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v == round(v) and abs(v) < 1e12:
            return str(int(round(v)))
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(value)


def _cells(df: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = [str(c) for c in df.columns]
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return header, rows


def _numeric(df: pd.DataFrame) -> list[bool]:
    """Which columns hold numbers (right-aligned); booleans are shown as yes/no and are not."""
    return [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned)."""
    header, rows = _cells(df)
    numeric = _numeric(df)
    esc = lambda s: s.replace("|", r"\|")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "| " + " | ".join("---:" if n else "---" for n in numeric) + " |"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_latex(df: pd.DataFrame, caption: str | None = None) -> str:
    """A booktabs tabular (wrapped in a table environment when a caption is given)."""
    header, rows = _cells(df)
    numeric = _numeric(df)
    esc = lambda s: "".join(_LATEX_ESCAPES.get(ch, ch) for ch in s)  # noqa: E731
    body = ["\\begin{tabular}{" + "".join("r" if n else "l" for n in numeric) + "}", "\\toprule",
            " & ".join(esc(h) for h in header) + " \\\\", "\\midrule"]
    body += [" & ".join(esc(c) for c in row) + " \\\\" for row in rows]
    body += ["\\bottomrule", "\\end{tabular}"]
    if caption:
        body = ["\\begin{table}[htbp]", "\\centering", f"\\caption{{{esc(caption)}}}"] + body + ["\\end{table}"]
    return "\n".join(body) + "\n"


def write_table(df: pd.DataFrame, out_dir: Path, name: str, caption: str | None = None) -> dict:
    """Write ``name``.md, .tex and .csv into ``out_dir``; return their file names."""
    out_dir = Path(out_dir)
    md = to_markdown(df) + (f"\nTable: {caption}\n" if caption else "")
    (out_dir / f"{name}.md").write_text(md, encoding="utf-8")
    (out_dir / f"{name}.tex").write_text(to_latex(df, caption), encoding="utf-8")
    df.to_csv(out_dir / f"{name}.csv", index=False)
    return {"md": f"{name}.md", "tex": f"{name}.tex", "csv": f"{name}.csv", "caption": caption or ""}


def write_regressions(results, out_dir: Path, name: str, model_names=None, caption: str | None = None) -> dict:
    """Side-by-side regression table (``econ.etable``) as ``name``.md, .tex and .html; return the file names."""
    from econ.tables import etable

    files = {}
    for fmt, ext in (("markdown", "md"), ("latex", "tex"), ("html", "html")):
        path = Path(out_dir) / f"{name}.{ext}"
        etable(results, format=fmt, model_names=model_names, file=path)
        if caption and ext != "html":  # the paper shows the html with the caption above it
            lead = f"% {caption}\n" if ext == "tex" else ""
            tail = f"\nTable: {caption}\n" if ext == "md" else ""
            path.write_text(lead + path.read_text(encoding="utf-8") + tail, encoding="utf-8")
        files[ext] = f"{name}.{ext}"
    files["caption"] = caption or ""
    return files


def write_figure(fig, out_dir: Path, name: str) -> str:
    """Save a matplotlib figure as ``name``.png (fixed dpi and metadata, so reruns give the same file) and close it."""
    import matplotlib.pyplot as plt

    path = Path(out_dir) / f"{name}.png"
    fig.savefig(path, dpi=130, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path.name


def jsonable(obj):
    """Numbers, strings, lists and dicts only (numpy scalars unwrapped, NaN as None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (pd.Series,)):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return None if math.isnan(v) or math.isinf(v) else v
    if obj is None or isinstance(obj, str):
        return obj
    if obj is pd.NA:
        return None
    return str(obj)


def flatten(obj, prefix: str = "") -> dict:
    """Nested dicts/lists to one level with dotted keys (``a.b.0``)."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = obj
    return out


def dump_json(obj, path: Path) -> None:
    Path(path).write_text(json.dumps(jsonable(obj), indent=2, ensure_ascii=False, sort_keys=False) + "\n",
                          encoding="utf-8")
