# Active learning on AV-Digits audio-dominant (7,000-sample pool): joint
# training, concat fusion, width-16 ResNet-18s, re-initialised every round.
# 100 random labels, then 100 per round for 4 rounds (100 -> 500 labels,
# 7% of the pool), 10 epochs per round at batch 16: sized so that 6
# strategies x 3 seeds run in about 2 hours on 2 CPU cores. Why these
# numbers: configs/active_learning/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py']

active_learning = dict(
    strategy='random',
    initial_budget=100,
    budget=100,
    num_rounds=4,
    epochs=None,  # None: train_cfg.max_epochs below
    reinit_each_round=True,
    checkpoint='best',  # best on the validation split, never test
    round0_from=None,
    work_root=None,
    reward_split='val',
    seed=0,
)

epochs_per_round = 10
# Workers end with each pass: a run builds a fresh runner every round, and
# persistent workers would outlive it. (Each round drops its last partial
# batch: armlab/active/round_training.py says why.)
train_dataloader = dict(batch_size=16, persistent_workers=False)
val_dataloader = dict(persistent_workers=False)
test_dataloader = dict(persistent_workers=False)
train_cfg = dict(max_epochs=epochs_per_round, val_interval=5)
param_scheduler = [
    dict(type='OneCycleLR', eta_max=0.05, begin=0, end=epochs_per_round,
         by_epoch=True, convert_to_iter_based=True)
]
# Checkpoint at the end of each round's training (and the val-best one):
# rounds are short, so a mid-round crash costs little to redo.
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=epochs_per_round))
