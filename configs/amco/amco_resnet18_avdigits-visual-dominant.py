# AMCo on AV-Digits with the 'visual-dominant' preset.
_base_ = './amco_resnet18_avdigits.py'
train_dataloader = dict(dataset=dict(preset='visual-dominant'))
val_dataloader = dict(dataset=dict(preset='visual-dominant'))
test_dataloader = dict(dataset=dict(preset='visual-dominant'))
