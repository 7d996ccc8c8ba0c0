"""Training DeblurGAN: configuration, data, losses, the GAN steps and the loop."""
