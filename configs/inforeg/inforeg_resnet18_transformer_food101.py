# InfoReg on UPMC Food-101 (image + text), concat fusion, on its joint
# config's schedule; see configs/inforeg/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/inforeg.py']
model = _base_.inforeg_model
custom_hooks = _base_.inforeg_custom_hooks
