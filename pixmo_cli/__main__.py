import sys

from pixmo_cli.main import main

sys.exit(main())
