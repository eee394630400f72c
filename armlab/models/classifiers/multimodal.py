"""The multimodal classifier: encoders, a fusion, and a balancer."""
from itertools import combinations
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample
from torch import nn

from armlab.registry import MODELS

Subset = Tuple[str, ...]


def configured_modalities(model_cfg) -> Tuple[str, ...]:
    """The modalities a model config encodes: its ``modalities`` when set,
    else every encoder (for tools that read a config without building it)."""
    return tuple(model_cfg.get('modalities') or model_cfg['encoders'])


def select_modalities(modalities: Sequence[str], encoders: Dict[str, dict],
                      data_preprocessor) -> Tuple[Dict[str, dict], object]:
    """Keep ``modalities`` of the encoders and of the preprocessor's
    statistics (``MultimodalClassifier(modalities=...)``)."""
    if isinstance(modalities, str):
        modalities = (modalities, )
    unknown = [m for m in modalities if m not in encoders]
    if unknown or not modalities:
        raise ValueError(f'MultimodalClassifier: modalities {list(modalities)}'
                         f' must name encoders ({list(encoders)}); no encoder'
                         f' for {unknown}')
    encoders = {m: encoders[m] for m in modalities}
    stats = (data_preprocessor.get('modalities')
             if isinstance(data_preprocessor, dict) else None)
    if isinstance(stats, dict):
        data_preprocessor = dict(data_preprocessor, modalities={
            m: v for m, v in stats.items() if m in modalities})
    return encoders, data_preprocessor


