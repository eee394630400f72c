# LFM on AVE, standard ResNet-18s, separate heads, on its joint config's
# schedule; see configs/lfm/README.md.
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/lfm.py']
model = _base_.lfm_model
