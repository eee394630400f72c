# InfoReg* on AV-Digits: InfoReg plus the per-modality cross-entropies of the
# decomposed logits (the paper's InfoReg*, what the released code trains).
_base_ = './inforeg_resnet18_avdigits.py'
model = dict(balancer=dict(unimodal_loss=True))
