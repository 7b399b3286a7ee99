"""Tokenizers capture can use, and how each is saved beside the activations for decoding later.

"bytes" is our byte-level tokenizer: token id = byte value (0..255), BOS = 256. It is saved as a Hugging
Face tokenizer.json of GPT-2's byte-level kind (256 tokens, no merges), so one decoder reads it and GPT-2's.
"""
import json
import os


def bytes_to_unicode() -> dict:
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


class ByteTokenizer:
    kind = "bytes"
    bos_token_id = 256
    vocab_size = 257

    def encode(self, text: str) -> list:
        return list(text.encode("utf-8"))

    def save(self, folder: str) -> str:
        table = bytes_to_unicode()
        vocab = {table[b]: b for b in range(256)}
        doc = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": 256, "content": "<|bos|>", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": True}],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "vocab": vocab, "merges": []},
        }
        return _write_json(folder, "tokenizer.json", doc)


class HfTokenizer:
    """A transformers tokenizer (also what TransformerLens models carry as `.tokenizer`)."""
    kind = "huggingface"

    def __init__(self, tok):
        self.tok = tok
        self.bos_token_id = tok.bos_token_id
        self.vocab_size = len(tok)

    def encode(self, text: str) -> list:
        return self.tok.encode(text, add_special_tokens=False)

    def save(self, folder: str) -> str:
        if getattr(self.tok, "is_fast", False):
            tmp = os.path.join(folder, f"tokenizer.json.tmp-{os.getpid()}")
            self.tok.backend_tokenizer.save(tmp)
            os.replace(tmp, os.path.join(folder, "tokenizer.json"))
            return "tokenizer.json"
        # a slow tokenizer has no tokenizer.json: a vocabulary {token: id} (GPT-2's vocab.json shape) is what decoding needs
        tokens = self.tok.convert_ids_to_tokens(list(range(len(self.tok))))
        return _write_json(folder, "vocab.json", {t: i for i, t in enumerate(tokens) if isinstance(t, str)})


def load_tokenizer(spec: str):
    if spec in ("bytes", "byte"):
        return ByteTokenizer()
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise LookupError(f"tokenizer '{spec}' needs the transformers package, which is not installed (use --tokenizer bytes)") from None
    try:
        return HfTokenizer(AutoTokenizer.from_pretrained(spec))
    except (OSError, ValueError) as e:
        raise LookupError(f"tokenizer '{spec}' could not be loaded: {str(e).splitlines()[0]}") from None


def _write_json(folder, name, doc) -> str:
    path = os.path.join(folder, name)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    os.replace(tmp, path)
    return name
