"""Raw data sets, offline first: embedded MNIST, local files, or tensorflow-datasets.

Every loader returns ``RawData``: uint8 images (N, H, W, C) and integer labels
for the official train and test sets, in the publisher's order (tfds shuffles).
Local files are checked against their published sha256 before use. tensorflow-datasets
never downloads when ``--manual_dir`` is given (the files it needs must be there), and
without it fails fast when the download server cannot be reached.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import importlib.resources
import os
import socket
import sys
import threading
from pathlib import Path

import numpy as np

from masktrainer.errors import DataError

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "cifar10": {
        "data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
        "data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
        "data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
        "data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
        "data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
        "test_batch.bin": "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
    },
}
DATASETS = ("mnist", "fashion_mnist", "cifar10", "imagenet2012")  # imagenet2012: data.imagenet
DATA_SOURCES = ("auto", "embedded", "files", "tfds")
# Sub-folders of --data_dir searched for each data set, in order.
SUBDIRS = {
    "mnist": ("", "mnist", "MNIST"),
    "fashion_mnist": ("", "fashion_mnist", "fashion-mnist"),
    "cifar10": ("", "cifar10", "cifar-10-batches-bin"),
}
# What tensorflow-datasets reads from --manual_dir (the basenames of its download URLs),
# and the host it downloads from otherwise.
TFDS_MANUAL_FILES = {
    "mnist": tuple(IDX_FILES.values()),
    "fashion_mnist": tuple(IDX_FILES.values()),
    "cifar10": ("cifar-10-binary.tar.gz",),
}
TFDS_DOWNLOAD_HOSTS = {
    "mnist": ("storage.googleapis.com", 443),
    "fashion_mnist": ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
    "cifar10": ("www.cs.toronto.edu", 443),
}
PROBE_SECONDS = 5.0
OFFLINE_HELP = (
    "provide it offline with --data_dir=DIR (MNIST/Fashion-MNIST: the four IDX .gz files; "
    "CIFAR-10: the binary-version data_batch_1..5.bin and test_batch.bin) or "
    "--manual_dir=DIR for tensorflow-datasets; see docs/data.md"
)


@dataclasses.dataclass
class RawData:
    x_train: np.ndarray  # uint8 (N, H, W, C)
    y_train: np.ndarray  # int64 (N,)
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    source: str  # human-readable origin, recorded in the run directory
    dataset: str = ""  # mnist, fashion_mnist, cifar10 (the fixed normalisations need it)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, dataset: str) -> None:
    expected = SHA256[dataset][path.name]
    actual = sha256_of(path)
    if actual != expected:
        raise DataError(
            f"{path} is corrupt or not the original {dataset} file "
            f"(sha256 {actual[:12]}…, expected {expected[:12]}…); {OFFLINE_HELP}"
        )


def _read_idx(path: Path) -> np.ndarray:
    """Parse a gzipped IDX file (magic 0x0000080D: uint8, D dimensions)."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not a uint8 IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    data = np.frombuffer(raw, np.uint8, offset=offset)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path} is truncated ({data.size} values for shape {dims})")
    return data.reshape(dims)


def _load_idx_dir(folder: Path, dataset: str, source: str) -> RawData:
    paths = {key: folder / name for key, name in IDX_FILES.items()}
    missing = [path.name for path in paths.values() if not path.is_file()]
    if missing:
        raise DataError(f"{', '.join(missing)} missing in {folder}; {OFFLINE_HELP}")
    for path in paths.values():
        _verify(path, dataset)
    arrays = {key: _read_idx(path) for key, path in paths.items()}
    return RawData(
        arrays["train_images"][..., None],
        arrays["train_labels"].astype(np.int64),
        arrays["test_images"][..., None],
        arrays["test_labels"].astype(np.int64),
        10,
        source,
        dataset,
    )


def load_embedded_mnist() -> RawData:
    """The four checksum-verified MNIST files shipped inside the package."""
    folder = importlib.resources.files("masktrainer") / "datasets" / "mnist"
    with importlib.resources.as_file(folder) as path:
        return _load_idx_dir(Path(path), "mnist", "embedded MNIST (package data)")


def _read_cifar_bin(path: Path) -> tuple[np.ndarray, np.ndarray]:
    records = np.fromfile(path, np.uint8)
    if records.size % 3073:
        raise DataError(f"{path} is not a CIFAR-10 binary batch (size {records.size})")
    records = records.reshape(-1, 3073)
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), records[:, 0].astype(np.int64)


def _find_folder(data_dir: Path, dataset: str, marker: str) -> Path:
    for sub in SUBDIRS[dataset]:
        candidate = data_dir / sub if sub else data_dir
        if (candidate / marker).is_file():
            return candidate
    raise DataError(f"no {dataset} files ({marker} …) found in {data_dir}; {OFFLINE_HELP}")


def load_from_files(dataset: str, data_dir: str | os.PathLike) -> RawData:
    """Read the publisher's files from ``data_dir`` (or its data-set sub-folder)."""
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"--data_dir {root} is not a directory; {OFFLINE_HELP}")
    if dataset in ("mnist", "fashion_mnist"):
        folder = _find_folder(root, dataset, IDX_FILES["train_images"])
        return _load_idx_dir(folder, dataset, f"{dataset} IDX files in {folder}")
    if dataset == "cifar10":
        folder = _find_folder(root, dataset, "data_batch_1.bin")
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
        for name in names:
            if not (folder / name).is_file():
                raise DataError(f"{folder / name} is missing; {OFFLINE_HELP}")
            _verify(folder / name, dataset)
        parts = [_read_cifar_bin(folder / name) for name in names]
        x_train = np.concatenate([p[0] for p in parts[:5]])
        y_train = np.concatenate([p[1] for p in parts[:5]])
        return RawData(x_train, y_train, *parts[5], 10, f"CIFAR-10 binary batches in {folder}",
                       dataset)
    raise DataError(f"unknown dataset {dataset!r}")


