#!/usr/bin/env python3
"""Writes the small .pth fixtures of PthReaderTest without PyTorch.

Fake `torch` modules give the stdlib pickler the same globals torch.save uses, and a
persistent_id hook emits torch's ('storage', type, key, location, numel) ids, so the
pickles have exactly torch.save's shape (protocol 2 is torch's default; protocol 5
exercises FRAME, MEMOIZE, SHORT_BINUNICODE and STACK_GLOBAL; protocol 2 pickles bytes
through _codecs.encode). Storages are written
STORED like torch.save does. Also writes evil.pth, the classic os.system exploit
pickled by real Python (which names it posix.system). Run from this directory:
python3 make_fixtures.py
"""
import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
tmod = types.ModuleType("torch._tensor")
nn = types.ModuleType("torch.nn")
nnp = types.ModuleType("torch.nn.parameter")
storage_mod = types.ModuleType("torch.storage")
for name, m in [("torch", torch), ("torch._utils", utils), ("torch._tensor", tmod),
                ("torch.nn", nn), ("torch.nn.parameter", nnp), ("torch.storage", storage_mod)]:
    sys.modules[name] = m


def fn(module, name):
    def f(*args):
        raise RuntimeError("never called")
    f.__module__ = module.__name__
    f.__qualname__ = f.__name__ = name
    setattr(module, name, f)
    return f


def cls(module, name):
    c = type(name, (), {"__module__": module.__name__})
    c.__qualname__ = name
    setattr(module, name, c)
    return c


rebuild_v2 = fn(utils, "_rebuild_tensor_v2")
rebuild_v3 = fn(utils, "_rebuild_tensor_v3")
rebuild_param = fn(utils, "_rebuild_parameter")
rebuild_from_type = fn(tmod, "_rebuild_from_type_v2")
FloatStorage = cls(torch, "FloatStorage")
LongStorage = cls(torch, "LongStorage")
BoolStorage = cls(torch, "BoolStorage")
UntypedStorage = cls(storage_mod, "UntypedStorage")
Parameter = cls(nnp, "Parameter")
Tensor = cls(torch, "Tensor")


class DType:
    __module__ = "torch"  # pickle names a global as <__module__>.<reduce string>

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return self.name  # like torch.dtype: pickled as the global torch.<name>


bfloat16 = DType("bfloat16")
torch.bfloat16 = bfloat16


class Storage:
    def __init__(self, typ, key, numel, data):
        self.typ, self.key, self.numel, self.data = typ, key, numel, data


class T:
    """A tensor view: pickles like torch.Tensor.__reduce_ex__."""

    def __init__(self, storage, offset, size, stride, grad=False, dtype=None):
        self.args = (storage, offset, tuple(size), tuple(stride), grad, collections.OrderedDict())
        self.dtype = dtype

    def __reduce_ex__(self, proto):
        if self.dtype is not None:
            return (rebuild_v3, self.args + (self.dtype,))
        return (rebuild_v2, self.args)


class P:
    """An nn.Parameter wrapping a tensor."""

    def __init__(self, t, grad):
        self.t, self.grad = t, grad

    def __reduce_ex__(self, proto):
        return (rebuild_param, (self.t, self.grad, collections.OrderedDict()))


class Typed:
    """A tensor subclass pickled through _rebuild_from_type_v2."""

    def __init__(self, t, typ):
        self.t, self.typ = t, typ

    def __reduce_ex__(self, proto):
        return (rebuild_from_type, (rebuild_v2, self.typ, self.t.args, {}))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.typ, obj.key, "cuda:0" if obj.key == "1" else "cpu", obj.numel)
        return None


def build():
    f32 = Storage(FloatStorage, "0", 12, struct.pack("<12f", *[float(i) for i in range(12)]))
    i64 = Storage(LongStorage, "1", 5, struct.pack("<5q", 10, -20, 30, 2**40, -(2**62)))
    bools = Storage(BoolStorage, "2", 4, bytes([1, 0, 0, 1]))
    # bfloat16 1.0, -2.0, 0.5 as raw bytes in an untyped storage (numel counts bytes)
    bf = Storage(UntypedStorage, "3", 6, bytes([0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3F]))
    model = collections.OrderedDict()
    model["a"] = T(f32, 0, (3, 4), (4, 1))
    model["a_t"] = T(f32, 0, (4, 3), (1, 4))
    model["tail"] = T(f32, 4, (2, 4), (4, 1))
    model["col"] = T(f32, 1, (3,), (4,))
    model["scalar"] = T(f32, 11, (), ())
    model["empty"] = T(f32, 0, (0, 5), (5, 1))
    model["ints"] = T(i64, 0, (5,), (1,))
    model["mask"] = T(bools, 0, (2, 2), (2, 1))
    model["bf"] = T(bf, 0, (3,), (1,), dtype=bfloat16)
    model["bcast"] = T(f32, 2, (2, 3), (0, 1))
    ema = {
        "p": P(T(f32, 0, (3, 4), (4, 1), grad=True), True),
        "frozen": P(T(i64, 1, (2,), (1,)), False),
        "typed": Typed(T(f32, 8, (4,), (1,)), Parameter),
        "plain": Typed(T(f32, 0, (2,), (1,)), Tensor),
    }
    return {
        "model": model,
        "model_ema": ema,
        "epoch": 7,
        "lr": 0.25,
        "big": 2**70,
        "neg": -123456789012,
        "flags": (True, False, None),
        "name": "héllo",
        "nested": {"list": [1, 2.5, [3, "x"]], "empty": {}, "t": (1,), 5: "int key"},
        "raw": b"\x00\x01",
        "dtype": bfloat16,
    }, [f32, i64, bools, bf]


def write(path, protocol, prefix):
    obj, storages = build()
    buf = io.BytesIO()
    TorchPickler(buf, protocol=protocol).dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(prefix + "/data.pkl", buf.getvalue())
        z.writestr(prefix + "/byteorder", "little")
        for s in storages:
            z.writestr(prefix + "/data/" + s.key, s.data)
        z.writestr(prefix + "/version", "3\n")
        z.writestr(prefix + "/.data/serialization_id", "1234567890")


class Evil:
    def __reduce__(self):
        return (os.system, ("touch rectok_pwned_marker",))


def write_evil(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({"model": Evil()}, protocol=2))
        z.writestr("archive/byteorder", "little")


if __name__ == "__main__":
    write("fixture_p2.pth", 2, "fixture_p2")
    write("fixture_p5.pth", 5, "archive")
    write_evil("evil.pth")
