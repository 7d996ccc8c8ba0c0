"""``deblurgan serve``: a local web page to deblur photos without the terminal."""
