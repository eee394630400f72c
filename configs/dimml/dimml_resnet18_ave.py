# DI-MML on AVE, on its joint config's encoders and 100-epoch schedule:
# tau 10, tau_2 3 (the official AVE values). See configs/dimml/README.md.
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/dimml.py']
model = dict(_base_.dimml_model,
             fusion=dict(_base_.dimml_model.fusion, combine_temperature=3.0),
             balancer=dict(_base_.dimml_model.balancer, duc_temperature=10.0))
custom_hooks = _base_.dimml_custom_hooks
