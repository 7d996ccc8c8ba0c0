"""``python -m deblurgan`` (also what ``torchrun -m deblurgan`` runs)."""

import sys

from deblurgan.cli import main

sys.exit(main())
