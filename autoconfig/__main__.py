from autoconfig.cli import main

main()
