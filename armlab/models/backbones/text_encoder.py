"""Text encoders: a small transformer trained from scratch, or a pretrained
transformer from a local folder (optional ``transformers``).

Both take int64 token ids (B, L) padded with the pad id and return one
(B, D) feature vector per text, ignoring the padding: appending pad tokens
never changes a sample's feature.
"""
from typing import Optional

import torch
from torch import nn

from armlab.registry import MODELS

_POOLINGS = ('mean', 'cls')


def _check_ids(ids: torch.Tensor, name: str) -> None:
    if ids.dim() != 2:
        raise ValueError(f'{name} expects token ids (B, L), got shape '
                         f'{tuple(ids.shape)}')
    if ids.dtype.is_floating_point or ids.dtype == torch.bool:
        raise TypeError(
            f'{name} expects integer token ids, got {ids.dtype}; list the '
            f'text modality in the data preprocessor\'s index_modalities '
            f'(MultimodalDataPreprocessor(index_modalities=("text",)))')


def masked_mean(tokens: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of (B, L, D) over the valid positions of (B, L)."""
    weights = valid.unsqueeze(-1).to(tokens.dtype)
    return (tokens * weights).sum(1) / weights.sum(1).clamp(min=1.0)


@MODELS.register_module()
class TextEncoder(nn.Module):
    """Token embedding + learned positions + a transformer encoder.

    Padding-aware: pad positions are masked out of attention and out of the
    mean pooling, so the feature of a text does not depend on how much
    padding follows it.

    Args:
        vocab_size: Embedding rows; at least the size of ``vocab.json``
            (the prepare scripts cap the vocabulary with ``--max-vocab``).
        embed_dims: Token width D, also ``out_channels``.
        num_layers: Transformer layers.
        num_heads: Attention heads (must divide ``embed_dims``).
        feedforward_channels: Hidden width of the feed-forward blocks;
            ``4 * embed_dims`` when None.
        max_length: Longest sequence (rows of the position table).
        dropout: Dropout in the layers and on the embeddings.
        pooling: ``'mean'`` over real tokens, or ``'cls'`` (position 0,
            the [CLS] that ``Tokenize`` puts first).
        pad_id: Id of [PAD] (``armlab.datasets.text.PAD_ID``, 0; a test keeps
            them equal).
    """

    def __init__(self,
                 vocab_size: int,
                 embed_dims: int = 128,
                 num_layers: int = 2,
                 num_heads: int = 4,
                 feedforward_channels: Optional[int] = None,
                 max_length: int = 64,
                 dropout: float = 0.1,
                 pooling: str = 'mean',
                 pad_id: int = 0) -> None:
        super().__init__()
        if pooling not in _POOLINGS:
            raise ValueError(f'TextEncoder: pooling must be one of '
                             f'{_POOLINGS}, got {pooling!r}')
        if embed_dims % num_heads:
            raise ValueError(f'TextEncoder: num_heads {num_heads} must '
                             f'divide embed_dims {embed_dims}')
        self.vocab_size = vocab_size
        self.max_length = max_length
        self.pooling = pooling
        self.pad_id = pad_id
        self.out_channels = embed_dims
        self.token_embed = nn.Embedding(vocab_size, embed_dims,
                                        padding_idx=pad_id)
        self.pos_embed = nn.Parameter(torch.zeros(1, max_length, embed_dims))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            embed_dims, num_heads,
            dim_feedforward=feedforward_channels or 4 * embed_dims,
            dropout=dropout, batch_first=True, norm_first=True)
        # No nested tensors: they would warn with norm_first and change
        # nothing at these sizes.
        self.layers = nn.TransformerEncoder(layer, num_layers,
                                            enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dims)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        _check_ids(ids, 'TextEncoder')
        length = ids.shape[1]
        if length > self.max_length:
            raise ValueError(f'TextEncoder: sequences of {length} tokens '
                             f'exceed max_length={self.max_length}; raise '
                             f'max_length or Tokenize shorter')
        if ids.numel() and (int(ids.max()) >= self.vocab_size
                            or int(ids.min()) < 0):
            raise ValueError(
                f'TextEncoder: token id {int(ids.max())} is outside the '
                f'embedding table of vocab_size={self.vocab_size}; the '
                f'vocab.json is larger: raise vocab_size or rebuild the '
                f'vocabulary with a smaller --max-vocab')
        valid = ids != self.pad_id
        # A text that is all padding would attend to nothing (NaN): let it
        # attend to its first position.
        valid[:, 0] |= ~valid.any(1)
        x = self.drop(self.token_embed(ids) + self.pos_embed[:, :length])
        x = self.layers(x, src_key_padding_mask=~valid)
        x = self.norm(x)
        if self.pooling == 'cls':
            return x[:, 0]
        return masked_mean(x, valid)


@MODELS.register_module()
class PretrainedTextEncoder(nn.Module):
    """A pretrained transformer (``transformers.AutoModel``) from a local
    folder, pooled to (B, D).

    Needs the optional ``transformers`` package; a clear ImportError at
    construction says so when it is missing. Feed it ids from
    ``PretrainedTokenize`` of the same folder.

    Args:
        path: Local folder of the model (``save_pretrained`` output).
        pooling: ``'cls'`` (first token) or ``'mean'`` over real tokens.
        pad_id: Pad id; read from the model's config when None.
        freeze: Keep the pretrained weights fixed.
    """

    def __init__(self, path: str, pooling: str = 'cls',
                 pad_id: Optional[int] = None, freeze: bool = False) -> None:
        super().__init__()
        from armlab.utils.pretrained import load_pretrained_model
        if pooling not in _POOLINGS:
            raise ValueError(f'PretrainedTextEncoder: pooling must be one '
                             f'of {_POOLINGS}, got {pooling!r}')
        self.model = load_pretrained_model(path)
        config = self.model.config
        self.pad_id = pad_id if pad_id is not None else (
            getattr(config, 'pad_token_id', None) or 0)
        self.pooling = pooling
        self.out_channels = int(config.hidden_size)
        if freeze:
            self.model.requires_grad_(False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        _check_ids(ids, 'PretrainedTextEncoder')
        valid = ids != self.pad_id
        valid[:, 0] |= ~valid.any(1)
        hidden = self.model(input_ids=ids,
                            attention_mask=valid.long()).last_hidden_state
        if self.pooling == 'cls':
            return hidden[:, 0]
        return masked_mean(hidden, valid)
