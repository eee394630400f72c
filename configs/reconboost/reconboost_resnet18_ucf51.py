# ReconBoost on UCF-51, standard ResNet-18s, on its joint config's 100-epoch
# schedule: the code's stages of 4 learner + 4 rectification epochs (12.5
# stages, audio first). See configs/reconboost/README.md.
_base_ = ['../joint/joint_concat_resnet18_ucf51.py',
          '../_base_/methods/reconboost.py']
model = _base_.reconboost_model
