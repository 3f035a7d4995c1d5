"""Saving a state dict as the checkpoint files maskrcnn4j reads, in both key spellings."""
import json
import re
import struct
from collections import OrderedDict

import numpy as np
import torch

_RENAMES = [  # torchvision >= 0.13 spelling -> pre-0.13 (see checkpoint/KeyNames.java)
    (re.compile(r"rpn\.head\.conv\.0\.0\.(weight|bias)$"), lambda m: f"rpn.head.conv.{m[1]}"),
    (re.compile(r"backbone\.fpn\.(inner_blocks|layer_blocks)\.(\d+)\.0\.(weight|bias)$"),
     lambda m: f"backbone.fpn.{m[1]}.{m[2]}.{m[3]}"),
    (re.compile(r"roi_heads\.mask_head\.(\d+)\.0\.(weight|bias)$"),
     lambda m: f"roi_heads.mask_head.mask_fcn{int(m[1]) + 1}.{m[2]}"),
]


def legacy_key(key):
    for pattern, fn in _RENAMES:
        m = pattern.match(key)
        if m:
            return fn(m)
    return key


def spelled(state, spelling):
    if spelling == "v0.13":
        return state  # model.state_dict() itself, with its _metadata (module versions 2)
    # Like a checkpoint saved before torchvision 0.13: old keys, no version metadata, so that
    # torchvision's loaders rename them.
    out = OrderedDict((legacy_key(k), v) for k, v in state.items())
    assert len(out) == len(state)
    return out


def write_safetensors(path, state):
    header, blobs, offset = OrderedDict(), [], 0
    for k, v in state.items():
        a = v.detach().contiguous().numpy().astype("<f4", copy=False)
        if v.dtype != torch.float32:
            raise TypeError(f"{k}: only float32 tensors are written, got {v.dtype}")
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = OrderedDict()
    for k, info in header.items():
        if k == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy())
    return out


def save(path, state, fmt, spelling):
    sd = spelled(state, spelling)
    if fmt == "safetensors":
        write_safetensors(path, sd)
    elif fmt == "torch_zip":
        torch.save(sd, path)
    elif fmt == "torch_legacy":
        torch.save(sd, path, _use_new_zipfile_serialization=False)
    else:
        raise ValueError(fmt)


def verify(path, state, fmt, fresh_model):
    """The file loads into a fresh torchvision model (renaming old keys as torchvision does) and
    gives exactly `state`."""
    sd = read_safetensors(path) if fmt == "safetensors" else torch.load(path)
    model = fresh_model()
    model.load_state_dict(sd)
    got = model.state_dict()
    assert list(got) == list(state), f"{path}: keys differ"
    for k, v in state.items():
        assert torch.equal(got[k], v), f"{path}: {k} differs after loading"
