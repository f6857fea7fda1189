from devbox.cli.entry import main

main()
