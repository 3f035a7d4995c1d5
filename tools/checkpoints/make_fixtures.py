"""Generates the checkpoint-reading fixtures of src/test/resources/checkpoints/ with torch.

Run with Debian's oracle: /usr/bin/python3 tools/checkpoints/make_fixtures.py
(MRCNN4J_CHECKPOINT_DIR redirects the output). Every file is small (the set is < 1 MB):

  tiny_zip.pth, tiny_legacy.pth   one state dict (float32/float16/bfloat16/float64, int64/32/16/8,
                                  uint8, bool, views sharing a storage at offsets, a transposed and
                                  a stride-0 view, a scalar, an empty tensor, a Parameter, _metadata)
                                  saved by torch.save in the zip format and the legacy format
  tiny.safetensors                the same tensors (dense copies) in safetensors, written here
                                  from the published format (the safetensors package is not used)
  tiny_expected.json              what torch sees in them: dtype, shape, strides, storage offset,
                                  values (float32 bit patterns after torch's .float(), or ints),
                                  and which keys share a storage
  maskrcnn_keys.json              keys and shapes of torchvision 0.14's maskrcnn_resnet50_fpn
                                  state dict (FrozenBatchNorm2d, as the official checkpoint) in
                                  both spellings: canonical (0.13+) and legacy (pre-0.13)
  maskrcnn_legacy_skeleton.pth    that state dict, legacy key spelling, legacy format (like the
                                  official file); every tensor a stride-0 expansion of one value,
                                  so the file is tiny but the shapes are real
  maskrcnn_zip_skeleton.pth       the same, canonical spelling, zip format
  plain_p2.pkl, plain_p4.pkl      plain Python data (ints of every width, floats, strings, tuples,
                                  nested containers, a shared list, bytes in p4) pickled with
                                  protocols 2 and 4, for the unpickler's opcode coverage
  evil_*.pth / evil_*.pkl         pickles that would run code in Python's unpickler (os.system,
                                  builtins.eval, classes of this script) in both torch formats and
                                  bare; the payload only touches /tmp/maskrcnn4j-pickle-payload-ran

With --large DIR it writes instead, to DIR (never commit these: 170 MB each), a full-size
maskrcnn_resnet50_fpn state dict with random weights in the three formats, for timing and for
CheckpointLargeFileTest (MRCNN4J_LARGE_CHECKPOINTS=DIR):
  maskrcnn_legacy.pth   legacy format, pre-0.13 key spelling (like the official checkpoint)
  maskrcnn_zip.pth      zip format, canonical spelling
  maskrcnn.safetensors  safetensors, canonical spelling
  maskrcnn_sums.json    per canonical key: float64 sum and sum of squares of the float32 values
"""
import io
import json
import os
import pickle
import re
import struct
import sys
from collections import OrderedDict

import torch
import torchvision
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.models import resnet50
from torchvision.ops import misc as misc_nn_ops

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.environ.get("MRCNN4J_CHECKPOINT_DIR") or os.path.join(ROOT, "src", "test", "resources", "checkpoints")
PAYLOAD_MARKER = "/tmp/maskrcnn4j-pickle-payload-ran"

torch.set_num_threads(1)


def out(name):
    return os.path.join(OUT, name)


# ---- the tiny state dict ---------------------------------------------------------------------

def half_table():
    """float16 bit patterns covering every exponent of both signs, with edge mantissas (zeros,
    subnormals, normals, infinities, NaNs)."""
    bits = []
    for sign in (0, 1):
        for exp in range(32):
            for mant in (0, 1, 2, 3, 0x155, 0x200, 0x2aa, 0x3fe, 0x3ff):
                bits.append((sign << 15) | (exp << 10) | mant)
    t = torch.tensor(bits, dtype=torch.int32).to(torch.int16)  # wraps to the same 16 bits
    return t.view(torch.float16)


