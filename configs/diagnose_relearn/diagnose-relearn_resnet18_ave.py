# Diagnosing & Re-learning on AVE, standard ResNet-18s, concat fusion, on
# its joint config's 100-epoch schedule (diagnoses before epochs 20, 40, 60);
# see configs/diagnose_relearn/README.md.
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/diagnose_relearn.py']
custom_hooks = _base_.diagnose_relearn_custom_hooks
