from devbox._entry import main

main()
