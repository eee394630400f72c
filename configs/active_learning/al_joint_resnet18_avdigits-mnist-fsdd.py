# Active learning on the all-real AV-Digits variant (MNIST + FSDD speech,
# speaker-disjoint splits), the variant whose fused accuracy has headroom
# (all 7,000 labels: joint 84.8 %, ARM 91.0 %). 500 random labels, then 250
# per round for 4 rounds (500 -> 1,500 labels, 7 % -> 21 % of the pool), 10
# epochs per round at batch 16. Chosen on validation (seed 0, round 0):
# joint training reaches 65.6 % val top-1 on 500 labels where the evidential
# model stays at 27-31 % (10-30 epochs; both before the partial-batch rule of
# round_training.py), so the learner leaves its cold start in round 0.
# Why: configs/active_learning/README.md.
_base_ = ['./al_joint_resnet18_avdigits.py',
          '../_base_/datasets/avdigits_mnist_fsdd_source.py']
active_learning = dict(initial_budget=500, budget=250, num_rounds=4)
data_root = _base_.mnist_fsdd_root
build_cfg = _base_.mnist_fsdd_build_cfg
train_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
val_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
test_dataloader = dict(dataset=dict(data_root=data_root, build_cfg=build_cfg))