def import_tfds():
    """tensorflow_datasets, its progress bars off when stderr is not a terminal (a log file:
    they would print a line per update); DataError when it cannot be imported."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:  # e.g. importlib_resources missing
        raise DataError(f"tensorflow-datasets is not usable here ({err})") from err
    if not sys.stderr.isatty():
        tfds.disable_progress_bar()
    return tfds


def load_from_tfds(
    dataset: str, manual_dir: str | None = None, data_dir: str | None = None
) -> RawData:
    """Build/load through tensorflow-datasets (downloads only without ``manual_dir``)."""
    tfds = import_tfds()
    kwargs = {}
    if manual_dir:
        if not Path(manual_dir).is_dir():
            raise DataError(f"--manual_dir {manual_dir} is not a directory; {OFFLINE_HELP}")
        _check_manual_files(dataset, Path(manual_dir))
        config = tfds.download.DownloadConfig(manual_dir=str(manual_dir))
        kwargs["download_and_prepare_kwargs"] = {"download_config": config}
    elif not _tfds_prepared(tfds, dataset, data_dir):
        _check_reachable(dataset)
    try:
        (train, test), info = tfds.load(
            dataset,
            split=["train", "test"],
            data_dir=data_dir,
            try_gcs=False,
            as_supervised=True,
            batch_size=-1,
            with_info=True,
            **kwargs,
        )
    except Exception as err:  # tfds raises many types (network, checksum, missing file)
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"tensorflow-datasets could not load {dataset}: {message}; {OFFLINE_HELP}") from err
    x_train, y_train = (np.asarray(a) for a in tfds.as_numpy(train))
    x_test, y_test = (np.asarray(a) for a in tfds.as_numpy(test))
    return RawData(
        x_train.astype(np.uint8),
        y_train.astype(np.int64),
        x_test.astype(np.uint8),
        y_test.astype(np.int64),
        int(info.features["label"].num_classes),
        f"tensorflow-datasets {dataset} {info.version}",
        dataset,
    )


def _check_manual_files(dataset: str, folder: Path) -> None:
    """Every file tfds reads from ``folder`` is there (and verified where its sha256 is
    known), so tfds never falls back to a download."""
    names = TFDS_MANUAL_FILES.get(dataset, ())
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DataError(f"--manual_dir {folder} lacks {', '.join(missing)} (tensorflow-datasets "
                        f"would download instead); {OFFLINE_HELP}")
    for name in names:
        if name in SHA256.get(dataset, {}):
            _verify(folder / name, dataset)


def _tfds_prepared(tfds, dataset: str, data_dir: str | None) -> bool:
    try:
        return bool(tfds.builder(dataset, data_dir=data_dir).is_prepared())
    except Exception:  # an unknown or broken tfds folder: treat as not prepared
        return False


def _check_reachable(dataset: str) -> None:
    """DataError within PROBE_SECONDS if tfds's download server cannot be reached (name
    lookups can block for minutes offline, so the probe runs in a thread of its own)."""
    host, port = TFDS_DOWNLOAD_HOSTS.get(dataset, ("storage.googleapis.com", 443))
    reached = threading.Event()

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
            reached.set()
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(PROBE_SECONDS)  # returns at once when the connection fails
    if not reached.is_set():
        raise DataError(f"tensorflow-datasets would download {dataset} from {host}, which "
                        f"cannot be reached (offline?); {OFFLINE_HELP}")


def load_raw(
    dataset: str,
    source: str = "auto",
    data_dir: str | None = None,
    manual_dir: str | None = None,
    tfds_data_dir: str | None = None,
) -> RawData:
    """Dispatch on ``source``: auto picks tfds (manual_dir), files (data_dir) or embedded.
    An unreadable file or folder is a DataError naming it."""
    try:
        return _load_raw(dataset, source, data_dir, manual_dir, tfds_data_dir)
    except OSError as err:
        where = err.filename or data_dir or manual_dir
        raise DataError(f"cannot read {where}: {err.strerror or err}; {OFFLINE_HELP}") from None


def _load_raw(dataset: str, source: str, data_dir: str | None, manual_dir: str | None,
              tfds_data_dir: str | None) -> RawData:
    if source == "auto":
        if manual_dir:
            source = "tfds"
        elif data_dir:
            source = "files"
        elif dataset == "mnist":
            source = "embedded"
        else:
            raise DataError(f"{dataset} is not shipped with the package; {OFFLINE_HELP}")
    if source == "embedded":
        if dataset != "mnist":
            raise DataError(f"only mnist is embedded; {OFFLINE_HELP}")
        return load_embedded_mnist()
    if source == "files":
        if not data_dir:
            if dataset == "mnist":
                return load_embedded_mnist()
            raise DataError(f"--data_source=files needs --data_dir; {OFFLINE_HELP}")
        return load_from_files(dataset, data_dir)
    if source == "tfds":
        return load_from_tfds(dataset, manual_dir, tfds_data_dir)
    raise DataError(f"unknown data source {source!r}")
