"""Blind and non-blind deconvolution: the paper's comparison method (Xu et al. 2013, L0
prior) for camera shake, with hyper-Laplacian non-blind deconvolution (Krishnan and Fergus
2009). Plain numpy/scipy FFTs; no training, no PyTorch."""
