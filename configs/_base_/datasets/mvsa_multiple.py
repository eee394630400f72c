# MVSA-Multiple (three annotators per pair; a majority per modality first,
# then the MVSA-Single rule: armlab/datasets/preparation/mvsa.py), prepared
# by tools/data/prepare_mvsa.py; otherwise as mvsa_single.py.
_base_ = './mvsa_single.py'
data_root = 'data/mvsa_multiple'
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
