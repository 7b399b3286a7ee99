"""A small causal transformer over bytes (vocab 257 = 256 bytes + BOS 256), for tests and the bench.

`make()` is the module:factory capture loads; the weights come from a fixed seed so a test's direct
forward pass sees the same model.
"""
import math

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        T = x.shape[1]
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=causal, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class ToyTransformer(nn.Module):
    def __init__(self, d_model=32, n_layers=2, n_heads=4, vocab=257, max_len=256):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos_embed = nn.Parameter(torch.randn(max_len, d_model) / math.sqrt(d_model))
        self.blocks = nn.ModuleList([Block(d_model, n_heads) for _ in range(n_layers)])
        self.ln_final = nn.LayerNorm(d_model)
        self.unembed = nn.Linear(d_model, vocab, bias=False)

    def forward(self, ids):
        x = self.embed(ids) + self.pos_embed[: ids.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.unembed(self.ln_final(x))


def make():
    torch.manual_seed(1234)
    return ToyTransformer()


def make_wide():
    """A larger variant for the throughput bench."""
    torch.manual_seed(1234)
    return ToyTransformer(d_model=128, n_layers=4, n_heads=4)


def broken():
    raise RuntimeError("weights file missing")

