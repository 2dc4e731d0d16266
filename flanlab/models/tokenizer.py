"""A BPE tokenizer trained on the task catalogue's own text, so no download is needed.

Special tokens are ordered ``<pad>``=0, ``</s>``=1, ``<unk>``=2, so that pad doubles as T5's
decoder start token. Every encoding ends with ``</s>``. Trained tokenizers are cached under the
cache directory, keyed by a hash of the corpus and settings, so each is trained once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from flanlab.io import atomic_dir

SPECIALS = ("<pad>", "</s>", "<unk>")


def corpus_key(texts: Iterable[str], vocab_size: int) -> str:
    digest = hashlib.sha256(f"bpe-v1:{vocab_size}".encode())
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def train_bpe(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Train a byte-fallback-free BPE tokenizer on ``texts``."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()])
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIALS), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def cached_bpe(texts: list[str], vocab_size: int, cache_dir: str | Path) -> PreTrainedTokenizerFast:
    """Load the tokenizer for this corpus from the cache, training and saving it on a miss."""
    path = Path(cache_dir) / "tokenizers" / corpus_key(texts, vocab_size)
    if (path / "tokenizer.json").exists():
        return PreTrainedTokenizerFast.from_pretrained(str(path))
    tokenizer = train_bpe(texts, vocab_size)
    with atomic_dir(path, keep_existing=True) as tmp:
        tokenizer.save_pretrained(str(tmp))
    return tokenizer
