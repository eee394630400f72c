from setuptools import find_packages, setup


def _version() -> str:
    scope: dict = {}
    with open('armlab/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


# Pinned to the stack known to work (see docs/install.md). Never `mmcv`: the
# `mmcv-lite` distribution provides the `mmcv` module without compiled ops.
INSTALL_REQUIRES = [
    'torch==2.14.1',
    'torchvision==0.29.1',
    'setuptools>=77.0.3,<81',
    'numpy>=2,<3',
    'mmengine==0.10.7',
    'mmcv-lite==2.2.0',
    'mmpretrain==1.2.0',
    'librosa==0.11.0',
    'soundfile==0.14.0',
    'scipy',
    'scikit-learn',
    'threadpoolctl',
    'espeakng-loader==0.2.4',
    'matplotlib',
    'tqdm',
]

setup(
    name='armlab',
    version=_version(),
    description='Toolbox for imbalanced multimodal learning (ARM and baselines)',
    long_description=open('README.md').read() if __import__('os').path.exists(
        'README.md') else '',
    long_description_content_type='text/markdown',
    python_requires='>=3.10',
    packages=find_packages(exclude=('tests', 'configs', 'tools')),
    install_requires=INSTALL_REQUIRES,
    extras_require={
        # PyAV decodes and encodes video for tools/data (ffmpeg also works).
        'video': ['av>=12'],
        'tests': ['pytest>=7', 'pytest-timeout', 'av>=12'],
    },
    license='Apache-2.0',
)
