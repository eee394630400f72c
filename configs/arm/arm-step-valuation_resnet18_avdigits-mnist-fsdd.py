# ARM valued from its training steps (ARMHook valuation='steps'): the epoch's
# MI / CMI and the re-sampling scores come from the values the balancer
# computes in every step, so no eval-mode pass over the training split runs.
_base_ = './arm_resnet18_avdigits-mnist-fsdd.py'
custom_hooks = [dict(_base_.custom_hooks[0], valuation='steps')]
