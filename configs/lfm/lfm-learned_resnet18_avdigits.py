# LFM's bi-level variant on AV-Digits (embedded build); see
# lfm-learned_resnet18_avdigits-mnist-fsdd.py and configs/lfm/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/lfm.py']
model = _base_.lfm_learned_model
custom_hooks = _base_.lfm_learned_custom_hooks
train_dataloader = dict(dataset=dict(holdout=_base_.lfm_learned_holdout))
