"""Evaluating deblurring: datasets, PSNR/SSIM scoring, reports and pictures."""
