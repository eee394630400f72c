# Sample-level modality valuation with re-sampling (Wei et al., CVPR 2024) on
# Kinetics-Sounds, the joint config's encoders and concat fusion, on the OGM-GE
# schedule of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/modality_valuation/README.md, "Real benchmarks".
_base_ = '../joint/joint_concat_resnet18_kinetics_sounds.py'
# W = 5 epochs (of 100): the official sample-level script's warm-up
# (5 of 60 epochs); AV-Digits uses 2 of 8.
warmup_epochs = 5
# Training is plain joint training; the method acts through the data.
model = dict(balancer=dict(_delete_=True, type='JointTraining'))
# 'repeat' appends the modality-masked copies, as the paper: the epoch grows.
# The joint config's StepLR steps by epoch, so the longer epochs leave the
# schedule unchanged.
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ResamplingSampler', shuffle=True,
                 mode='repeat'))
custom_hooks = [
    dict(type='ModalityValuationHook', level='sample',
         warmup_epochs=warmup_epochs,
         interval=1, seed=0)
]
