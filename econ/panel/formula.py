"""fixest-style formulas: ``y ~ x1 + x2 + i(year, ref=2013) | unit + province^year``.

Grammar (what :func:`parse_formula` accepts)

* ``lhs ~ rhs`` or ``lhs ~ rhs | fe1 + fe2 + a^b``. No ``|`` part: OLS with an intercept.
* ``rhs`` terms separated by ``+``:

  - a numeric (or boolean) column name -- the fast path, no formula library involved;
  - ``i(var)``, ``i(var, ref=r)``, ``i(var, ref=[r1, r2])``, ``i(var, keep=[...])``: one dummy per level of
    ``var`` except the reference level(s) (``ref=None`` / ``keep=None`` are the same as leaving them out); ``i(var, x, ref=r)`` interacts those dummies with the numeric column
    ``x`` (the fixest event-study idiom ``i(rel_time, treated, ref=-1)``). Term names follow **fixest**:
    ``var::level`` and ``var::level:x`` (integral levels print without a decimal point, e.g. ``year::2014``);
  - ``0`` / ``-1`` removes the intercept, ``1`` keeps it (the intercept is always absorbed when there are fixed
    effects);
  - anything else (``log(x)``, ``np.log(x)``, ``I(x**2)``, ``x1:x2``, ``x1*x2``, ``C(g)``) is evaluated by
    formulaic, with ``log``, ``exp``, ``sqrt``, ``abs`` and ``np`` available; its columns are named by formulaic.
* fixed effects: column names or interactions ``a^b`` (one effect per combination of levels).
* the left-hand side is a column name or a formulaic expression such as ``log(y)``.
* column names: ASCII names, any Python identifier (``收入差距``), or any name in backticks (```my col```,
  ```人均 GDP```) -- in regressors, ``i()`` terms, fixed effects and the left-hand side.

Not supported (raise :class:`~econ.errors.SpecificationError`): IV parts (``| endog ~ instr``), varying slopes
(``fe[x]``), multiple estimation (``sw()``, ``csw()``), term removal other than the intercept.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from econ._validate import require_columns
from econ.errors import SpecificationError

__all__ = ["ParsedFormula", "FactorTerm", "parse_formula", "split_top_level", "column_name"]

_IDENT = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_BACKTICKED = re.compile(r"`([^`]+)`")
_FORMULA_FUNCS = {"np", "log", "exp", "sqrt", "abs", "I", "C", "center", "scale", "poly", "bs", "Q"}


@dataclass
class FactorTerm:
    """An ``i(var, [x], ref=..., keep=...)`` term."""

    var: str
    by: str | None = None
    ref: list = field(default_factory=list)
    keep: list | None = None
    text: str = ""


@dataclass
class ParsedFormula:
    """The pieces of a formula: left-hand side, right-hand-side terms in order, intercept flag, fixed effects."""

    formula: str
    lhs: str
    terms: list  # of str (column or formulaic expression) or FactorTerm
    intercept: bool
    fixef: list[list[str]]  # each effect: the list of columns interacted (``a^b`` -> ["a", "b"])

    @property
    def fixef_names(self) -> list[str]:
        return ["^".join(parts) for parts in self.fixef]

    def variable_columns(self) -> list[str]:
        """Data columns the outcome and the regressors refer to (names inside expressions included), in order."""
        cols = _expression_columns(self.lhs)
        for t in self.terms:
            if isinstance(t, FactorTerm):
                cols += [t.var] + ([t.by] if t.by else [])
            else:
                cols += _expression_columns(t)
        return list(dict.fromkeys(cols))

    def fixef_columns(self) -> list[str]:
        """Data columns the fixed effects are built from."""
        return list(dict.fromkeys(c for parts in self.fixef for c in parts))


def is_column_name(text: str) -> bool:
    """True when ``text`` is a bare column name (read directly, no formula library involved).

    ASCII names with dots (``log_gdp``, ``x.1``), any Python identifier (``收入差距``) and a backticked name
    (```my col```, as in R and formulaic) are column names.
    """
    return column_name(text) is not None


def column_name(text: str) -> str | None:
    """The data column a term names (backticks removed), or None when the term is an expression.

    Examples
    --------
    >>> column_name("`收入 差距`"), column_name("收入差距"), column_name("log(x)")
    ('收入 差距', '收入差距', None)
    """
    text = text.strip()
    m = _BACKTICKED.fullmatch(text)
    if m:
        return m.group(1)
    return text if (_IDENT.match(text) or text.isidentifier()) else None


def _expression_columns(expr: str) -> list[str]:
    name = column_name(expr)
    return [name] if name is not None else formula_identifiers(expr)


def split_top_level(text: str, seps: str) -> list[tuple[str, str]]:
    """Split ``text`` at characters in ``seps`` that are outside brackets and quotes.

    Returns ``(sep_before, piece)`` pairs; the first piece has ``sep_before == ""``.
    """
    out, depth, quote, start, sep = [], 0, None, 0, ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise SpecificationError(f"unbalanced ')' in formula part {text!r}")
        elif depth == 0 and ch in seps:
            out.append((sep, text[start:i]))
            sep, start = ch, i + 1
    if depth != 0 or quote:
        raise SpecificationError(f"unbalanced brackets or quotes in formula part {text!r}")
    out.append((sep, text[start:]))
    return out


def parse_formula(formula: str) -> ParsedFormula:
    """Parse a fixest-style formula (see the module docstring); raises SpecificationError on bad syntax."""
    if not isinstance(formula, str) or "~" not in formula:
        raise SpecificationError(f"formula must be a string like 'y ~ x1 + x2 | unit + year', got {formula!r}")
    sides = split_top_level(formula, "~")
    if len(sides) != 2:
        raise SpecificationError(
            f"formula {formula!r} has more than one '~': IV formulas are not supported by econ.feols; "
            "use linearmodels.iv.IV2SLS (see econ.panel docs)"
        )
    lhs = sides[0][1].strip()
    if not lhs:
        raise SpecificationError(f"formula {formula!r} has no dependent variable")
    parts = [p for _, p in split_top_level(sides[1][1], "|")]
    if len(parts) > 2:
        raise SpecificationError(
            f"formula {formula!r} has more than one '|': IV formulas are not supported by econ.feols; "
            "use linearmodels.iv.IV2SLS (see econ.panel docs)"
        )
    terms, intercept = _parse_rhs(parts[0], formula)
    fixef = _parse_fixef(parts[1], formula) if len(parts) == 2 else []
    return ParsedFormula(formula=formula, lhs=lhs, terms=terms, intercept=intercept and not fixef, fixef=fixef)


def _parse_rhs(rhs: str, formula: str):
    terms, intercept = [], True
    pieces = split_top_level(rhs, "+-")
    if len(pieces) > 1 and not pieces[0][1].strip() and pieces[1][0] == "-":
        pieces = pieces[1:]  # rhs starting with "-1"
    for sign, raw in pieces:
        piece = raw.strip()
        if not piece:
            raise SpecificationError(f"empty term in formula {formula!r}")
        if piece in ("0", "1"):
            intercept = (sign == "-") if piece == "0" else (sign != "-")
            continue
        if sign == "-":
            raise SpecificationError(
                f"term removal '- {piece}' is not supported in {formula!r}; only '- 1' (no intercept) is"
            )
        if re.match(r"^(sw|csw|sw0|csw0|mvsw)\s*\(", piece):
            raise SpecificationError(f"multiple estimation ({piece}) is not supported; fit each model separately")
        if re.match(r"^i\s*\(", piece):
            terms.append(_parse_i(piece))
        else:
            terms.append(piece)
    return terms, intercept


def _literal(node: ast.AST, text: str):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "c":  # R's c(...)
        return [_literal(a, text) for a in node.args]
    try:
        value = ast.literal_eval(node)
    except ValueError as err:
        raise SpecificationError(f"could not read the value {ast.unparse(node)!r} in {text!r}: use a literal") from err
    return list(value) if isinstance(value, (list, tuple, set)) else value


def _parse_i(text: str) -> FactorTerm:
    quoted: dict[str, str] = {}

    def hide(m):  # backticked names -> identifiers ast can read
        quoted[f"_econ_bt{len(quoted)}_"] = m.group(1)
        return f"_econ_bt{len(quoted) - 1}_"

    try:
        call = ast.parse(_BACKTICKED.sub(hide, text.strip()), mode="eval").body
    except SyntaxError as err:
        raise SpecificationError(f"cannot parse the term {text!r}: {err.msg}") from err
    if not isinstance(call, ast.Call) or not call.args or len(call.args) > 2:
        raise SpecificationError(f"i() takes a factor and optionally a numeric variable: got {text!r}")
    names = []
    for a in call.args:
        if not isinstance(a, ast.Name):
            raise SpecificationError(f"the arguments of {text!r} must be column names, got {ast.unparse(a)!r}")
        names.append(quoted.get(a.id, a.id))
    term = FactorTerm(var=names[0], by=names[1] if len(names) > 1 else None, text=text.strip())
    for kw in call.keywords:
        if kw.arg not in ("ref", "keep"):
            raise SpecificationError(f"unknown argument {kw.arg!r} in {text!r}; i() accepts ref= and keep=")
        value = _literal(kw.value, text)
        if value is None:  # ref=None / keep=None: no reference level / no restriction, as leaving it out
            continue
        if kw.arg == "ref":
            term.ref = value if isinstance(value, list) else [value]
        elif kw.arg == "keep":
            term.keep = value if isinstance(value, list) else [value]
        else:
            raise SpecificationError(f"unknown argument {kw.arg!r} in {text!r}; i() accepts ref= and keep=")
    return term


def _parse_fixef(text: str, formula: str) -> list[list[str]]:
    out = []
    for sign, raw in split_top_level(text, "+"):
        piece = raw.strip()
        if not piece:
            raise SpecificationError(f"empty fixed effect in formula {formula!r}")
        if "[" in piece:
            raise SpecificationError(f"varying slopes ({piece}) are not supported by econ.feols")
        parts = [column_name(p) for _, p in split_top_level(piece, "^")]
        if any(p is None for p in parts):
            raise SpecificationError(
                f"fixed effect {piece!r} in {formula!r} must be a column name or an interaction a^b of columns "
                "(write names with spaces or symbols in backticks: `my col`)"
            )
        out.append(parts)
    return out


# ---------------------------------------------------------------------------------------------- data access
def numeric_column(data: pd.DataFrame, name: str, role: str) -> np.ndarray:
    """The column as float64 (NaN for missing), or a SpecificationError saying why it cannot be used."""
    s = data[name]
    if isinstance(s, pd.DataFrame):
        raise SpecificationError(f"column name {name!r} is duplicated in the data")
    if pd.api.types.is_bool_dtype(s.dtype) and s.dtype != object:
        arr = s.to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        arr = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        hint = f"; use i({name}) for one dummy per level" if role == "regressor" else ""
        raise SpecificationError(f"{role} {name!r} is not numeric (dtype {s.dtype}){hint}")
    arr = np.where(np.isinf(arr), np.nan, arr)  # +-inf are treated as missing, like fixest
    if arr.size and np.all(np.isnan(arr)):
        raise SpecificationError(f"{role} {name!r} has no non-missing values")
    return arr


def formula_identifiers(expr: str) -> list[str]:
    """Names an expression refers to that are not known formula functions."""
    quoted = _BACKTICKED.findall(expr)
    expr = _BACKTICKED.sub("_econ_quoted_", expr)
    try:
        tree = ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError:
        return quoted + re.findall(r"[^\W\d][\w]*", expr)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in _FORMULA_FUNCS:
            names.append(node.id)
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return quoted + [n for n in dict.fromkeys(names) if n not in calls and n != "_econ_quoted_"]


def eval_formulaic(expr: str, data: pd.DataFrame, intercept_encoding: bool = True) -> pd.DataFrame:
    """Evaluate one formulaic term on ``data`` keeping every row (missing values stay NaN).

    The term is evaluated next to an intercept so categorical encodings drop a reference level, as fixest does;
    the intercept column is then removed.
    """
    import formulaic

    unknown = [n for n in formula_identifiers(expr) if n not in data.columns]
    if unknown:
        require_columns(data, unknown, "regressor")
    context = {"np": np, "log": np.log, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs}
    spec = ("1 + " if intercept_encoding else "0 + ") + expr
    try:
        mm = formulaic.model_matrix(spec, data, na_action="ignore", context=context)
    except Exception as err:  # formulaic raises many kinds; report the term
        raise SpecificationError(f"could not evaluate the term {expr!r}: {err}") from err
    mm = pd.DataFrame(mm)
    if "Intercept" in mm.columns:
        mm = mm.drop(columns="Intercept")
    for c in mm.columns:
        if not pd.api.types.is_numeric_dtype(mm[c].dtype):
            raise SpecificationError(f"the term {expr!r} is not numeric")
    return mm.astype(float)


def format_level(value) -> str:
    """fixest-style level label: integral numbers without a decimal point."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def factor_dummies(term: FactorTerm, data: pd.DataFrame) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Dummy columns of an ``i()`` term: (matrix n x k, names, missing mask)."""
    require_columns(data, [term.var] + ([term.by] if term.by else []), "i() variable")
    s = data[term.var]
    missing = s.isna().to_numpy()
    if missing.all():
        raise SpecificationError(f"i() variable {term.var!r} has no non-missing values")
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = [lv for lv in s.cat.categories if (s == lv).any()]
    else:
        levels = sorted(pd.unique(s[~missing]), key=_sort_key)
    numeric = pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype)
    refs = [_match_level(r, levels, numeric, term) for r in term.ref]
    keep = None if term.keep is None else {_match_level(k, levels, numeric, term) for k in term.keep}
    chosen = [lv for lv in levels if lv not in refs and (keep is None or lv in keep)]
    if not chosen:
        raise SpecificationError(f"{term.text}: no level left after removing the reference level(s)")
    codes = pd.Index(levels).get_indexer(s.where(~s.isna()))
    pos = pd.Index(levels).get_indexer(chosen)
    mat = (codes[:, None] == pos[None, :]).astype(float)
    names = [f"{term.var}::{format_level(lv)}" for lv in chosen]
    if term.by:
        by = numeric_column(data, term.by, "i() interaction variable")
        missing = missing | np.isnan(by)
        mat *= np.nan_to_num(by)[:, None]
        names = [f"{nm}:{term.by}" for nm in names]
    return mat, names, missing


def _sort_key(v):
    return (0, float(v), "") if isinstance(v, (int, float, np.integer, np.floating)) else (1, 0.0, str(v))


def _match_level(value, levels, numeric: bool, term: FactorTerm):
    for lv in levels:
        if lv == value:
            return lv
        if numeric:
            try:
                if float(lv) == float(value):
                    return lv
            except (TypeError, ValueError):
                pass
        elif str(lv) == str(value):
            return lv
    shown = ", ".join(format_level(lv) for lv in levels[:12]) + (" ..." if len(levels) > 12 else "")
    raise SpecificationError(f"{term.text}: {value!r} is not a level of {term.var!r} (levels: {shown})")
