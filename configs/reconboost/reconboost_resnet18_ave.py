# ReconBoost on AVE, standard ResNet-18s, on its joint config's 100-epoch
# schedule: the code's stages of 4 learner + 4 rectification epochs, and its
# AVE weight w1 = 4. See configs/reconboost/README.md.
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/reconboost.py']
model = dict(_base_.reconboost_model,
             balancer=dict(_base_.reconboost_model.balancer, w1=4.0))
