# DI-MML on AV-Digits with the 'visual-dominant' preset.
_base_ = './dimml_resnet18_avdigits.py'
train_dataloader = dict(dataset=dict(preset='visual-dominant'))
val_dataloader = dict(dataset=dict(preset='visual-dominant'))
test_dataloader = dict(dataset=dict(preset='visual-dominant'))
