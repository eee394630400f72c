# ARM on AV-Digits with the 'balanced' preset.
_base_ = './arm_resnet18_avdigits.py'
train_dataloader = dict(dataset=dict(preset='balanced'))
val_dataloader = dict(dataset=dict(preset='balanced'))
test_dataloader = dict(dataset=dict(preset='balanced'))
