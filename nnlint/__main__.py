"""`python -m nnlint`."""

import sys

from nnlint.cli import main

sys.exit(main())
