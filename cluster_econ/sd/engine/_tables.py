"""Tables and external inputs for the kernel compiler: lookups and GET XLS/DIRECT constants, data, lookups.

External files are read once, at compile time, with PySD's own readers (``pysd.py_backend.external``),
and become constant arrays of the kernel.
"""

from __future__ import annotations

import codecs
import io
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from cluster_econ.errors import UnsupportedConstructError

from ._state import CompilerState


class TablesMixin(CompilerState):
    """Read lookup tables and external data (used by ``KernelCompiler``)."""

    def _external(self, kind: str, ast: Any, ctx: dict) -> Any:
        """Values of a GET XLS/DIRECT CONSTANTS, DATA or LOOKUPS component, read with PySD's readers."""
        from pysd.py_backend import external

        el = self.elements[ctx["element"]]
        coords = self.subs.simplify_subscript_input(ctx["def_subs"], el.subscripts)[0] if ctx["def_subs"] else {}
        name = f"_ext_{ctx['element']}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "constant":
                    obj = external.ExtConstant(ast.file, ast.tab, ast.cell, coords, self.section.root, coords, name)
                elif kind == "data":
                    obj = external.ExtData(ast.file, ast.tab, ast.time_row_or_col, ast.cell, ctx.get("keyword"),
                                           coords, self.section.root, coords, name)
                else:
                    obj = external.ExtLookup(ast.file, ast.tab, ast.x_row_or_col, ast.cell, coords,
                                             self.section.root, coords, name)
                obj.initialize()
            self.external_files.add(str(ast.file))
        except Exception as err:
            raise self._fail(f"The external {kind} in {ast.file!r} (could not be read: {err})",
                             ctx["element"]) from err
        data = obj.data
        if kind == "constant":
            if not coords:
                return float(data)
            return data.transpose(*coords).values
        axis = "time" if kind == "data" else "lookup_dim"
        values = data.transpose(axis, *coords).values if coords else np.asarray(data.values)
        return np.asarray(data.coords[axis].values, dtype=float), values

    def _compile_lookup(self, py_name: str) -> None:
        el = self.elements[py_name]
        el_dims = self.element_dims(py_name)
        tables = []
        for c in el.components:
            lk = c.ast
            def_subs = self.subs.make_coord_dict(c.subscripts[0])
            if type(lk).__name__ == "GetLookupsStructure":
                ctx = self._component_ctx(py_name, c, "step")
                x, y = self._external("lookup", lk, ctx)
                tables.append((np.asarray(x, float), np.asarray(y, float), def_subs, "interpolate"))
                continue
            if type(lk).__name__ != "LookupsStructure":
                raise self._fail(f"A lookup defined by {type(lk).__name__}", py_name)
            tables.append((np.asarray(lk.x, float), np.asarray(lk.y, float), def_subs, lk.type))
        interp = tables[0][3] or "interpolate"
        xs = np.unique(np.concatenate([t[0] for t in tables]))
        shape = self._shape(el_dims)
        ys = np.full((len(xs), *shape), np.nan)
        for x, y, def_subs, _ in tables:
            if len(x) != len(set(x.tolist())):
                raise self._fail("A lookup with repeated x values", py_name)
            order = np.argsort(x)
            x, y = x[order], y[order]
            pos: list[Any] = [np.searchsorted(xs, x)]
            for (_d, coords), (_ed, ecoords) in zip(def_subs.items(), el_dims, strict=True):
                pos.append([list(ecoords).index(cc) for cc in coords])
            y = y.reshape((len(x),) + (1,) * len(el_dims)) if y.ndim == 1 else y
            sub = np.broadcast_to(y, (len(x), *[len(p) for p in pos[1:]]))
            ys[np.ix_(*pos)] = sub
        if np.isnan(ys).any():
            flat = ys.reshape(len(xs), -1)
            for j in range(flat.shape[1]):
                col = flat[:, j]
                bad = np.isnan(col)
                if bad.any() and not bad.all():
                    col[bad] = np.interp(xs[bad], xs[~bad], col[~bad])
            ys = flat.reshape(ys.shape)
        self.lookups[self.prefix + py_name] = (self._array(xs, "_X"), self._array(ys, "_Y"), interp, el_dims)


def _decode_vensim(data: bytes) -> str:
    """The text of a Vensim file as PySD reads it (encoding from the first line, universal newlines)."""
    from pysd.translators.vensim import vensim_utils

    first = io.BytesIO(data).readline()
    try:
        found = re.search(r"(?<={)(.*)(?=})", first.decode(vensim_utils.detect(first)["encoding"]))
        if found is None:
            raise LookupError("no encoding on the first line")
        encoding = found.group()
        codecs.lookup(encoding)
    except (AttributeError, LookupError, TypeError, UnicodeDecodeError):
        encoding = "UTF-8"
    text = data.decode(encoding, errors="ignore")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_abstract_model(path: str | Path, data: bytes | None = None) -> Any:
    """Parse a Vensim (.mdl) or XMILE file with PySD's translator into its AbstractModel.

    ``data`` are the file's bytes, read (and hashed) by the caller: the model is parsed from them, so
    what is compiled is exactly what was hashed. External files are still found next to ``path``.
    """
    path = Path(path)
    content: bytes = path.read_bytes() if data is None else data
    suffix = path.suffix.lower()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if suffix == ".mdl":
            from pysd.translators.vensim.vensim_file import VensimFile

            class _Bytes(VensimFile):
                def _read(self, encoding: str | None) -> str:
                    return _decode_vensim(content)

            vf = _Bytes(path)
            vf.parse()
            return vf.get_abstract_model()
        if suffix in (".xmile", ".xml", ".stmx"):
            from lxml import etree
            from pysd.translators.xmile.xmile_file import XmileFile

            class _XBytes(XmileFile):
                def _get_root(self) -> Any:
                    parser = etree.XMLParser(encoding="utf-8", recover=True)
                    return etree.parse(io.BytesIO(content), parser=parser).getroot()

            xf = _XBytes(path)
            xf.parse()
            return xf.get_abstract_model()
    raise UnsupportedConstructError(f"{path.name!r} is neither a Vensim .mdl nor an XMILE file.")
