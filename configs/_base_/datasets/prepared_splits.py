# The three loaders of a benchmark written by a preparation tool
# (tools/data/prepare_*.py): annotations/{train,val,test}.json under the
# dataset's data_root, validation carved from training data. A dataset base
# names this file, its data_root and its pipelines; the epoch-level pass over
# the training split is derived from these loaders (train split, test
# pipeline), so no config spells it out.
dataset_type = 'MultimodalDataset'
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file='annotations/train.json',
                 test_mode=False),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file='annotations/val.json',
                 test_mode=True),
)
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='annotations/test.json'))
val_evaluator = dict(type='MultimodalAccuracy', topk=(1, 5))
test_evaluator = val_evaluator
