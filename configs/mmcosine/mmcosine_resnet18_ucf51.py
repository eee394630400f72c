# MMCosine on UCF-51: its joint config with the cosine head (s = 10); see
# configs/mmcosine/README.md.
_base_ = ['../joint/joint_concat_resnet18_ucf51.py',
          '../_base_/methods/mmcosine.py']
model = _base_.mmcosine_model
