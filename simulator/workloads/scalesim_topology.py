"""SCALE-Sim topology CSVs (conv and GEMM forms) as workloads.

Conventions followed exactly (SCALE-Sim 2.x/3.x ``topology_utils``):

- the first line is a header; blank lines are skipped; every row ends with a trailing
  comma, and SCALE-Sim drops the last field of each row (a row without the trailing comma
  is read in full here, and empty fields at the end of a row are dropped);
- conv rows: ``name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters,
  stride[, stride_w][, N:M]``. There is no padding column: the ifmap sizes are taken as
  already padded, and ``out = ceil((ifmap - filter + stride) / stride)`` counts a last
  partial window (``Conv2d(ceil_mode=True)``);
- a conv whose name contains ``DP`` is depthwise: SCALE-Sim runs it as ``channels``
  separate single-channel convs with ``num_filters`` filters each, which is a grouped
  conv with ``groups = channels`` here;
- GEMM rows (header ``..., M, N, K``): ``name, M, N, K[, N:M]``; SCALE-Sim 3 reads the
  first four fields and the sparsity column, and ignores any after them, as here;
- the optional sparsity column holds ``N:M`` (``1:1`` is dense).
"""

from __future__ import annotations

from pathlib import Path

from compress.errors import read_text
from simulator.workloads.layer import Conv2d, Gemm, Layer, Workload, WorkloadError, parse_nm

__all__ = ["load_scalesim_topology"]

_GEMM_HINT = "(a GEMM topology's header names columns 2 to 4 M, N, K)"


def _split_row(line: str) -> list[str]:
    """The fields of a row, stripped, without the empty ones at its end."""
    fields = [f.strip() for f in line.split(",")]
    while fields and fields[-1] == "":
        fields.pop()
    return fields


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise WorkloadError(f"{name} must be an integer, not {text!r}") from None


def load_scalesim_topology(path: str | Path, form: str = "auto", batch: int = 1) -> Workload:
    """Read a SCALE-Sim topology CSV into a :class:`Workload`.

    Parameters
    ----------
    path : path
        The CSV file (UTF-8 text).
    form : {"auto", "conv", "gemm"}
        ``auto`` picks ``gemm`` when the header's columns 2-4 are ``M, N, K``.
    batch : int
        Samples per inference (SCALE-Sim itself has no batch).

    Raises
    ------
    WorkloadError
        Naming the file, the line and the column of a bad value.
    """
    path = Path(path)
    if form not in ("auto", "conv", "gemm"):
        raise WorkloadError(f"topology form must be auto, conv or gemm, not {form!r}")
    numbered = [
        (number, line.strip())
        for number, line in enumerate(read_text(path, "topology").splitlines(), start=1)
        if line.strip()
    ]
    if len(numbered) < 2:
        raise WorkloadError(f"topology {path}: needs a header line and at least one layer row")
    header = [h.lower() for h in _split_row(numbered[0][1])]
    if form == "auto":
        form = "gemm" if header[1:4] == ["m", "n", "k"] else "conv"
    layers = []
    for lineno, line in numbered[1:]:
        where = f"topology {path.name} line {lineno}"
        fields = _split_row(line)
        if not fields or not fields[0]:
            raise WorkloadError(f"{where}: the first field must be the layer's name")
        nm = None
        if form == "gemm" and len(fields) >= 5:
            nm = parse_nm(fields[4], where)
            fields = fields[:4]
        elif fields and ":" in fields[-1]:
            nm = parse_nm(fields[-1], where)
            fields = fields[:-1]
        try:
            op = _gemm_row(fields) if form == "gemm" else _conv_row(fields)
            layers.append(Layer(name=fields[0], op=op, batch=batch, nm=nm))
        except WorkloadError as exc:
            raise WorkloadError(f"{where}: {exc}") from None
    return Workload(name=path.stem, layers=tuple(layers), source=str(path))


def _gemm_row(fields: list[str]) -> Gemm:
    if len(fields) != 4:
        raise WorkloadError(f"a GEMM row needs name, M, N, K, got {len(fields)} fields")
    m, n, k = (_int(col, v) for col, v in zip("MNK", fields[1:], strict=True))
    return Gemm(m=m, n=n, k=k)


def _conv_row(fields: list[str]) -> Conv2d:
    if len(fields) not in (8, 9):
        raise WorkloadError(
            "a conv row needs name, ifmap_h, ifmap_w, filter_h, filter_w, channels, "
            f"num_filters, stride[, stride_w], got {len(fields)} fields {_GEMM_HINT}"
        )
    names = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride_h")
    h, w, r, s, c, k, stride_h = (_int(n, v) for n, v in zip(names, fields[1:8], strict=True))
    stride_w = _int("stride_w", fields[8]) if len(fields) == 9 else stride_h
    groups = c if "DP" in fields[0] else 1
    filters = c * k if groups > 1 else k
    return Conv2d(
        h=h, w=w, c=c, k=filters, r=r, s=s, stride=(stride_h, stride_w), groups=groups,
        ceil_mode=True,
    )  # fmt: skip
