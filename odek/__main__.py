"""``python -m odek`` runs the command line."""

from odek.cli.main import main

raise SystemExit(main())
