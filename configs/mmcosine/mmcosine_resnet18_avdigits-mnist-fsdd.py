# MMCosine on the all-real AV-Digits variant (MNIST + FSDD speech): its joint
# config with the cosine head (s = 10); see configs/mmcosine/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/mmcosine.py']
model = _base_.mmcosine_model
