# AV-Digits with the 'balanced' preset (see armlab/datasets/avdigits/presets.py).
_base_ = './avdigits.py'
train_dataloader = dict(dataset=dict(preset='balanced'))
val_dataloader = dict(dataset=dict(preset='balanced'))
test_dataloader = dict(dataset=dict(preset='balanced'))
