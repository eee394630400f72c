# Diagnosing & Re-learning on IEMOCAP (audio + visual + text features): each
# encoder diagnosed and re-initialised on its own; see
# configs/diagnose_relearn/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/diagnose_relearn.py']
# Diagnoses before epochs 7, 14 and 21 of 30: the code's 20, 40, 60 of 90.
custom_hooks = [dict(_base_.diagnose_relearn_hook, reinit_every=7)]
