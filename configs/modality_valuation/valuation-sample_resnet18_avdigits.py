# Sample-level modality valuation with re-sampling (Wei et al., CVPR 2024) on
# AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat fusion.
# See configs/modality_valuation/README.md for every choice.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/modality_valuation.py']
max_epochs = 8
warmup_epochs = 2  # of 8 (the paper: 5 of 60): the imbalance forms early
model = _base_.valuation_model
train_dataloader = dict(sampler=_base_.valuation_sampler)
# The epoch length changes with the plan, so the one-cycle schedule steps by
# epoch (an iteration-based one is sized once, before the copies exist).
# A cycle of max_epochs + 1 steps gives each epoch nearly the mean lr the
# iteration-based cycle of the joint baseline gives it (README).
param_scheduler = [
    dict(type='OneCycleLR', eta_max=0.05, begin=0, end=max_epochs + 1,
         by_epoch=True, convert_to_iter_based=False)
]
custom_hooks = [dict(_base_.valuation_hook, warmup_epochs=warmup_epochs)]
