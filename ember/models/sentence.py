"""Sentence embeddings with a pretrained BERT encoder (sentence-transformers' recipe): tokenize,
run the encoder with the attention mask, mean-pool the token vectors over the mask, L2-normalize.

    model, tokenizer = ember.models.sentence_encoder("all-MiniLM-L6-v2")
    emb = ember.models.encode_sentences(model, tokenizer, ["a sentence", "another one"])   # (2, 384)
"""

from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..ops import shape as S
from ..ops.normalization import normalize as _l2_normalize
from .bert import BertModel, mean_pooling
from .pretrained import load_pretrained, resolve_pretrained
from .tokenizer import Tokenizer

__all__ = ["sentence_encoder", "encode_sentences"]


def sentence_encoder(name_or_path="all-MiniLM-L6-v2", device=None) -> tuple[BertModel, Tokenizer]:
    """(BertModel in eval mode, Tokenizer) from a registered name or a local folder holding
    config.json, model.safetensors and tokenizer.json. Never downloads."""
    folder = resolve_pretrained(name_or_path)
    if not folder.is_dir():
        raise ValueError(f"sentence_encoder: expected a folder (weights, config.json, tokenizer.json), got {folder}")
    model = load_pretrained(folder, device=device)
    if not isinstance(model, BertModel):
        raise TypeError(f"sentence_encoder: {folder} holds a {type(model).__name__}, expected a BERT encoder")
    return model, Tokenizer.from_pretrained(folder)


def encode_sentences(model: BertModel, tokenizer: Tokenizer, sentences, batch_size: int = 32,
                     normalize: bool = True) -> Tensor:
    """Embeddings (N, hidden_size) of ``sentences`` (a list of str, or one str -> (1, H)): batches of
    ``batch_size`` padded to their longest sentence, mean pooling over the attention mask, then L2
    normalization (``normalize=True``), all without recording gradients."""
    if isinstance(sentences, str):
        sentences = [sentences]
    sentences = list(sentences)
    if not sentences:
        raise ValueError("encode_sentences: got no sentences")
    if batch_size < 1:
        raise ValueError(f"encode_sentences: batch_size must be >= 1, got {batch_size}")
    device = model.embeddings.word_embeddings.weight.device
    out = []
    with no_grad():
        for i in range(0, len(sentences), batch_size):
            batch = tokenizer(sentences[i:i + batch_size], device=device)
            h = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).last_hidden_state
            e = mean_pooling(h, batch["attention_mask"])
            out.append(_l2_normalize(e, p=2.0, dim=1) if normalize else e)
    return out[0] if len(out) == 1 else S.cat(out, 0)
