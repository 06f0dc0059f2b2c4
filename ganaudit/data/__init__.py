"""Data: the images every stage reads.

==============  ===========================================================================================
module          owns
==============  ===========================================================================================
`images`        one image group at a time (`build_group`, `read_group`, `ImageGroup`), uint8 ↔ model scale
`sources`       where images come from: MNIST and the out-of-distribution sets shipped offline, image
                folders, CIFAR / SVHN files on disk, constant colours, noise
`roles`         the groups' roles: generated groups, own-class groups, the inlier group of outlier detection
`evaluation`    what stages share about (image, class) pairs: which to evaluate, scattering into ``[N, K]``,
                shard ranges, the class mixture, σ² from reconstruction errors
`stats`         statistics of images and estimates: patch coefficient of variation, correlations, bits/dim,
                PSNR, log-mean-exp
==============  ===========================================================================================
"""
