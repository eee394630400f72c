# AV-Digits with the 'visual-dominant' preset (see armlab/datasets/avdigits/presets.py).
_base_ = './avdigits.py'
train_dataloader = dict(dataset=dict(preset='visual-dominant'))
val_dataloader = dict(dataset=dict(preset='visual-dominant'))
test_dataloader = dict(dataset=dict(preset='visual-dominant'))
