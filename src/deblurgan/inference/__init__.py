"""Deblurring images, folders and videos with a trained generator."""
