# Sample-level modality valuation with re-sampling (Wei et al., CVPR 2024) on
# AV-Digits (audio-dominant preset), width-16 ResNet-18s, concat fusion.
# See configs/modality_valuation/README.md for every choice.
_base_ = '../joint/joint_concat_resnet18_avdigits.py'
max_epochs = 8
warmup_epochs = 2  # of 8 (the paper: 5 of 60): the imbalance forms early
# Training is plain joint training; the method acts through the data.
model = dict(balancer=dict(_delete_=True, type='JointTraining'))
# 'repeat' appends the modality-masked copies, as the paper: the epoch grows.
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ResamplingSampler', shuffle=True,
                 mode='repeat'))
# The epoch length changes with the plan, so the one-cycle schedule steps by
# epoch (an iteration-based one is sized once, before the copies exist).
# A cycle of max_epochs + 1 steps gives each epoch nearly the mean lr the
# iteration-based cycle of the joint baseline gives it (README).
param_scheduler = [
    dict(type='OneCycleLR', eta_max=0.05, begin=0, end=max_epochs + 1,
         by_epoch=True, convert_to_iter_based=False)
]
custom_hooks = [
    dict(type='ModalityValuationHook', level='sample',
         warmup_epochs=warmup_epochs,
         interval=1, seed=0)
]