@MODELS.register_module()
class MultimodalClassifier(BaseModel):
    """Late-fusion classifier over a dict of per-modality encoders.

    It reads like mmpretrain's ``ImageClassifier`` with a dict of backbones:
    ``extract_feat`` gives one feature vector per modality, the fusion gives
    the logits, and ``forward(mode=...)`` follows the ``tensor`` / ``loss`` /
    ``predict`` contract. ``masked_logits`` is the one masked forward used by
    per-modality metrics, valuation, balancers and robustness tools.

    Args:
        encoders: Modality -> encoder config; each encoder maps its input to
            (B, D_m) and exposes ``out_channels``. The dict order fixes the
            modality order of weights and masks.
        fusion: Fusion config (``ConcatFusion``, ``SumFusion``, ...); the
            modalities, their feature sizes and ``num_classes`` are filled in.
        num_classes: Number of classes.
        balancer: Balancer config; defaults to plain joint training.
        loss: Classification loss on the fused logits.
        aux_heads: Train linear heads on detached features to read
            per-modality predictions off a fusion that is not decomposable
            (FiLM, gated). ``None`` means: exactly when it is not.
        data_preprocessor: Defaults to ``MultimodalDataPreprocessor``.
        init_cfg: mmengine initialisation config.
        modalities: The encoders to build, in this order (default: all of
            ``encoders``). A unimodal reference of a joint config is that
            config with ``modalities=('audio', )``: the same encoder, the
            same statistics, nothing copied. The data preprocessor's
            per-modality statistics are kept for these modalities only.
    """

    def __init__(self,
                 encoders: Dict[str, dict],
                 fusion: dict,
                 num_classes: int,
                 balancer: Optional[dict] = None,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 aux_heads: Optional[bool] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 modalities: Optional[Sequence[str]] = None):
        if modalities is not None:
            encoders, data_preprocessor = select_modalities(
                modalities, encoders, data_preprocessor)
        if data_preprocessor is None:
            data_preprocessor = dict(type='MultimodalDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if not encoders:
            raise ValueError('MultimodalClassifier needs at least one encoder')
        self.modalities: Tuple[str, ...] = tuple(encoders)
        self.num_classes = num_classes
        self.encoders = nn.ModuleDict(
            {m: MODELS.build(cfg) for m, cfg in encoders.items()})
        in_channels = {m: enc.out_channels for m, enc in self.encoders.items()}
        fusion = dict(fusion)
        fusion.setdefault('modalities', self.modalities)
        fusion.setdefault('in_channels', in_channels)
        fusion.setdefault('num_classes', num_classes)
        self.fusion = MODELS.build(fusion)
        if tuple(self.fusion.modalities) != self.modalities:
            raise ValueError(f'fusion modalities {self.fusion.modalities} '
                             f'differ from the encoders {self.modalities}')
        self.loss_module = MODELS.build(loss)
        if aux_heads is None:
            aux_heads = not self.fusion.decomposable
        self.aux_heads = nn.ModuleDict({
            m: nn.Linear(c, num_classes)
            for m, c in in_channels.items()
        }) if aux_heads else None
        self.balancer = MODELS.build(balancer or dict(type='Balancer'))
        # Per-modality feature weights (ARM); buffers so that they are saved
        # in checkpoints and frozen at evaluation.
        self.register_buffer('modality_weights',
                             torch.ones(len(self.modalities)))

    # -- features and masked forwards ---------------------------------------
    def extract_feat(self, inputs: Dict[str, torch.Tensor]
                     ) -> Dict[str, torch.Tensor]:
        """Encode each modality to a (B, D_m) feature vector."""
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(f'inputs lack modalities {missing}; '
                           f'got {sorted(inputs)}')
        return {m: self.encoders[m](inputs[m]) for m in self.modalities}

    def fuse(self,
             feats: Dict[str, torch.Tensor],
             present: Optional[torch.Tensor] = None,
             weights: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Fused logits with the model's feature weights unless given."""
        if weights is None:
            # A copy: a balancer may update the buffer before backward.
            weights = self.modality_weights.clone()
        return self.fusion(feats, weights=weights, present=present)

    def masked_logits(self,
                      feats: Dict[str, torch.Tensor],
                      subsets: Optional[Iterable[Sequence[str]]] = None,
                      weights: Optional[torch.Tensor] = None,
                      present: Optional[torch.Tensor] = None
                      ) -> Dict[Subset, torch.Tensor]:
        """Fused logits with only each subset's modalities present.

        A modality absent from a sample (``present``: the batch's presence
        mask under modality dropout, re-sampling copies or a robustness
        protocol) stays absent in every subset: sample i's logits for S are
        those of S ∩ present_i. Masking can take modalities away, never
        give back one the fused pass treated as missing.

        Args:
            feats: Modality -> (B, D) features (detach them for valuation).
            subsets: Modality subsets; defaults to all 2^M, the empty one
                included (every absent modality takes the fusion's fill).
            weights: Feature weights; defaults to the model's.
            present: Optional (B, M) bool presence mask (True = present).

        Returns:
            dict: subset (tuple in model order) -> logits (B, K).
        """
        if subsets is None:
            subsets = self.all_subsets()
        keys = []
        for subset in subsets:
            unknown = [m for m in subset if m not in self.modalities]
            if unknown:
                raise KeyError(f'unknown modalities {unknown}; the model '
                               f'has {self.modalities}')
            keys.append(tuple(m for m in self.modalities if m in subset))
        if weights is None:
            weights = self.modality_weights.clone()
        if present is None or bool(present.all()):
            return self.fusion.subset_logits(feats, keys, weights)
        return self._logits_within_presence(feats, keys, weights, present)

    def _logits_within_presence(self, feats, keys: List[Subset], weights,
                                present: torch.Tensor
                                ) -> Dict[Subset, torch.Tensor]:
        """``masked_logits`` under a presence mask: the logits of every
        S ∩ P for the batch's distinct presence rows P, gathered per row."""
        present = present.bool().to(next(iter(feats.values())).device)
        rows, which = torch.unique(present, dim=0, return_inverse=True)
        rows = [tuple(m for m, on in zip(self.modalities, row) if on)
                for row in rows.tolist()]

        def within(key, row):
            return tuple(m for m in key if m in row)

        needed = list(dict.fromkeys(within(k, r) for k in keys for r in rows))
        logits = self.fusion.subset_logits(feats, needed, weights)
        out = {}
        for key in keys:
            z = logits[within(key, rows[0])]
            for r in range(1, len(rows)):
                z = torch.where((which == r)[:, None],
                                logits[within(key, rows[r])], z)
            out[key] = z.expand(present.shape[0], -1)
        return out

    def all_subsets(self) -> List[Subset]:
        """Every subset of the modalities, from empty to full."""
        return [
            c for r in range(len(self.modalities) + 1)
            for c in combinations(self.modalities, r)
        ]

    def modality_logits(self, feats: Dict[str, torch.Tensor],
                        present: Optional[torch.Tensor] = None
                        ) -> Dict[str, torch.Tensor]:
        """Per-modality logits under every convention the model supports.

        Keys are ``<m>_mask`` (fused head with only m present, full bias),
        ``<m>_decomp`` (decomposable fusions: W_m h_m + b/M for concat,
        each head for sum) and ``<m>_aux`` (when the model has auxiliary
        heads). Under a presence mask the masked heads keep absent
        modalities absent (see :meth:`masked_logits`).
        """
        out = {}
        for m in self.modalities:
            out[f'{m}_mask'] = self.masked_logits(feats, [(m, )],
                                                  present=present)[(m, )]
        if self.fusion.decomposable:
            for m, z in self.fusion.decompose(
                    feats, weights=self.modality_weights).items():
                out[f'{m}_decomp'] = z
        if self.aux_heads is not None:
            for m in self.modalities:
                out[f'{m}_aux'] = self.aux_heads[m](feats[m])
        return out

    # -- forward contract ---------------------------------------------------
    def forward(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            feats = self.extract_feat(inputs)
            return self.fuse(feats, present=self._present(data_samples))
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}".')

    def _present(self, data_samples: Optional[List[DataSample]]
                 ) -> Optional[torch.Tensor]:
        """(B, M) presence mask from the samples, None when all present."""
        if not data_samples or 'modality_mask' not in data_samples[0]:
            return None
        mask = torch.stack([ds.modality_mask for ds in data_samples]).bool()
        return None if bool(mask.all()) else mask

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """Fused loss (plus auxiliary heads), then the balancer's terms."""
        feats = self.extract_feat(inputs)
        present = self._present(data_samples)
        logits = self.fuse(self.balancer.fusion_features(self, feats),
                           present=present)
        labels = torch.cat([ds.gt_label for ds in data_samples])
        losses = {'loss_cls': self.loss_module(logits, labels)}
        losses.update(self.fusion.extra_losses(
            feats, labels, weights=self.modality_weights.clone(),
            present=present))
        if self.aux_heads is not None:
            losses['loss_aux'] = sum(
                F.cross_entropy(self.aux_heads[m](feats[m].detach()), labels)
                for m in self.modalities)
        return self.balancer.losses(self, feats, logits, data_samples, losses)

    def predict(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """Fused and per-modality predictions. Never reads labels."""
        feats = self.extract_feat(inputs)
        present = self._present(data_samples)
        logits = self.fuse(feats, present=present)
        return pack_predictions(logits, self.modality_logits(feats, present),
                                self.subset_labels(feats, present),
                                data_samples)

    def subset_labels(self, feats: Dict[str, torch.Tensor],
                      present: Optional[torch.Tensor] = None
                      ) -> Dict[str, torch.Tensor]:
        """Predicted class of every modality subset's masked head, keyed
        ``'audio+visual'`` ... ``'none'``: the dataset-level Shapley
        contributions of the metric are computed from them. Empty when
        M > 4 (2^M masked heads would dominate the cost)."""
        if len(self.modalities) > 4:
            return {}
        logits = self.masked_logits(feats, present=present)
        return {('+'.join(s) or 'none'): z.argmax(1)
                for s, z in logits.items()}

    def parse_losses(self, losses: Dict[str, torch.Tensor]):
        """mmengine's sum of the ``loss`` terms, refusing a non-finite one:
        a NaN step would silently poison every weight and checkpoint."""
        loss, log_vars = super().parse_losses(losses)
        if not bool(torch.isfinite(loss.detach())):
            bad = {k: float(v.detach().mean()) for k, v in losses.items()
                   if 'loss' in k and not bool(torch.isfinite(v).all())}
            raise FloatingPointError(
                f'non-finite training loss {float(loss)}: terms {bad} (of '
                f'{sorted(k for k in losses if "loss" in k)}). Lower the '
                'learning rate, check the inputs for NaN/inf, or use '
                'gradient clipping (optim_wrapper.clip_grad).')
        return loss, log_vars

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        """Delegate the step to the balancer (joint training by default)."""
        return self.balancer.train_step(self, data, optim_wrapper)


def pack_predictions(logits: torch.Tensor,
                     modality_logits: Dict[str, torch.Tensor],
                     subset_labels: Dict[str, torch.Tensor],
                     data_samples: Optional[List[DataSample]] = None
                     ) -> List[DataSample]:
    """Write fused scores and labels, per-modality scores and every
    subset's predicted label into the data samples the metric reads."""
    scores = F.softmax(logits, dim=1)
    per_modality = {k: F.softmax(z, dim=1)
                    for k, z in modality_logits.items()}
    if data_samples is None:
        data_samples = [DataSample() for _ in range(scores.shape[0])]
    for i, ds in enumerate(data_samples):
        ds.set_pred_score(scores[i]).set_pred_label(scores[i].argmax())
        ds.set_field({k: v[i] for k, v in per_modality.items()},
                     'modality_scores', field_type='data')
        if subset_labels:
            ds.set_field({k: v[i] for k, v in subset_labels.items()},
                         'subset_labels', field_type='data')
    return data_samples
