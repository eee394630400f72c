# Where the all-real AV-Digits variant (MNIST + FSDD speech) lives and how it
# is built: read by every config that points AV-Digits loaders at it
# (avdigits_mnist_fsdd.py and the active-learning configs).
mnist_fsdd_root = 'data/avdigits/mnist_fsdd'
mnist_fsdd_build_cfg = dict(visual_source='mnist', audio_source='fsdd',
                            mnist_path='data/mnist10k.npz', fsdd_path='data/fsdd',
                            fsdd_split='speaker')
