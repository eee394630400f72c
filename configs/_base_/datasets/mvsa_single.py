# MVSA-Single (tweet image + text, negative / neutral / positive), prepared
# by tools/data/prepare_mvsa.py: one label per pair by the cleaning rule of
# armlab/datasets/preparation/mvsa.py, seeded stratified 8 : 1 : 1 splits
# (validation carved from the training part), vocab.json from train. The
# image + text pipelines of Food-101 (each image a one-frame clip), read from
# this root and its vocabulary.
_base_ = './food101.py'
data_root = 'data/mvsa_single'
vocab_file = data_root + '/vocab.json'
train_pipeline = [dict(step, vocab_file=vocab_file)
                  if step['type'] == 'Tokenize' else step
                  for step in _base_.train_pipeline]
test_pipeline = [dict(step, vocab_file=vocab_file)
                 if step['type'] == 'Tokenize' else step
                 for step in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(data_root=data_root,
                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root,
                                   pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(data_root=data_root,
                                    pipeline=test_pipeline))
