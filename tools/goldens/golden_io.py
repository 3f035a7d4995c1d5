"""Writer of maskrcnn4j golden files (read by src/test/java/dev/maskrcnn4j/testing/Golden.java).

Format, version 1: a UTF-8 text header, then the arrays' raw little-endian bytes in the
order the header lists them.

    MRCNN4J-GOLDEN 1
    op roi_align
    generator torch=1.13.1 torchvision=0.14.1
    case <name>
    param <key> <value>                 value: int, float (repr), true/false or a word
    array <name> <f32|i32|i64|u8> <ndim> <d0> ... <dn-1>
    ...
    data
    <bytes>

Names and words contain no spaces. Run generators with Debian's /usr/bin/python3.
"""
import os
import sys

import numpy as np
import torch

# One thread: the oracle's summation order must not depend on the machine's core count,
# so a regenerated golden is byte-identical to the committed one.
torch.set_num_threads(1)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# MRCNN4J_GOLDEN_DIR redirects the output (tools/goldens/check.sh compares a fresh run with the committed files).
GOLDEN_DIR = os.environ.get("MRCNN4J_GOLDEN_DIR") or os.path.join(ROOT, "src", "test", "resources", "goldens")
VERSION = 1
_DTYPES = {np.dtype("float32"): "f32", np.dtype("int32"): "i32",
           np.dtype("int64"): "i64", np.dtype("uint8"): "u8"}


def _as_numpy(a):
    if hasattr(a, "detach"):  # a torch tensor
        a = a.detach().cpu().contiguous().numpy()
    a = np.ascontiguousarray(a)
    if a.dtype == np.float64:
        raise TypeError("golden arrays are float32: convert explicitly")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    if a.dtype not in _DTYPES:
        raise TypeError(f"unsupported golden dtype {a.dtype}")
    return a


def _word(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    s = str(v)
    if not s or any(c.isspace() for c in s):
        raise ValueError(f"golden words have no spaces: {s!r}")
    return s


class GoldenWriter:
    def __init__(self, op):
        self.op = op
        self.cases = []

    def case(self, name, params=None, arrays=None):
        if any(c.isspace() for c in name):
            raise ValueError(f"case name has spaces: {name!r}")
        if name in (c[0] for c in self.cases):
            raise ValueError(f"duplicate case {name}")
        self.cases.append((name, dict(params or {}), {k: _as_numpy(v) for k, v in (arrays or {}).items()}))

    def save(self, path=None):
        import torchvision
        path = path or os.path.join(GOLDEN_DIR, f"{self.op}.golden")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lines = [f"MRCNN4J-GOLDEN {VERSION}", f"op {self.op}",
                 f"generator torch={torch.__version__} torchvision={torchvision.__version__}"]
        blobs = []
        for name, params, arrays in self.cases:
            lines.append(f"case {name}")
            for k, v in params.items():
                lines.append(f"param {k} {_word(v)}")
            for k, a in arrays.items():
                lines.append(" ".join(["array", k, _DTYPES[a.dtype], str(a.ndim)] + [str(d) for d in a.shape]))
                blobs.append(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())
        lines.append("data")
        with open(path, "wb") as f:
            f.write(("\n".join(lines) + "\n").encode("utf-8"))
            for b in blobs:
                f.write(b)
        print(f"wrote {path}: {len(self.cases)} cases, {os.path.getsize(path)} bytes", file=sys.stderr)
        return path
