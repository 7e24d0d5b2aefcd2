"""Train logistic regression with the generated ``update`` on data larger than the memory allowed.

    python benchmarks/out_of_core.py make  /tmp/ooc --rows 8000000 --features 100   # 3.2 GB on disk
    (ulimit -v 1500000; python benchmarks/out_of_core.py train /tmp/ooc --epochs 5)  # 1.5 GB address space

``make`` writes X (float32, one sample per row) and y as .npy files, a block of rows at a time, so
it never holds the data set either.  ``train`` opens them as a chunked ``dask.array`` whose chunks
are read on demand, each from its own small memory map of the file's rows (mapping the whole file
would need address space for all of it), and takes full-batch gradient steps with the generated
module's ``update``: Dask evaluates the gradient chunk by chunk and adds up the chunks' sums.
Under ``ulimit -v`` the whole process — Python, NumPy, Dask, its threads and every chunk in
flight — must fit in the limit, so a run that completes never held the data set in memory.

The same ``train`` code runs on a dask.distributed cluster: create a ``distributed.Client`` before
training (``--scheduler`` names one) and the chunks are read and reduced on the workers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

GENERATED = Path(__file__).resolve().parent.parent / "generated"
DTYPE = np.float32


def generated_module():
    """generated/logistic_regression.py, imported from its file."""
    spec = importlib.util.spec_from_file_location("logistic_regression", GENERATED / "logistic_regression.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make(folder: Path, rows: int, features: int, block: int = 250_000, seed: int = 0) -> None:
    """X.npy (rows × features) and y.npy, labels from a fixed true weight vector plus label noise."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=features) / np.sqrt(features) * 3
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=DTYPE, shape=(rows, features))
    y = np.lib.format.open_memmap(folder / "y.npy", mode="w+", dtype=DTYPE, shape=(rows,))
    for start in range(0, rows, block):
        stop = min(start + block, rows)
        part = rng.standard_normal((stop - start, features), dtype=np.float32)
        X[start:stop] = part
        probability = 1 / (1 + np.exp(-(part @ truth.astype(DTYPE))))
        y[start:stop] = rng.random(stop - start) < probability
        X.flush()
    y.flush()
    (folder / "truth.json").write_text(json.dumps(truth.tolist()), encoding="utf-8")
    print(f"wrote {folder}: X {rows}×{features} {np.dtype(DTYPE).name}, {X.nbytes / 1e9:.2f} GB")


def _header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, byte offset of the data) of a .npy file, read without mapping the file."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(handle)
        if fortran:
            raise ValueError(f"{path}: expected a C-ordered array")
        return shape, dtype, handle.tell()


def _read_rows(path: str, offset: int, dtype: np.dtype, row_shape: tuple[int, ...], start: int, stop: int):
    """Rows start:stop of a .npy file, through a memory map of those rows only, copied out."""
    row_bytes = dtype.itemsize * int(np.prod(row_shape, dtype=np.int64))
    view = np.memmap(path, dtype=dtype, mode="r", offset=offset + start * row_bytes, shape=(stop - start, *row_shape))
    return np.array(view)


def open_chunked(path: Path, rows_per_chunk: int):
    """A .npy file as a lazy dask.array: one chunk per block of rows, read when a task needs it."""
    import dask
    import dask.array as da

    shape, dtype, offset = _header(path)
    parts = []
    for start in range(0, shape[0], rows_per_chunk):
        stop = min(start + rows_per_chunk, shape[0])
        block = dask.delayed(_read_rows, pure=True)(str(path), offset, dtype, shape[1:], start, stop)
        parts.append(da.from_delayed(block, shape=(stop - start, *shape[1:]), dtype=dtype))
    return da.concatenate(parts, axis=0)


def train(folder: Path, epochs: int, lr: float, rows_per_chunk: int, scheduler: str | None) -> dict:
    """Full-batch gradient descent with the generated update; returns what it reached."""
    import dask

    if scheduler:
        from distributed import Client  # the same code, on a cluster

        Client(scheduler)
    module = generated_module()
    X, y = open_chunked(folder / "X.npy", rows_per_chunk), open_chunked(folder / "y.npy", rows_per_chunk)
    print(f"X: {X.shape} {X.dtype}, {X.nbytes / 1e9:.2f} GB in {X.numblocks[0]} chunks of {rows_per_chunk} rows")
    params = module.init_params(np.zeros((1, X.shape[1]), dtype=X.dtype), None)
    for epoch in range(epochs):
        start = time.perf_counter()
        params = dask.compute(module.update(params, X, y, lr))[0]  # one pass over the chunks
        print(f"epoch {epoch + 1}: {time.perf_counter() - start:.1f} s")
    loss, accuracy = dask.compute(module.loss(params, X, y), ((module.forward(params, X) > 0.5) == (y > 0.5)).mean())
    truth = np.array(json.loads((folder / "truth.json").read_text(encoding="utf-8")))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"loss": float(loss), "accuracy": float(accuracy), "peak_rss_mb": round(peak),
              "cosine_to_truth": float(params["w"] @ truth / np.linalg.norm(params["w"]) / np.linalg.norm(truth))}
    print(json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("make", help="write the data set")
    making.add_argument("folder", type=Path)
    making.add_argument("--rows", type=int, default=8_000_000)
    making.add_argument("--features", type=int, default=100)
    training = commands.add_parser("train", help="train on it with the generated update")
    training.add_argument("folder", type=Path)
    training.add_argument("--epochs", type=int, default=5)
    training.add_argument("--lr", type=float, default=1.0)
    training.add_argument("--rows-per-chunk", type=int, default=250_000)
    training.add_argument("--scheduler", help="address of a dask.distributed scheduler (optional)")
    args = parser.parse_args(argv)
    if args.command == "make":
        make(args.folder, args.rows, args.features)
    else:
        train(args.folder, args.epochs, args.lr, args.rows_per_chunk, args.scheduler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
