# Control of ARM's re-sampling: the plan's rows dealt to random samples (same
# counts, masking rate and masked modalities, no sample gets its own).
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
custom_hooks = [dict(_base_.custom_hooks[0], resample=dict(score='shuffled'))]
