# MMCosine on Kinetics-Sounds: its joint config with the cosine head (s = 10);
# see configs/mmcosine/README.md.
_base_ = ['../joint/joint_concat_resnet18_kinetics_sounds.py',
          '../_base_/methods/mmcosine.py']
model = _base_.mmcosine_model
