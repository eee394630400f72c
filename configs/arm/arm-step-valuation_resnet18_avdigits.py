# ARM valued from its training steps (ARMHook valuation='steps'), embedded
# AV-Digits; see arm-step-valuation_resnet18_avdigits-mnist-fsdd.py.
_base_ = './arm_resnet18_avdigits.py'
custom_hooks = [dict(_base_.custom_hooks[0], valuation='steps')]
