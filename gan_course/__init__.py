"""gan_course: a course on Generative Adversarial Networks with MNIST, and the small GAN toolkit for fastai its lessons export.

Lessons and API docs: https://gan-course.github.io/gan_course/ (the command line: `gan-course --help`)."""
__version__ = "0.0.1"

import warnings
# fastai's imports call `torch.jit.script`, which PyTorch 2.14 deprecates with a FutureWarning that no user of this package can act on
warnings.filterwarnings('ignore', message=r'`torch\.jit\.script` is deprecated', category=FutureWarning)
