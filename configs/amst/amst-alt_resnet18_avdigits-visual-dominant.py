# AMST-ALT on AV-Digits with the 'visual-dominant' preset: the dominant
# modality changes, so the skip factors swap with it.
_base_ = './amst-alt_resnet18_avdigits.py'
model = dict(balancer=dict(skip_factors=dict(audio=1, visual=2)))
train_dataloader = dict(dataset=dict(preset='visual-dominant'))
val_dataloader = dict(dataset=dict(preset='visual-dominant'))
test_dataloader = dict(dataset=dict(preset='visual-dominant'))
