"""File input and output: images, videos, atomic writes."""
