# CIDer on CMU-MOSI trained on the complete view only (no masked pass, no
# self-distillation): the MSSD ablation.
_base_ = './cider_sequence_mosi.py'
model = dict(balancer=dict(_delete_=True, type='JointTraining'))
