# CIDer on CMU-MOSI without the backdoor adjustment (a linear head on the
# joint representation): the MACI ablation.
_base_ = './cider_sequence_mosi.py'
model = dict(fusion=dict(adjust=False))
custom_hooks = []
