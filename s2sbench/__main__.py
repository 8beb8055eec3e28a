from s2sbench.cli.main import main

raise SystemExit(main())
