"""The manifold half of the audit (paper section 3): does the GAN's manifold pass through an image?

==================  =======================================================================================
module              owns
==================  =======================================================================================
`distances`         MSE, PSNR, the perceptual distance and its exact Euclidean embedding
`inversion`         `invert` (Z space, nearest-of-N, Adam + cosine, restarts) and the stage `invert_group`
`classification`    classification and outlier detection from score matrices (reconstruction errors here,
                    log-likelihoods in `ganaudit.density.summaries`), AUROC, the 1NN search
==================  =======================================================================================
"""
