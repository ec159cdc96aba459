"""``Tokenizer``: a thin wrapper over HuggingFace's ``tokenizers`` library (an optional dependency,
imported only when a tokenizer is built) that returns padded batches as Ember tensors.

``tokenizers`` files often carry a fixed padding setting (all-MiniLM-L6-v2's ``tokenizer.json`` pads
every text to 128 tokens); the wrapper switches it off and pads each batch only to its longest text,
with an attention mask marking the real tokens.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..ops.creation import tensor

__all__ = ["Tokenizer"]


def _tokenizers():
    try:
        import tokenizers
    except ImportError as exc:
        raise ImportError("ember.models.Tokenizer needs the 'tokenizers' package: pip install tokenizers "
                          "(or pip install 'ember[nlp]')") from exc
    return tokenizers


class Tokenizer:
    """Wraps a ``tokenizers.Tokenizer``. ``max_length`` truncates (None: no truncation);
    ``pad_token`` names the padding token (its id is looked up in the vocabulary).

    ``tok(texts)`` -> dict of int64 tensors ``input_ids``, ``token_type_ids``, ``attention_mask``, each
    (N, L) with L the longest text in the batch (after truncation); padding is on the right.
    """

    def __init__(self, tokenizer, max_length: int | None = None, pad_token: str = "[PAD]"):
        self._tok = tokenizer
        self._tok.no_padding()
        self.max_length = max_length
        if max_length is not None:
            self._tok.enable_truncation(max_length)
        else:
            self._tok.no_truncation()
        pad_id = self._tok.token_to_id(pad_token)
        if pad_id is None:
            raise ValueError(f"Tokenizer: the padding token {pad_token!r} is not in the vocabulary")
        self.pad_token, self.pad_token_id = pad_token, pad_id

    @classmethod
    def from_file(cls, path, max_length: int | None = None, pad_token: str = "[PAD]") -> "Tokenizer":
        """Load a ``tokenizer.json`` file."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Tokenizer.from_file: no such file: {path}")
        return cls(_tokenizers().Tokenizer.from_file(path), max_length, pad_token)

    @classmethod
    def from_pretrained(cls, folder, max_length: int | None = None) -> "Tokenizer":
        """Load ``folder/tokenizer.json``. ``max_length`` defaults to sentence-transformers'
        ``max_seq_length`` (sentence_bert_config.json) or else ``model_max_length``
        (tokenizer_config.json), as those libraries truncate."""
        folder = Path(folder)
        if max_length is None:
            for name, key in (("sentence_bert_config.json", "max_seq_length"),
                              ("tokenizer_config.json", "model_max_length")):
                p = folder / name
                if p.is_file():
                    value = json.loads(p.read_text(encoding="utf-8")).get(key)
                    if isinstance(value, int) and value < 1_000_000:
                        max_length = value
                        break
        pad = "[PAD]"
        special = folder / "special_tokens_map.json"
        if special.is_file():
            entry = json.loads(special.read_text(encoding="utf-8")).get("pad_token", pad)
            pad = entry["content"] if isinstance(entry, dict) else entry
        return cls.from_file(folder / "tokenizer.json", max_length, pad)

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """Token ids of one text, with the special tokens ([CLS] ... [SEP])."""
        return self._tok.encode(text).ids

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def tokenize(self, text: str) -> list[str]:
        return self._tok.encode(text).tokens

    def __call__(self, texts, device=None) -> dict:
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts:
            raise ValueError("Tokenizer: got an empty list of texts")
        encs = self._tok.encode_batch(texts)
        n, length = len(encs), max(len(e.ids) for e in encs)
        ids = np.full((n, length), self.pad_token_id, dtype=np.int64)
        types = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.int64)
        for i, e in enumerate(encs):
            k = len(e.ids)
            ids[i, :k] = e.ids
            types[i, :k] = e.type_ids
            mask[i, :k] = 1
        return {"input_ids": tensor(ids, device=device), "token_type_ids": tensor(types, device=device),
                "attention_mask": tensor(mask, device=device)}

    def __repr__(self):
        return f"Tokenizer(vocab_size={self.vocab_size}, max_length={self.max_length}, pad_token={self.pad_token!r})"
