"""CIDer's multimodal transformer (MCT): attention along every modality
subset.

The tokens of all modalities are concatenated in time. In each layer one
set of query, key and value projections scores every token against every
other; then, for each non-empty subset S of the modalities, a softmax over
the keys of S alone gives that subset's view O_S (with its own output
projection), for the queries of the modalities in S. A token of modality m
is rebuilt from the views of the subsets that contain m (four of them with
three modalities: all three, the two pairs with m, m alone), concatenated
and projected back to d. So every token carries what it can see from each
combination of modalities, the property CIDer's robustness to missing
modalities builds on (configs/cider/README.md).
"""
import math
from itertools import combinations
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .sequence_projector import sinusoidal_positions

Subset = Tuple[str, ...]


def modality_subsets(modalities: Sequence[str]) -> List[Subset]:
    """Every non-empty subset, largest first (the full set, pairs, ...)."""
    out: List[Subset] = []
    for size in range(len(modalities), 0, -1):
        out.extend(combinations(modalities, size))
    return out


class SubsetAttention(nn.Module):
    """Multi-head attention with one softmax per modality subset.

    Args:
        modalities: Modality names, in the order of the token blocks.
        dims: d, the token width.
        num_heads: H (must divide d).
        attn_dropout: Dropout on the attention of the full subset only
            (as CIDer).
    """

    def __init__(self, modalities: Sequence[str], dims: int, num_heads: int,
                 attn_dropout: float = 0.0):
        super().__init__()
        if dims % num_heads:
            raise ValueError(f'SubsetAttention: num_heads {num_heads} must '
                             f'divide the width {dims}')
        self.modalities = tuple(modalities)
        self.subsets = modality_subsets(self.modalities)
        self.num_heads = num_heads
        self.qkv = nn.Linear(dims, 3 * dims)
        self.out = nn.ModuleDict(
            {'_'.join(s): nn.Linear(dims, dims) for s in self.subsets})
        self.merge = nn.ModuleDict({
            m: nn.Linear(len(self.of(m)) * dims, dims)
            for m in self.modalities})
        self.final = nn.Linear(dims, dims)
        self.attn_dropout = nn.Dropout(attn_dropout)

    def of(self, modality: str) -> List[Subset]:
        """The subsets that contain ``modality``, largest first."""
        return [s for s in self.subsets if modality in s]

    def forward(self, x: torch.Tensor, owner: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Tokens (B, N, d) and each token's modality index (N,) -> the
        new tokens (B, N, d) and the raw scaled scores (B, H, N, N)."""
        b, n, d = x.shape
        h = self.num_heads
        q, k, v = self.qkv(x).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)
        views: Dict[Subset, torch.Tensor] = {}
        for subset in self.subsets:
            inside = torch.zeros(n, dtype=torch.bool, device=x.device)
            for m in subset:
                inside |= owner == self.modalities.index(m)
            probs = scores.masked_fill(~inside, float('-inf')).softmax(-1)
            if len(subset) == len(self.modalities):
                probs = self.attn_dropout(probs)
            out = (probs @ v).transpose(1, 2).reshape(b, n, d)
            views[subset] = self.out['_'.join(subset)](out) * \
                inside[None, :, None].to(out.dtype)
        merged = torch.zeros_like(x)
        for i, m in enumerate(self.modalities):
            rows = owner == i
            cat = torch.cat([views[s][:, rows] for s in self.of(m)], -1)
            merged[:, rows] = self.merge[m](cat)
        return self.final(merged), scores


class MultimodalTransformerLayer(nn.Module):
    """Pre-norm: x + drop(SubsetAttention(LN x)), then x + drop(FFN(LN x))
    with an FFN of width 4d."""

    def __init__(self, modalities, dims: int, num_heads: int,
                 attn_dropout: float, relu_dropout: float,
                 res_dropout: float):
        super().__init__()
        self.norm_attn = nn.LayerNorm(dims)
        self.attn = SubsetAttention(modalities, dims, num_heads,
                                    attn_dropout)
        self.norm_ffn = nn.LayerNorm(dims)
        self.fc1 = nn.Linear(dims, 4 * dims)
        self.fc2 = nn.Linear(4 * dims, dims)
        self.relu_dropout = nn.Dropout(relu_dropout)
        self.res_dropout = nn.Dropout(res_dropout)

    def forward(self, x, owner):
        out, scores = self.attn(self.norm_attn(x), owner)
        x = x + self.res_dropout(out)
        ffn = self.fc2(self.relu_dropout(F.relu(self.fc1(self.norm_ffn(x)))))
        return x + self.res_dropout(ffn), scores


class MultimodalTransformer(nn.Module):
    """MCT over the modalities' token sequences concatenated in time.

    Args:
        modalities: Modality names (the order of the blocks).
        dims: d.
        num_layers: Layers (CIDer: 3).
        num_heads: Heads (CIDer: 8).
        attn_dropout, relu_dropout, res_dropout, embed_dropout: Dropouts
            (CIDer: 0.0, 0.1, 0.1, 0.2).
        positions: ``'time'`` (sinusoidal positions of each modality's time
            steps), ``'batch'`` (CIDer's code, which indexes the table with
            the batch axis: every token of sample b gets the position code
            of b) or ``'none'``.
    """

    POSITIONS = ('time', 'batch', 'none')

    def __init__(self, modalities: Sequence[str], dims: int = 32,
                 num_layers: int = 3, num_heads: int = 8,
                 attn_dropout: float = 0.0, relu_dropout: float = 0.1,
                 res_dropout: float = 0.1, embed_dropout: float = 0.2,
                 positions: str = 'time'):
        super().__init__()
        if positions not in self.POSITIONS:
            raise ValueError(f'MultimodalTransformer positions must be one '
                             f'of {self.POSITIONS}, got {positions!r}')
        self.modalities = tuple(modalities)
        self.dims = dims
        self.positions = positions
        self.embed_dropout = nn.Dropout(embed_dropout)
        self.layers = nn.ModuleList(
            MultimodalTransformerLayer(self.modalities, dims, num_heads,
                                       attn_dropout, relu_dropout,
                                       res_dropout)
            for _ in range(num_layers))
        self.norm = nn.LayerNorm(dims)

    def _embed(self, seq: torch.Tensor) -> torch.Tensor:
        """sqrt(d) x + positions (MulT's embedding, which CIDer keeps)."""
        b, t, d = seq.shape
        x = seq * math.sqrt(d)
        if self.positions == 'batch':
            table = sinusoidal_positions(b, d, seq.device).to(seq.dtype)
            return x + table[:, None, :]
        if self.positions == 'time':
            return x + sinusoidal_positions(t, d, seq.device).to(
                seq.dtype)[None]
        return x

    def forward(self, seqs: Dict[str, torch.Tensor]
                ) -> Tuple[Dict[str, torch.Tensor], Optional[torch.Tensor]]:
        """Modality -> (B, T_m, d) -> the same shapes after the layers, and
        the last layer's raw scores (B, H, N, N), N = sum of the T_m."""
        tokens = [self._embed(seqs[m]) for m in self.modalities]
        lengths = [t.shape[1] for t in tokens]
        owner = torch.cat([torch.full((n, ), i, dtype=torch.long,
                                      device=tokens[0].device)
                           for i, n in enumerate(lengths)])
        x = self.embed_dropout(torch.cat(tokens, 1))
        scores = None
        for layer in self.layers:
            x, scores = layer(x, owner)
        x = self.norm(x)
        return dict(zip(self.modalities, x.split(lengths, 1))), scores
