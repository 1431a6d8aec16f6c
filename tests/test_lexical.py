"""BM25 scoring: newsbot's own accumulation of bm25s's stored term weights."""

from __future__ import annotations

import numpy as np

from index.ingest import read_corpus
from index.lexical import LexicalIndex, tokenize


def test_scores_equal_bm25s_own_scoring(sample_corpus):
    texts = [a.text for a in read_corpus(sample_corpus).articles]
    index = LexicalIndex.build(texts)
    questions = ["Why was Li Shangfu sanctioned?", "naval drills naval drills", "", "zzqx unknown"]
    for question in questions:
        (tokens,) = tokenize([question])
        known = [t for t in tokens if index.knows(t)]
        expected = index._model.get_scores(known) if known else np.zeros(len(texts))
        assert np.allclose(index.scores(question), expected, atol=1e-6)
    assert index.scores("Li Shangfu sanctioned").max() > 0
