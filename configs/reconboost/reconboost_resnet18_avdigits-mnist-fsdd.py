# ReconBoost on the all-real AV-Digits variant (MNIST + FSDD speech), the
# same stages as on the embedded variant (reconboost_resnet18_avdigits.py).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/reconboost.py']
model = dict(_base_.reconboost_model,
             balancer=dict(_base_.reconboost_model.balancer,
                           learner_epochs=1, rectify_epochs=1))