def tiny_state_dict():
    g = torch.Generator().manual_seed(0)
    sd = OrderedDict()
    base = torch.randn(4, 6, generator=g)
    sd["conv.weight"] = torch.randn(2, 3, 3, 3, generator=g)
    sd["conv.bias"] = torch.randn(2, generator=g)
    sd["base"] = base
    sd["base_t"] = base.t()                      # transposed: non-contiguous, same storage
    sd["base_row2"] = base[2]                    # storage offset 12
    sd["base_cols"] = base[1:, ::2]              # offset 6, strides (6, 2)
    sd["flat_tail"] = base.view(-1)[5:11]        # offset 5
    sd["expanded"] = torch.randn(3, 1, generator=g).expand(3, 4)  # stride 0
    half = (torch.randn(2, 5, generator=g) * 100).half()
    sd["half"] = half
    sd["half_t"] = half.t()                      # non-contiguous float16
    sd["half_table"] = half_table()
    sd["bf16"] = torch.randn(3, 2, generator=g).bfloat16()
    sd["double"] = torch.randn(5, generator=g, dtype=torch.float64) * 1e3 + 1e-9
    sd["special"] = torch.tensor([float("inf"), float("-inf"), float("nan"), -0.0, 1e-45, 3.4e38, -1.5e-40])
    sd["int64"] = torch.tensor([0, -1, 2 ** 40, -(2 ** 62), 7], dtype=torch.int64)
    sd["int32"] = torch.tensor([[1, -2], [2 ** 31 - 1, -2 ** 31]], dtype=torch.int32)
    sd["int16"] = torch.tensor([-32768, 32767, 5], dtype=torch.int16)
    sd["int8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    sd["uint8"] = torch.tensor([0, 1, 200, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([[True, False, False], [False, True, True]])
    sd["scalar"] = torch.tensor(3.25)
    sd["empty"] = torch.empty(0, 3)
    sd["bn.num_batches_tracked"] = torch.tensor(7)
    sd["param"] = torch.nn.Parameter(torch.randn(3, generator=g))  # pickled by _rebuild_parameter
    sd._metadata = OrderedDict([("", {"version": 1}), ("conv", {"version": 2})])
    return sd


def float_bits(t):
    """float32 bit patterns of torch's own conversion to float32."""
    f = t.detach().float().contiguous().reshape(-1)
    return [int(b) & 0xffffffff for b in f.view(torch.int32).tolist()]


def expected(sd, shares):
    tensors = OrderedDict()
    for k, t in sd.items():
        e = OrderedDict(dtype=str(t.dtype).replace("torch.", ""), shape=list(t.shape), strides=list(t.stride()),
                        storage_offset=t.storage_offset())
        if t.dtype.is_floating_point:
            e["float_bits"] = float_bits(t)
        else:
            e["ints"] = [int(v) for v in t.detach().to(torch.int64).reshape(-1).tolist()]
        tensors[k] = e
    return OrderedDict(generator=f"torch={torch.__version__} torchvision={torchvision.__version__}",
                       tensors=tensors, shares_storage=shares, module_versions={"": 1, "conv": 2})


def storage_groups(sd):
    groups = OrderedDict()
    for k, t in sd.items():
        groups.setdefault(t.storage().data_ptr(), []).append(k)
    return [g for g in groups.values() if len(g) > 1]


def check_same(a, b, shared):
    assert list(a.keys()) == list(b.keys())
    for k in a:
        x, y = a[k], b[k]
        assert x.dtype == y.dtype and x.shape == y.shape, k
        if shared:
            assert x.stride() == y.stride() and x.storage_offset() == y.storage_offset(), k
        assert torch.equal(x.detach().float().nan_to_num(), y.detach().float().nan_to_num()), k


# ---- safetensors, from the published format ---------------------------------------------------

SAFETENSORS_DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                      torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
                      torch.uint8: "U8", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """8-byte little-endian header length, the JSON header (padded with spaces to 8 bytes), the data."""
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for k, t in tensors.items():
        b = tensor_bytes(t)
        header[k] = OrderedDict(dtype=SAFETENSORS_DTYPES[t.dtype], shape=list(t.shape), data_offsets=[offset, offset + len(b)])
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Independent reader, to check the writer against the format."""
    with open(path, "rb") as f:
        data = f.read()
    n, = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    rev = {v: k for k, v in SAFETENSORS_DTYPES.items()}
    res = OrderedDict()
    for k, e in header.items():
        b, end = e["data_offsets"]
        raw = bytearray(data[8 + n + b:8 + n + end])
        dt = rev[e["dtype"]]
        if dt == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if raw else torch.empty(0, dtype=dt)
        else:
            t = torch.frombuffer(raw, dtype=dt) if raw else torch.empty(0, dtype=dt)
        res[k] = t.reshape(e["shape"])
    return res


# ---- torchvision Mask R-CNN keys in both spellings ----------------------------------------------

def maskrcnn_frozen_bn():
    """maskrcnn_resnet50_fpn as torchvision builds it with weights (FrozenBatchNorm2d backbone,
    trainable_layers 3), without downloading anything."""
    torch.manual_seed(0)
    backbone = resnet50(weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d)
    backbone = _resnet_fpn_extractor(backbone, 3)
    return MaskRCNN(backbone, num_classes=91)


# The inverse of torchvision 0.14's _load_from_state_dict upgrades (version < 2):
#   rpn.py RPNHead:                       {p}conv.{w}            -> {p}conv.0.0.{w}
#   feature_pyramid_network.py FPN:       {p}{inner,layer}_blocks.{i}.{w} -> {p}..._blocks.{i}.0.{w}
#   mask_rcnn.py MaskRCNNHeads:           {p}mask_fcn{i+1}.{w}   -> {p}{i}.0.{w}
def legacy_key(k):
    m = re.fullmatch(r"rpn\.head\.conv\.0\.0\.(weight|bias)", k)
    if m:
        return f"rpn.head.conv.{m[1]}"
    m = re.fullmatch(r"backbone\.fpn\.(inner_blocks|layer_blocks)\.(\d+)\.0\.(weight|bias)", k)
    if m:
        return f"backbone.fpn.{m[1]}.{m[2]}.{m[3]}"
    m = re.fullmatch(r"roi_heads\.mask_head\.(\d+)\.0\.(weight|bias)", k)
    if m:
        return f"roi_heads.mask_head.mask_fcn{int(m[1]) + 1}.{m[2]}"
    return k


def skeleton(sd, rename):
    """Every tensor a stride-0 expansion of one float32 value (its index + 0.5): real shapes, tiny file."""
    out = OrderedDict()
    for i, (k, t) in enumerate(sd.items()):
        out[rename(k)] = torch.full((1,) * max(t.dim(), 1), i + 0.5).reshape((1,) * t.dim()).expand(t.shape)
    return out


# ---- plain pickles (opcode coverage) ----------------------------------------------------------

def plain_values(with_bytes):
    shared = [7, 8]
    v = {"int": [0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31 - 1, 2 ** 31, 2 ** 63 - 1, -2 ** 63,
                 2 ** 70, -2 ** 70],
         "float": [1.5, -0.0, 1e300],
         "str": ["", "ascii", "\u00fcn\u00ef\u20ac\U0001f600", "x" * 300],
         "tuple": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
         "none": None,
         "bools": [True, False],
         "nested": {"a": {"b": [1, [2, [3]]]}, (1, "k"): "tuple key"},
         "shared": [shared, shared]}
    if with_bytes:  # protocol 2 pickles bytes as a call of _codecs.encode, which is not whitelisted
        v["bytes"] = [b"", b"\x00\xff", b"y" * 300]
    return v


# ---- malicious pickles ------------------------------------------------------------------------

class RunsShell:
    """Unpickling calls os.system (pickled as the global posix.system)."""
    def __reduce__(self):
        return (os.system, (f"touch {PAYLOAD_MARKER}",))


class RunsEval:
    """Unpickling calls builtins.eval."""
    def __reduce__(self):
        return (eval, (f"__import__('os').system('touch {PAYLOAD_MARKER}')",))


class Payload:
    """A class of the pickling program: unpickling imports __main__ and instantiates it."""
    def __init__(self, command=f"touch {PAYLOAD_MARKER}"):
        self.command = command


class ReducesToPayload:
    def __reduce__(self):
        return (Payload, (f"touch {PAYLOAD_MARKER}",))


def main():
    os.makedirs(OUT, exist_ok=True)

    # tiny state dict, three formats
    sd = tiny_state_dict()
    torch.save(sd, out("tiny_zip.pth"))
    torch.save(sd, out("tiny_legacy.pth"), _use_new_zipfile_serialization=False)
    dense = OrderedDict((k, v.detach().contiguous().clone()) for k, v in sd.items())
    write_safetensors(out("tiny.safetensors"), dense, {"format": "pt", "source": "make_fixtures.py"})
    for name in ("tiny_zip.pth", "tiny_legacy.pth"):
        check_same(sd, torch.load(out(name)), shared=True)
    check_same(sd, read_safetensors(out("tiny.safetensors")), shared=False)
    with open(out("tiny_expected.json"), "w") as f:
        json.dump(expected(sd, storage_groups(sd)), f, indent=1)
        f.write("\n")

    # Mask R-CNN keys, both spellings; torchvision itself must accept the legacy spelling
    model = maskrcnn_frozen_bn()
    msd = model.state_dict()
    legacy = OrderedDict((legacy_key(k), v) for k, v in msd.items())
    assert len(set(legacy)) == len(legacy)
    renamed = [k for k in msd if legacy_key(k) != k]
    assert len(renamed) == 2 + 2 * 4 * 2 + 4 * 2, renamed  # rpn conv, fpn inner/layer x4, mask_fcn1..4
    fresh = maskrcnn_frozen_bn()
    fresh.load_state_dict(legacy)  # no _metadata -> version None -> torchvision renames the old keys
    with open(out("maskrcnn_keys.json"), "w") as f:
        json.dump(OrderedDict(
            generator=f"torch={torch.__version__} torchvision={torchvision.__version__}",
            model="maskrcnn_resnet50_fpn (FrozenBatchNorm2d, num_classes=91)",
            canonical=[[k, list(v.shape)] for k, v in msd.items()],
            legacy=[[legacy_key(k), list(v.shape)] for k, v in msd.items()]), f, indent=0)
        f.write("\n")
    torch.save(skeleton(msd, legacy_key), out("maskrcnn_legacy_skeleton.pth"), _use_new_zipfile_serialization=False)
    torch.save(skeleton(msd, lambda k: k), out("maskrcnn_zip_skeleton.pth"))

    with open(out("plain_p2.pkl"), "wb") as f:
        pickle.dump(plain_values(False), f, protocol=2)
    with open(out("plain_p4.pkl"), "wb") as f:
        pickle.dump(plain_values(True), f, protocol=4)

    # malicious pickles (saved, never loaded here)
    w = torch.zeros(2)
    torch.save(OrderedDict([("w", w), ("x", RunsShell())]), out("evil_system_zip.pth"))
    torch.save(OrderedDict([("w", w), ("x", RunsShell())]), out("evil_system_legacy.pth"),
               _use_new_zipfile_serialization=False)
    torch.save(OrderedDict([("w", w), ("x", RunsShell())]), out("evil_system_stack_global_zip.pth"), pickle_protocol=4)
    torch.save(OrderedDict([("w", w), ("x", RunsEval())]), out("evil_eval_zip.pth"))
    torch.save(OrderedDict([("w", w), ("x", Payload())]), out("evil_class_newobj_zip.pth"))
    torch.save(OrderedDict([("w", w), ("x", ReducesToPayload())]), out("evil_class_reduce_legacy.pth"),
               _use_new_zipfile_serialization=False)
    with open(out("evil_system.pkl"), "wb") as f:
        pickle.dump(RunsShell(), f, protocol=2)
    with open(out("evil_eval.pkl"), "wb") as f:
        pickle.dump(RunsEval(), f, protocol=4)

    total = sum(os.path.getsize(out(n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files to {OUT}: {total} bytes", file=sys.stderr)


def large(directory):
    os.makedirs(directory, exist_ok=True)
    model = maskrcnn_frozen_bn()
    sd = model.state_dict()
    g = torch.Generator().manual_seed(1)
    for t in sd.values():  # FrozenBatchNorm2d buffers are constants: make every value distinct
        t.copy_(torch.randn(t.shape, generator=g))
    torch.save(OrderedDict((legacy_key(k), v) for k, v in sd.items()), os.path.join(directory, "maskrcnn_legacy.pth"),
               _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(directory, "maskrcnn_zip.pth"))
    write_safetensors(os.path.join(directory, "maskrcnn.safetensors"), sd, {"format": "pt"})
    sums = OrderedDict((k, [float(v.double().sum()), float((v.double() ** 2).sum())]) for k, v in sd.items())
    with open(os.path.join(directory, "maskrcnn_sums.json"), "w") as f:
        json.dump(sums, f, indent=0)
    for n in sorted(os.listdir(directory)):
        print(f"{n}: {os.path.getsize(os.path.join(directory, n))} bytes", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--large":
        large(sys.argv[2])
    else:
        main()
