# Modality-level valuation with re-sampling (Wei et al., CVPR 2024) on
# AV-Digits (audio-dominant preset): the mean values over a random 20 % of
# the training set decide how many uniformly drawn copies train the weaker
# modality alone. Schedule and warm-up as the sample-level config.
_base_ = './valuation-sample_resnet18_avdigits.py'
warmup_epochs = 2
custom_hooks = [
    dict(type='ModalityValuationHook', level='modality',
         warmup_epochs=warmup_epochs,
         interval=1, part_ratio=0.2, alpha=1.0, func='linear', seed=0)
]
