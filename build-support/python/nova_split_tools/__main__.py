import sys

from nova_split_tools.cli import main

sys.exit(main())
