"""The embedding backends with the real model and real onnxruntime, offline: the onnx
backend gives torch's vectors, its export is made once and reused, a damaged export is
made again, and bad settings fail naming the key."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.chunk import chunk_article
from index.config import Config, EmbeddingConfig, load_config
from index.embed import OnnxEmbedder, load_embedder, resolve_model_path
from index.errors import ConfigError, ModelError
from index.ingest import read_corpus

QUESTIONS = [
    "What did Liu Zhenli say about Taiwan?",
    "Who won the election?",
    "harbour strike wages",
    "Qu'a dit le ministre ? 北京 の ニュース",
    "?",
]


@pytest.fixture(scope="module")
def torch_embedder():
    return load_embedder(EmbeddingConfig(backend="torch"))


@pytest.fixture(scope="module")
def onnx_embedder() -> OnnxEmbedder:
    """Exported (or reused) in the session's cache directory, as real_embedder is."""
    embedder = load_embedder(EmbeddingConfig(backend="onnx"))
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def _sample_texts(sample_corpus: Path) -> list[str]:
    """Every passage of the sample corpus, plus whole articles (past the 256-token limit)."""
    articles = read_corpus(sample_corpus).articles
    passages = [p.text for a in articles for p in chunk_article(a, Config().chunk)]
    return passages + [a.text for a in articles]


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.min(np.sum(a * b, axis=1)))


@pytest.mark.model
def test_onnx_gives_torch_vectors_for_every_passage_and_question(
    sample_corpus, torch_embedder, onnx_embedder
):
    texts = _sample_texts(sample_corpus)
    onnx = onnx_embedder.embed_passages(texts)
    torch = torch_embedder.embed_passages(texts)
    assert onnx.dtype == np.float32 and onnx.shape == torch.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert _min_cosine(onnx, torch) >= 0.999
    queries = np.stack([onnx_embedder.embed_query(q) for q in QUESTIONS])
    torch_queries = np.stack([torch_embedder.embed_query(q) for q in QUESTIONS])
    assert queries.dtype == np.float32
    assert _min_cosine(queries, torch_queries) >= 0.999


@pytest.mark.model
def test_both_backends_share_the_model_name_and_dimension(torch_embedder, onnx_embedder):
    # The embedding cache and index manifests key on the name: it must not change.
    assert onnx_embedder.name == torch_embedder.name == "all-MiniLM-L6-v2"
    assert onnx_embedder.dimension == torch_embedder.dimension == 384


@pytest.mark.model
def test_the_default_backend_is_onnx(real_embedder):
    assert isinstance(real_embedder, OnnxEmbedder)


@pytest.mark.model
def test_a_second_load_reuses_the_export(onnx_embedder):
    before = os.stat(onnx_embedder.onnx_path)
    again = load_embedder(EmbeddingConfig(backend="onnx"))
    assert isinstance(again, OnnxEmbedder)
    assert again.exported is False and again.onnx_path == onnx_embedder.onnx_path
    after = os.stat(again.onnx_path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.suffix for p in again.onnx_path.parent.iterdir()] == [".onnx"]


def _truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _record_other_vector(path: Path) -> None:
    """A file that loads but whose recorded torch vector is not what it computes."""
    import onnx

    model = onnx.load(str(path))
    for prop in model.metadata_props:
        if prop.key == "newsbot.probe":
            prop.value = json.dumps([-x for x in json.loads(prop.value)])
    onnx.save(model, str(path))


@pytest.mark.model
@pytest.mark.parametrize("damage", [_truncate, _record_other_vector])
def test_a_damaged_export_is_exported_again(tmp_path, onnx_embedder, damage):
    cached = tmp_path / onnx_embedder.onnx_path.name
    shutil.copyfile(onnx_embedder.onnx_path, cached)
    damage(cached)
    repaired = load_embedder(EmbeddingConfig(backend="onnx"), onnx_dir=tmp_path)
    assert isinstance(repaired, OnnxEmbedder) and repaired.exported is True
    assert repaired.onnx_path == cached
    assert [p.name for p in tmp_path.iterdir()] == [cached.name]  # no temporary file left
    question = QUESTIONS[0]
    assert repaired.embed_query(question) @ onnx_embedder.embed_query(question) >= 0.999
    reloaded = load_embedder(EmbeddingConfig(backend="onnx"), onnx_dir=tmp_path)
    assert isinstance(reloaded, OnnxEmbedder) and reloaded.exported is False


@pytest.mark.parametrize("value", ["tensorrt", "ONNX", ""])
def test_a_bad_backend_names_the_key(tmp_path, value):
    config = tmp_path / "newsbot.toml"
    config.write_text(f"[embedding]\nbackend = '{value}'\n")
    with pytest.raises(ConfigError, match=r'config key embedding\.backend: use "onnx" or "torch"'):
        load_config(config)
    with pytest.raises(ConfigError, match=r"config key embedding\.backend"):
        load_config(environ={"NEWSBOT_EMBEDDING_BACKEND": value})


def test_onnx_refuses_a_model_it_cannot_pool_like_torch(tmp_path):
    model = tmp_path / "cls-model"
    shutil.copytree(resolve_model_path("all-MiniLM-L6-v2"), model, symlinks=False,
                    ignore=shutil.ignore_patterns("*.safetensors"))  # fmt: skip
    pooling = model / "1_Pooling" / "config.json"
    settings = json.loads(pooling.read_text())
    settings.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(settings))
    with pytest.raises(ModelError, match=r'embedding\.backend: "onnx" runs mean-pooling models'):
        load_embedder(EmbeddingConfig(model=str(model)), onnx_dir=tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()


@pytest.mark.model
def test_an_unwritable_export_folder_is_a_model_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ModelError, match=r"cannot write the ONNX export to .*not-a-folder"):
        load_embedder(EmbeddingConfig(), onnx_dir=blocker / "onnx")
