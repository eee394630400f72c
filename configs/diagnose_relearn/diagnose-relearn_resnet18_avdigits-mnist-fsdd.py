# Diagnosing & Re-learning on the all-real AV-Digits variant (MNIST + FSDD
# speech), the same settings as on the embedded variant.
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/diagnose_relearn.py']
# Diagnoses before epochs 2, 4 and 6 of 8: the code's 20, 40, 60 of 90, scaled.
custom_hooks = [dict(_base_.diagnose_relearn_hook, reinit_every=2)]
