"""Fine-tuning the cGAN generator on a folder of colour photos."""
