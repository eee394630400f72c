# ARM valuing on a held-out part of the training split: 10 % of the training
# pairs are never trained on, and the dataset-level MI and CMI that weight the
# min-max loss (and drive its guard) are measured there, where the encoders
# cannot have memorised the labels (on the training samples both heads fit
# them and the CMI falls towards 0). Re-sampling still ranks the training
# samples; everything else as full ARM.
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
train_dataloader = dict(
    dataset=dict(holdout=dict(fraction=0.1, seed=0, part='train')))
custom_hooks = [dict(_base_.custom_hooks[0], value_on='held_out')]
