"""Object detection (Darknet YOLOv3-tiny in torch) and the paper's detection benchmark."""
