# LFM on VGGSound, standard ResNet-18s, separate heads, on its joint config's
# schedule; see configs/lfm/README.md.
_base_ = ['../joint/joint_concat_resnet18_vggsound.py',
          '../_base_/methods/lfm.py']
model = _base_.lfm_model
